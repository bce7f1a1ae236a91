"""Section-level edits: ask for some sections, take them out of an answer, splice them into a note.

Used by ``sdgen regen`` (one section of a written note) and by targeted repair (only the sections
that failed validation). A splice replaces the lines of a section's body and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..check import Report, locate_sections, match_section
from ..compose import (
    DIAGRAM_KIND_TEXT,
    REQUIREMENT_TEXT,
    Message,
    Persona,
    Prompt,
    render_template,
    section_lines,
)
from ..markdown import Document, format_markdown, parse_document

__all__ = ["SectionTarget", "ask_for_sections", "closest_section", "extract_sections", "find_section",
           "splice_sections", "targets_for"]


@dataclass(frozen=True)
class SectionTarget:
    """A schema section to (re)write, with what was wrong with it."""

    index: int
    title: str
    heading_line: str
    problems: tuple[str, ...] = ()


def _heading_line(persona: Persona, index: int, doc: Document | None) -> str:
    if doc is not None:
        for located in locate_sections(doc, persona.spec):
            if located.spec_index == index:
                return doc.lines[located.heading.line]
    level = "#" * persona.spec.heading_level
    return f"{level} {section_lines(persona.spec.sections, persona.spec.numbered)[index]}"


def targets_for(persona: Persona, doc: Document, indexes: Sequence[int],
                report: Report | None = None) -> list[SectionTarget]:
    problems = ({i: tuple(str(p) for p in s.problems) for i, s in enumerate(report.sections)}
                if report else {})
    return [SectionTarget(i, persona.spec.sections[i].title, _heading_line(persona, i, doc),
                          problems.get(i, ())) for i in indexes]


NAMED = 0.9  # a score of match_section this high names the section; below, it only resembles it


def find_section(persona: Persona, doc: Document, query: str) -> int | None:
    """A schema section by loose name (`api design`, `🔌 API Design`) or number (`5`); None
    when no section has that name (a name that only resembles one is not taken for it:
    :func:`closest_section` offers it)."""
    query = query.strip()
    if query.isdigit() and 1 <= int(query) <= len(persona.spec.sections):
        return int(query) - 1
    found = match_section(query, persona.spec.sections)
    return found[0] if found and found[1] >= NAMED else None


def closest_section(persona: Persona, query: str) -> int | None:
    """The section a name not found resembles most ("API Desing": API Design), if any."""
    found = match_section(query.strip(), persona.spec.sections)
    return found[0] if found else None


def ask_for_sections(persona: Persona, note: str, targets: Sequence[SectionTarget],
                     topic_prompt: Prompt, instructions: str | None = None,
                     history: Prompt | None = None, with_note: bool = False) -> Prompt:
    """The persona's system prompt, then a request for just these sections of the note; after a
    conversation (``history``) the request continues it instead, showing the note only when
    ``with_note`` (it may have changed since the conversation)."""
    spec = persona.spec
    request = render_template(
        persona, "sections.md.j2", topic=topic_prompt.topic.title,
        note=note.strip() if with_note or not history else "",
        instructions=instructions or "",
        targets=[{"title": t.title, "heading_line": t.heading_line, "problems": t.problems,
                  "requirements": [*(REQUIREMENT_TEXT[r] for r in spec.sections[t.index].requires),
                                   *(DIAGRAM_KIND_TEXT.get(k, k)
                                     for k in spec.sections[t.index].diagram_kinds)]}
                 for t in targets],
    )
    before = history.messages if history else tuple(
        m for m in topic_prompt.messages if m.role == "system")
    return topic_prompt.with_messages((*before, Message("user", request)))


def extract_sections(persona: Persona, answer: str,
                     targets: Sequence[SectionTarget]) -> dict[int, str]:
    """The body of each requested section in an answer (a lone headless answer is the body)."""
    doc = parse_document(answer, raw_answer=True)
    bodies = {}
    for located in locate_sections(doc, persona.spec):
        if any(t.index == located.spec_index for t in targets):
            bodies[located.spec_index] = doc.text_between(located.body_start, located.end)
    if not bodies and len(targets) == 1 and not doc.headings:
        bodies[targets[0].index] = doc.body
    return bodies


def _formatted(body: str) -> list[str]:
    text = format_markdown(body.strip("\n") + "\n").strip("\n") if body.strip() else ""
    return text.split("\n") if text else []


def splice_sections(persona: Persona, body: str, targets: Sequence[SectionTarget],
                    replacements: Mapping[int, str]) -> str:
    """Replace (or add, in schema order) the bodies of sections; every other line is kept."""
    doc = parse_document(body)
    lines = list(doc.lines)
    located = {s.spec_index: s for s in locate_sections(doc, persona.spec)}
    # Bottom-up, so the line numbers of sections still to splice stay valid.
    edits = []
    for target in targets:
        if target.index not in replacements:
            continue
        new = _formatted(replacements[target.index])
        if target.index in located:
            where = located[target.index]
            tail = [""] if where.end < len(lines) else []
            edits.append((where.body_start, where.end, ["", *new, *tail]))
        else:  # a missing section goes after the last present section before it in the schema
            before = [s for i, s in located.items() if i < target.index]
            at = max((s.end for s in before), default=len(lines))
            block = [target.heading_line, "", *new, ""]
            if at > 0 and lines[at - 1].strip():
                block.insert(0, "")
            edits.append((at, at, block))
    for start, end, new_lines in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start:end] = new_lines
    text = "\n".join(lines)
    return text if text.endswith("\n") else text + "\n"

