"""The command line: parse arguments, call the library, turn errors into a line and an exit code.

Exit codes: 0 success; 1 a topic failed or a note is invalid; 2 bad input or configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ._version import __version__
from .errors import NoteError, SdgenError, TopicIndexError

TYPE_CHECKING = False  # typing, pathlib and the rest load only for the command that runs
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, NoReturn, TextIO

    from .check import Report
    from .compose import Topic
    from .config import Settings

# Heavy modules (pydantic, jinja2, markdown-it, rich, the SDKs) load inside the command that
# needs them: `sdgen --version`, `--help` and argument errors cost little more than Python itself.



def _persona_names(**_: object) -> list[str]:
    """Completion of persona names (built-in, and those of SDGEN_PERSONAS_DIR)."""
    from .compose import list_personas
    from .config import load_settings

    return sorted(list_personas(load_settings()[0].personas_dir))


def _personas(action: argparse.Action) -> argparse.Action:
    action.completer = _persona_names  # type: ignore[attr-defined]  # argcomplete reads it
    return action


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


class _Parser(argparse.ArgumentParser):
    """Argument errors are one line and a hint, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\nhint: {self.prog} --help\n")


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


_HELP: dict[str, Any] = {"formatter_class": argparse.RawDescriptionHelpFormatter}
_NO_DIAGRAM_CHECK = "do not check Mermaid diagrams with Mermaid's parser"
_PROVIDER = ("openai (default), anthropic, openai-compatible, or a plug-in's name "
             "(`sdgen providers` lists them)")


def _model_options(group: argparse._ArgumentGroup, note_default: bool = False) -> None:
    default = " (default: the note's own)" if note_default else ""
    group.add_argument("--provider", help=_PROVIDER + default)
    group.add_argument("--model", help=f"model name{default}")
    group.add_argument("--base-url", help="API base URL (OpenAI-compatible servers, proxies)")


def _cap_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--max-cost", type=float, metavar="USD",
                       help="spending cap: no request starts that could cross it (its input "
                            "and whole output budget at list price); exit 3 when reached")


def _recording_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--record", type=_path, metavar="DIR",
                       help="store every exchange under DIR (readable YAML, no secrets)")
    group.add_argument("--replay", type=_path, metavar="DIR",
                       help="answer from recordings in DIR: no network, no key")


def _generate_parser(sub: Any, common: _Parser) -> None:
    gen = sub.add_parser("generate", help="write one note per topic", parents=[common],
                         epilog=_examples(
                             'sdgen generate "Rate Limiter" "URL Shortener" --persona senior',
                             "sdgen generate --index topics.yaml --out notes --concurrency 8",
                             "printf 'Rate Limiter\\n' | sdgen generate --index - --dry-run"),
                         **_HELP)
    given = gen.add_argument_group("input")
    given.add_argument("topics", nargs="*", metavar="TOPIC", help="topics (or use --index)")
    given.add_argument("--index", type=_path,
                       help="topic index: .txt, .yaml or Markdown outline; '-' reads it from "
                            "standard input")
    _personas(given.add_argument("--persona", help="persona name (default: obsidian)"))
    given.add_argument("--question", help="a specific question, for personas that take one")
    given.add_argument("--personas-dir", type=_path, action="append",
                       help="an extra folder of personas (repeatable)")
    model = gen.add_argument_group("model")
    _model_options(model)
    model.add_argument("--temperature", type=float, help="sampling temperature (default: the "
                                                         "model's own)")
    model.add_argument("--max-tokens", type=int,
                       help="output budget of each call (default 16000; a persona may cap it)")
    model.add_argument("--no-stream", dest="stream", action="store_const", const=False,
                       help="ask for whole answers instead of streams")
    model.add_argument("--batch-api", action="store_true",
                       help="submit through the provider's batch API (about half the price); "
                            "then `sdgen batch status` and `sdgen batch collect`")
    output = gen.add_argument_group("output")
    output.add_argument("--out", type=_path, help="output folder (default: output)")
    output.add_argument("--force", action="store_true",
                        help="make every note again, even unchanged or hand-edited ones")
    output.add_argument("--no-diagram-check", dest="diagram_check", action="store_const",
                        const=False, help=_NO_DIAGRAM_CHECK)
    output.add_argument("--dry-run", action="store_true",
                        help="make no call: print sizes, token and cost estimates per topic")
    output.add_argument("--show-prompts", action="store_true",
                        help="with --dry-run, print the composed prompts too")
    control = gen.add_argument_group("run control")
    control.add_argument("--attempts", type=int,
                         help="answers per topic, repairs included (default 2)")
    control.add_argument("--continuations", type=int,
                         help="follow-ups for an answer cut at the output limit (default 2)")
    control.add_argument("--retries", type=int,
                         help="tries of one request on 429/5xx/timeouts (default 5)")
    control.add_argument("--max-wait", type=float,
                         help="longest pause between retries, in seconds (default 60)")
    control.add_argument("--timeout", type=float,
                         help="seconds to wait for each read of a response (default 600)")
    control.add_argument("--answer-timeout", type=float, metavar="SECONDS",
                         help="the most one answer may take, request to last byte; past it "
                              "the call is retried like a timeout (default 1800)")
    control.add_argument("--concurrency", type=int, help="requests in flight at once (default 4)")
    _cap_option(control)
    control.add_argument("--rpm", type=float, help="requests per minute for the whole run")
    control.add_argument("--tpm", type=float, help="tokens per minute for the whole run")
    control.add_argument("--workers", type=int,
                         help="processes for validating and formatting (default: one per core "
                              "but one, at most 4, for online runs of 16 topics or more; 0: none)")
    _recording_options(gen.add_argument_group("recording"))


def _regen_parser(sub: Any, common: _Parser) -> None:
    regen = sub.add_parser("regen", help="regenerate sections of a note in place",
                           parents=[common], epilog=_examples(
                               'sdgen regen notes/obsidian/rate-limiter.md --section "api design"',
                               "sdgen regen notes/obsidian/rate-limiter.md --invalid",
                               "sdgen regen notes/obsidian/rate-limiter.md --list"), **_HELP)
    regen.add_argument("note", type=_path, help="the note to change")
    what = regen.add_mutually_exclusive_group(required=True)
    what.add_argument("--section", action="append", metavar="NAME",
                      help="section by name or number (loose: 'api design', '5'); repeatable")
    what.add_argument("--invalid", action="store_true",
                      help="regenerate exactly the sections that fail validation")
    what.add_argument("--list", action="store_true", help="list the sections and their state")
    regen.add_argument("--instructions", help="what to change, in your words")
    regen.add_argument("--force", action="store_true",
                       help="regenerate even if the note was edited by hand")
    regen.add_argument("--attempts", type=int, help="answers, repairs included (default 2)")
    _cap_option(regen)
    regen.add_argument("--personas-dir", type=_path, action="append",
                       help="an extra folder of personas (repeatable)")
    regen.add_argument("--no-diagram-check", dest="diagram_check", action="store_const",
                       const=False, help=_NO_DIAGRAM_CHECK)
    _model_options(regen.add_argument_group("model"), note_default=True)
    _recording_options(regen.add_argument_group("recording"))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sdgen", description="System-design study notes from an LLM, "
                                               "validated per persona.")
    parser.add_argument("--version", action="version", version=f"sdgen {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logs and tracebacks")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    # -v and -q are accepted after the subcommand too, where users type them.
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show debug logs and tracebacks")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _generate_parser(sub, common)

    personas = sub.add_parser("personas", help="list personas, or show one's composed prompt",
                              parents=[common], epilog=_examples(
                                  "sdgen personas", "sdgen personas show emoji --topic Kafka",
                                  "sdgen personas show visual --repairs"), **_HELP)
    personas.add_argument("--personas-dir", type=_path, action="append",
                          help="an extra folder of personas (repeatable)")
    psub = personas.add_subparsers(dest="personas_command", parser_class=_Parser)
    show = psub.add_parser("show", help="print a persona's composed system prompt",
                           parents=[common])
    _personas(show.add_argument("name", help="the persona to show"))
    show.add_argument("--topic", default="Design a URL shortener",
                      help="the topic to compose it for (default: Design a URL shortener)")
    show.add_argument("--question", help="a specific question, for personas that take one")
    show.add_argument("--repairs", action="store_true", help="list the seed's mojibake repairs")
    show.add_argument("--personas-dir", type=_path, action="append",
                      help="an extra folder of personas (repeatable)")

    val = sub.add_parser("validate", help="check a note against its persona's schema",
                         parents=[common], epilog=_examples(
                             "sdgen validate notes/obsidian/rate-limiter.md",
                             "sdgen validate notes                 # every note of the vault",
                             "sdgen validate answer.md --persona senior --json"), **_HELP)
    val.add_argument("files", type=_path, nargs="+", metavar="NOTE",
                     help="notes (or raw answers) to check, or folders of notes")
    _personas(val.add_argument("--persona",
                               help="persona (default: from the note's front matter)"))
    val.add_argument("--json", action="store_true", help="print the report as JSON")
    val.add_argument("--personas-dir", type=_path, action="append",
                     help="an extra folder of personas (repeatable)")
    val.add_argument("--topic", help="the topic the note must be about (default: from its front "
                                     "matter)")
    val.add_argument("--no-diagram-check", dest="diagram_check", action="store_const", const=False,
                     help=_NO_DIAGRAM_CHECK)
    _regen_parser(sub, common)

    batch = sub.add_parser("batch", help="provider batches: status, collect",
                           epilog=_examples("sdgen batch status --out notes",
                                            "sdgen batch collect --out notes"), **_HELP)
    bsub = batch.add_subparsers(dest="batch_command", required=True, parser_class=_Parser)
    for name, text in (("status", "where each submitted batch stands"),
                       ("collect", "validate, repair and write every ended batch")):
        cmd = bsub.add_parser(name, help=text, parents=[common])
        cmd.add_argument("--out", type=_path, help="the output folder the batch was submitted for")

    talk = sub.add_parser("chat", help="hold the interview conversation in the terminal",
                          parents=[common], epilog=_examples(
                              'sdgen chat "Design a ride-hailing service"',
                              'sdgen chat "Design Dropbox" --provider anthropic'), **_HELP)
    talk.add_argument("topic", help='what to design, e.g. "Design a ride-hailing service"')
    _personas(talk.add_argument("--persona",
                                help="a conversation persona (default: interview)"))
    talk.add_argument("--out", type=_path, help="output folder (default: output)")
    talk.add_argument("--personas-dir", type=_path, action="append",
                      help="an extra folder of personas (repeatable)")
    talk.add_argument("--no-diagram-check", dest="diagram_check", action="store_const",
                      const=False, help=_NO_DIAGRAM_CHECK)
    _model_options(talk.add_argument_group("model"))
    _recording_options(talk.add_argument_group("recording"))

    link = sub.add_parser("link", help="link the notes of an output folder to each other",
                          parents=[common], epilog=_examples("sdgen link --out notes"), **_HELP)
    link.add_argument("--out", type=_path, help="the output folder (default: output)")

    site = sub.add_parser(
        "site", help="build a static website of the notes (mkdocs-material)", parents=[common],
        description="Build a static website of an output folder: navigation by persona and "
                    "category, search, callouts, links and Mermaid diagrams drawn in the page, "
                    "with nothing fetched from another host. Needs: pip install 'sdgen[site]'",
        epilog=_examples("sdgen site --out output --site site",
                         "python -m http.server --directory site 8000   # then open "
                         "http://127.0.0.1:8000",
                         "sdgen site --strict   # exit 1 when a diagram or a link is broken"),
        **_HELP)
    site.add_argument("--out", type=_path, help="the output folder (default: output)")
    site.add_argument("--site", type=_path, default=None,
                      help="where the site is written, replacing a previous build (default: site)")
    site.add_argument("--source", type=_path, default=None, metavar="DIR",
                      help="also keep the site's mkdocs source here (mkdocs.yml and pages), "
                           "for mkdocs build or mkdocs serve")
    site.add_argument("--strict", action="store_true",
                      help="exit 1 when a diagram does not parse, a link leads nowhere, or "
                           "mkdocs warns (the site is built all the same)")
    site.add_argument("--no-diagram-check", dest="diagram_check", action="store_false",
                      help=_NO_DIAGRAM_CHECK)

    sub.add_parser("providers", help="list the registered providers")
    completion = sub.add_parser(
        "completion", help="print the shell completion script: bash, zsh or fish",
        description="Print a completion script for your shell. Install it with one line:\n"
                    "  bash: echo 'eval \"$(sdgen completion bash)\"' >> ~/.bashrc\n"
                    "  zsh:  echo 'eval \"$(sdgen completion zsh)\"' >> ~/.zshrc\n"
                    "  fish: sdgen completion fish > ~/.config/fish/completions/sdgen.fish",
        **_HELP)
    completion.add_argument("shell", choices=["bash", "zsh", "fish"], help="your shell")
    return parser


def _topics(args: argparse.Namespace) -> list[Topic]:
    from .compose import Topic, parse_index, read_index, topics_from_args

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

    from .api import generate, submit
    from .config import load_settings
    from .providers import register_secret, url_password
    from .run import make_display, print_summary

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
    result = generate(topics, settings=settings, display=make_display(err, args.quiet),
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
    from .api import cap_covers, plan
    from .budget import prices_checked
    from .providers import default_model

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


def _cmd_personas(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .compose import Topic, compose, list_personas, load_persona

    roots = args.personas_dir or []
    if args.personas_command != "show":
        for name in list_personas(roots):
            persona = load_persona(name, roots)
            print(f"{name:12} {persona.spec.description}", file=out)
        return 0
    persona = load_persona(args.name, roots)
    if args.repairs:
        if not persona.seed_fixes:
            print(f"{persona.name}: the seed needed no choice between candidates", file=out)
        for fix in persona.seed_fixes:
            print(fix.describe(), file=out)
        return 0
    prompt = compose(persona, Topic(args.topic, question=args.question))
    print(prompt.system, end="", file=out)
    return 0


def _notes_named(paths: list[Path]) -> list[Path]:
    """The files named, and the topic notes of each folder named (drafts and indexes apart)."""
    from .vault import walk_notes

    found: list[Path] = []
    for path in paths:
        found += [note for note, _ in walk_notes(path)] if path.is_dir() else [path]
    return list(dict.fromkeys(found))


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import json

    from .api import validate_note
    from .config import load_settings

    settings, _ = load_settings({"diagram_check": args.diagram_check})
    notes = _notes_named(args.files)
    if not notes:
        raise NoteError(f"{', '.join(map(str, args.files))}: no notes to validate")
    if len(args.files) == 1 and not args.files[0].is_dir():
        report = validate_note(notes[0], args.persona, args.personas_dir or [],
                               diagram_check=settings.diagram_check, topic=args.topic)
        return _print_report(notes[0], report, args.json, out)
    # Many notes: a line each (the failures of an invalid one under it), then a count.
    counts = {"valid": 0, "invalid": 0, "unreadable": 0}
    reports = []
    for note in notes:
        try:
            report = validate_note(note, args.persona, args.personas_dir or [],
                                   diagram_check=settings.diagram_check, topic=args.topic)
        except NoteError as exc:
            counts["unreadable"] += 1
            print(f"{exc}", file=err)
            continue
        if report.kind == "index":
            continue
        counts["valid" if report.valid else "invalid"] += 1
        if args.json:
            reports.append({"note": str(note), **report.as_json()})
            continue
        print(f"{'ok' if report.valid else 'INVALID':8} {note} ({report.persona})", file=out)
        problems = report.summary() if not report.valid else []
        for problem in problems[:5]:
            print(f"         - {problem}", file=out)
        if len(problems) > 5:
            print(f"         … and {len(problems) - 5} more (sdgen validate {note})", file=out)
    if args.json:
        print(json.dumps(reports, ensure_ascii=False, indent=2), file=out)
    checked = counts["valid"] + counts["invalid"]
    print(f"{checked} note(s): {counts['valid']} valid, {counts['invalid']} invalid"
          + (f", {counts['unreadable']} unreadable" if counts["unreadable"] else ""),
          file=err if args.json else out)
    return 2 if counts["unreadable"] else 1 if counts["invalid"] else 0


def _print_report(path: Path, report: Report, as_json: bool, out: TextIO) -> int:
    """One note's report, section by section; its exit code."""
    import json

    if report.kind == "index":
        if as_json:
            print(json.dumps(report.as_json(), ensure_ascii=False, indent=2), file=out)
        else:
            print(f"{path}: an index note, not a topic note (nothing to validate)", file=out)
        return 0
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2), file=out)
    else:
        for section in report.sections:
            state = "ok" if not section.problems else "FAIL"
            if not section.found and not section.required:
                state = "absent (optional)"
            print(f"{state:8} {section.title}", file=out)
            for problem in section.problems:
                print(f"         - {problem}", file=out)
            for warning in section.warnings:
                print(f"         ~ {warning}", file=out)
        for problem in report.problems:
            print(f"FAIL     {problem}", file=out)
        for warning in report.warnings:
            print(f"warn     {warning}", file=out)
        print(f"{path}: {'valid' if report.valid else 'INVALID'} ({report.persona})", file=out)
    return 0 if report.valid else 1


def _cmd_regen(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .api import regenerate_sections
    from .check import ValidationOptions
    from .config import load_settings
    from .vault import read_note

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
        print(f"regenerated {names} in {args.note} ({len(result.completions)} call(s), "
              f"{tokens:,} tokens)", file=err)
        return 0
    problems = result.report.summary() if result.report else []
    print(f"sdgen: could not regenerate {names}: {'; '.join(problems[:3]) or 'no valid answer'}"
          f"; {args.note} is unchanged", file=err)
    return 1


def _cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .api import batches, collect
    from .run import make_display, print_summary

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
    for state, result in collect(args.out, make_display(err, args.quiet)):
        if result is None:
            print(f"{state.batch_id}: still running; collect it later", file=err)
            continue
        print_summary(result, err)
        code = max(code, 3 if result.capped else 0 if result.ok else 1)
    return code


def _cmd_link(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .api import link_notes

    report = link_notes(args.out)
    if args.quiet:
        return 0  # nothing went wrong: nothing to say
    print(f"{report.links} link(s) added in {len(report.rewritten)} of {report.notes} note(s)",
          file=out)
    for path in report.edited:
        print(f"kept as edited by hand (not linked): {path}", file=out)
    for path in report.read_only:
        print(f"kept as read-only (not linked): {path}", file=out)
    return 0


def _cmd_site(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import contextlib
    from pathlib import Path

    from .api import build_site
    from .site import require_mkdocs

    require_mkdocs()
    site = args.site or Path("site")
    status: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if not args.quiet and err.isatty():  # a large vault takes a while (about 0.1 s a note)
        from rich.console import Console

        status = Console(file=err).status(f"building the site {site} ...")
    with status:
        result = build_site(args.out, site, diagram_check=args.diagram_check, source=args.source)
    for problem in result.problems:
        print(f"problem: {problem}", file=err)
    for warning in result.warnings:
        print(f"mkdocs: {warning}", file=err)
    diagrams = f", {result.diagrams} diagram(s) checked" if args.diagram_check else ""
    if not args.quiet:
        print(f"site: {result.pages} page(s){diagrams} in {result.seconds:.1f} s -> "
              f"{result.site / 'index.html'}", file=out)
    return 1 if args.strict and not result.clean else 0


def _cmd_chat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .api import chat
    from .run import ChatIO

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


def run(argv: Sequence[str] | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Run the CLI and return the exit code; never exits by itself."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    if "_ARGCOMPLETE" in os.environ:  # a shell asking for completions: answer and exit
        import argcomplete

        argcomplete.autocomplete(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own usage line
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    from ._logs import configure_logging

    configure_logging(args.verbose, err)
    commands = {"generate": _cmd_generate, "personas": _cmd_personas, "validate": _cmd_validate,
                "regen": _cmd_regen, "chat": _cmd_chat, "batch": _cmd_batch, "link": _cmd_link,
                "site": _cmd_site}
    try:
        if args.command == "completion":
            from argcomplete.shell_integration import shellcode

            print(shellcode(["sdgen"], shell=args.shell), file=out)
            return 0
        if args.command == "providers":
            from .providers import provider_names

            print("\n".join(provider_names()), file=out)
            return 0
        return commands[args.command](args, out, err)
    except SdgenError as exc:
        import logging

        logging.getLogger("sdgen").debug("error detail", exc_info=True)
        print(f"sdgen: error: {exc}", file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sdgen: interrupted", file=err)
        return 130
