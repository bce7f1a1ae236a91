"""The commands that ask a model: generate (and its dry run), regen, batch and chat."""

from __future__ import annotations

import argparse
import sys

from ..errors import TopicIndexError

TYPE_CHECKING = False  # typing, pathlib and the rest load only for the command that runs
if TYPE_CHECKING:
    from typing import Any, TextIO

    from ..compose import Topic
    from ..config import Settings

# Heavy modules (pydantic, jinja2, markdown-it, rich, the SDKs) load inside the command that
# needs them.


def _topics(args: argparse.Namespace) -> list[Topic]:
    from ..compose import Topic, parse_index, read_index, topics_from_args

    if args.index and args.topics:
        raise TopicIndexError("give topics as arguments or --index FILE, not both")
    if args.index:
        topics = (parse_index(sys.stdin.read(), "<stdin>") if str(args.index) == "-"
                  else read_index(args.index))
        if args.question:
            topics = [Topic(t.title, t.category, t.question or args.question, t.context)
                      for t in topics]
        return topics
    if not args.topics:
        raise TopicIndexError("no topics: give them as arguments or with --index FILE")
    return topics_from_args(args.topics, args.question)


def _cmd_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import logging
    import signal

    from ..api import generate, submit
    from ..config import load_settings
    from ..providers import register_secret, url_password
    from ..run import make_display, print_summary

    cli_values: dict[str, Any] = {
        key: getattr(args, key)
        for key in ("provider", "model", "base_url", "persona", "out", "attempts", "retries",
                    "max_wait", "temperature", "max_tokens", "timeout", "answer_timeout",
                    "concurrency", "stream", "rpm", "tpm",
                    "workers", "continuations", "diagram_check", "max_cost",
                    "personas_dir")
    }
    settings, sources = load_settings(cli_values)
    register_secret(url_password(settings.base_url))  # before any line could show it
    logging.getLogger("sdgen").debug(
        "settings: %s", {k: f"{getattr(settings, k)!r} ({v})" for k, v in sources.items()})
    topics = _topics(args)

    if args.dry_run:
        return _dry_run(topics, settings, args.show_prompts, out)
    if args.batch_api:
        state = submit(topics, settings=settings, force=args.force)
        if state is None:
            print("every note is up to date: nothing to submit", file=err)
            return 0
        print(f"submitted batch {state.batch_id} to {state.provider}: {len(state.topics)} "
              f"request(s). Next: sdgen batch status --out {settings.out}; then "
              f"sdgen batch collect --out {settings.out}", file=err)
        return 0
    display = make_display(err, args.quiet, args.verbose)
    result = generate(topics, settings=settings, display=display,
                      record=args.record, replay=args.replay, force=args.force)
    if not args.quiet or not result.ok:
        print_summary(result, err)
    if result.interrupted:
        return 128 + signal.Signals[result.interrupted].value  # 130 for SIGINT, 143 for SIGTERM
    if result.stopped:
        return 2  # a rejected key: fix the configuration, nothing else will work
    if result.capped:
        return 3  # the spending cap: finished notes are kept; a higher cap finishes the rest
    return 0 if result.ok else 1


def _dry_run(topics: list[Topic], settings: Settings, show_prompts: bool, out: TextIO) -> int:
    from ..api import cap_covers, plan
    from ..budget import prices_checked
    from ..providers import default_model

    planned = plan(topics, settings=settings)
    covered = cap_covers(planned, settings)
    header = ["topic", "persona", "messages", "characters", "input tokens", "output budget",
              "max cost"]
    rows = [estimate.row() for _, estimate in planned]
    costs = [e.cost for _, e in planned]
    total_cost = f"${sum(c for c in costs if c is not None):.4f}" if any(
        c is not None for c in costs) else "n/a"
    rows.append(["TOTAL", "", str(sum(e.messages for _, e in planned)),
                 f"{sum(e.characters for _, e in planned):,}",
                 f"{sum(e.input_tokens for _, e in planned):,}",
                 f"{sum(e.output_budget for _, e in planned):,}", total_cost])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))), file=out)
    methods = sorted({e.method for _, e in planned})
    model = settings.model or default_model(settings.provider) or "unknown"
    print(f"model {model}; input tokens counted by {', '.join(methods)}; max cost = input + the "
          f"whole output budget at list price (prices checked {prices_checked()}; override "
          "them in sdgen.toml [prices])", file=out)
    if covered is not None:
        print(f"spending cap ${settings.max_cost:.4f}: "
              f"{'covers the whole run' if covered else 'does NOT cover the worst case'} "
              f"(worst case {total_cost})", file=out)
    if show_prompts:
        for prompt, _ in planned:
            print(f"\n===== {prompt.topic.title} ({prompt.persona}) =====", file=out)
            for message in prompt.messages:
                print(f"--- {message.role} ---\n{message.content}", file=out)
    return 0



def _cmd_regen(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..api import regenerate_sections
    from ..check import ValidationOptions, checklist
    from ..config import load_settings
    from ..vault import read_note

    if args.list:
        note = read_note(args.note, None, args.personas_dir or [])
        settings, _ = load_settings({"diagram_check": args.diagram_check})
        report = note.report(ValidationOptions(diagram_check=settings.diagram_check))
        for number, section in enumerate(report.sections, start=1):
            state = ("ok" if not section.problems else "FAIL") if section.found else (
                "absent" if not section.required else "MISSING")
            print(f"{number:>2}. {state:8} {section.title}", file=out)
            for problem in section.problems:
                print(f"              - {problem}", file=out)
        if note.edited:
            print("(edited by hand since sdgen wrote it: regen needs --force)", file=out)
        return 0 if report.valid else 1
    result = regenerate_sections(
        args.note, args.section or [], invalid=args.invalid, instructions=args.instructions,
        force=args.force, record=args.record, replay=args.replay, provider=args.provider,
        model=args.model, base_url=args.base_url, attempts=args.attempts,
        max_cost=args.max_cost, personas_dir=args.personas_dir, diagram_check=args.diagram_check)
    if not result.sections:
        print(f"{args.note}: every section is valid; nothing to regenerate", file=err)
        return 0
    names = ", ".join(repr(s) for s in result.sections)
    tokens = sum(c.usage.input_tokens + c.usage.output_tokens for c in result.completions)
    if result.ok:
        # The note's should findings, counted as generate counts them (and listed with -v).
        findings = checklist(result.report).findings
        count = f" ({len(findings)} finding{'s' if len(findings) != 1 else ''})" if findings \
            else ""
        print(f"regenerated {names} in {args.note} ({len(result.completions)} call(s), "
              f"{tokens:,} tokens){count}", file=err)
        for finding in findings if args.verbose else ():
            print(f"    - {finding}", file=err)
        return 0
    problems = result.report.summary() if result.report else []
    print(f"sdgen: could not regenerate {names}: {'; '.join(problems[:3]) or 'no valid answer'}"
          f"; {args.note} is unchanged", file=err)
    return 1


def _cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..api import batches, collect
    from ..run import make_display, print_summary

    if args.batch_command == "status":
        found = batches(args.out)
        if not found:
            print("no uncollected batches", file=out)
        for state, status in found:
            counts = ", ".join(f"{k} {v}" for k, v in status.counts.items())
            print(f"{state.batch_id}  {state.provider}/{state.model}  {status.state}"
                  f"{' (ended: collect it)' if status.ended else ''}  {counts}", file=out)
        return 0
    code = 0
    for state, result in collect(args.out, make_display(err, args.quiet, args.verbose)):
        if result is None:
            print(f"{state.batch_id}: still running; collect it later", file=err)
            continue
        print_summary(result, err)
        code = max(code, 3 if result.capped else 0 if result.ok else 1)
    return code




def _cmd_chat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..api import chat
    from ..run import ChatIO

    def ask(prompt: str) -> str | None:
        out.write(prompt)
        out.flush()
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None

    print('Answer the questions; say "That\'s all" (or press Ctrl-D) when you are done.\n',
          file=err)
    outcome = chat(args.topic, ChatIO(ask, out), record=args.record, replay=args.replay,
                   **{k: v for k, v in {"persona": args.persona, "provider": args.provider,
                                        "model": args.model, "base_url": args.base_url,
                                        "out": args.out, "personas_dir": args.personas_dir,
                                        "diagram_check": args.diagram_check}.items()
                      if v is not None})
    if outcome.status == "written":
        print(f"note written: {outcome.path}", file=err)
        return 0
    print(f"sdgen: the note is not valid ({outcome.reason}); the draft is kept at {outcome.path}",
          file=err)
    return 1
