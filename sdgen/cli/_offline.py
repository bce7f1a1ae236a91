"""The commands that ask no model: personas, validate (and its report), link and site."""

from __future__ import annotations

import argparse

from ..errors import NoteError

TYPE_CHECKING = False  # typing, pathlib and the rest load only for the command that runs
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO

    from ..check import Report

# Heavy modules (pydantic, jinja2, markdown-it, rich, the SDKs) load inside the command that
# needs them.


def _cmd_personas(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..compose import Topic, compose, list_personas, load_persona

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
    if args.requirements:
        if not persona.spec.requirements:
            print(f"{persona.name}: no requirements listed in its persona.toml", file=out)
        for rule in persona.spec.requirements:
            print(rule.describe(), file=out)
        return 0
    prompt = compose(persona, Topic(args.topic, question=args.question))
    print(prompt.system, end="", file=out)
    return 0


def _notes_named(paths: list[Path]) -> list[Path]:
    """The files named, and the topic notes of each folder named (drafts and indexes apart)."""
    from ..vault import walk_notes

    found: list[Path] = []
    for path in paths:
        found += [note for note, _ in walk_notes(path)] if path.is_dir() else [path]
    return list(dict.fromkeys(found))


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import json

    from ..api import validate_note
    from ..config import load_settings

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



def _cmd_link(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..api import link_notes

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

    from ..api import build_site
    from ..site import require_mkdocs

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

