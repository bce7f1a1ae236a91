"""The seed's instructions as a checklist: each requirement of a persona's ``persona.toml``
checked in the section it belongs to, as a finding with its id, severity, section and line.

A ``must`` that fails is a problem of its section (so the note is invalid and the repair loop
asks for that section again, quoting it); a ``should`` that fails is a warning of its section.
Every requirement is reported, held or not, so a note can say how many of its checks hold.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import emoji
from pydantic import BaseModel, ConfigDict, Field
from wcwidth import wcswidth

from ..compose import PersonaSpec, RequirementSpec, Topic
from ..markdown import Document, Heading, normalize_title
from ._content import has_term
from ._drawings import undrawn_fences
from ._validate import (
    DEFAULT_OPTIONS,
    LocatedSection,
    Problem,
    Report,
    ValidationOptions,
    check_diagrams,
    locate_sections,
)
from ._validate import validate_document as validate_schema

__all__ = ["CheckedReport", "Checklist", "RequirementResult", "checklist", "validate_document"]

_PLAIN_INFOS = {"", "text", "txt", "ascii", "plaintext", "plain", "diagram", "none", "art"}
_NOT_CODE = _PLAIN_INFOS | {"mermaid", "markdown", "md", "excalidraw", "plantuml", "puml", "dot",
                            "graphviz", "d2", "svg"}
_BOX_CORNER = re.compile(r"[┌┐└┘╭╮╰╯╔╗╚╝]|\+-{2,}")
_BOX_SIDE = re.compile(r"[│║┃]|\|")
# An endpoint as APIs are written down: `POST /v1/rules`, a table's `| POST | /v1/rules |`, a
# gRPC method (`| gRPC | RateLimit.Check |`, `rpc Check(`). A query string is the same endpoint.
_ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b[\s|`*]*(/[^\s`|,;)?\"']*)"
                       r"|\bgRPC\b[\s|`*]*([A-Z]\w*\.[A-Z]\w*)|\brpc\s+([A-Z]\w*)\s*\(")


class RequirementResult(BaseModel):
    """One requirement of the persona, checked: held (``ok``) or not, and where."""

    model_config = ConfigDict(frozen=True)

    id: str
    severity: str  # must, should
    ok: bool
    section: str | None = None
    line: int | None = None
    message: str = ""

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "severity": self.severity, "ok": self.ok,
                "section": self.section, "line": self.line, "message": self.message}

    def __str__(self) -> str:
        where = f"{self.section}: " if self.section else ""
        line = f" (line {self.line})" if self.line else ""
        return f"{self.id} [{self.severity}] {where}{self.message}{line}"


class CheckedReport(Report):
    """A report with the persona's checklist: every requirement and whether it holds."""

    requirements: list[RequirementResult] = Field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {**super().as_json(), "requirements": [r.as_json() for r in self.requirements]}


@dataclass(frozen=True)
class Checklist:
    """How a note stands against its persona's requirements: the tally (``14/16``, None when
    the persona lists none) and the requirements it does not meet (its ``should`` findings,
    once it is valid)."""

    tally: str | None
    findings: tuple[RequirementResult, ...]


def checklist(report: Report | None) -> Checklist:
    results: list[RequirementResult] = getattr(report, "requirements", [])
    if not results:
        return Checklist(None, ())
    held = sum(1 for r in results if r.ok)
    return Checklist(f"{held}/{len(results)}", tuple(r for r in results if not r.ok))


@dataclass(frozen=True)
class _Span:
    """Where a requirement is checked: body lines [start, end), under a heading (or none)."""

    start: int
    end: int
    heading: Heading | None


def _line(doc: Document, body_line: int) -> int:
    return doc.line_offset + body_line + 1


def _text(doc: Document, span: _Span) -> str:
    """The words of a span a reader reads as text: paragraphs, lists, tables, headings and
    inline code, never fenced code or diagrams."""
    parts = []
    for token in doc.tokens_between(span.start, span.end):
        if token.type == "inline":
            parts += [child.content for child in token.children or []
                      if child.type in {"text", "code_inline", "html_inline"}]
    return " ".join(" ".join(parts).split()).casefold()


def _declared_type(content: str) -> str:
    """A Mermaid diagram's declared type: the first word of its first line that is no
    comment, outside its front matter (``---`` ... ``---``)."""
    in_front_matter = False
    for index, raw in enumerate(content.split("\n")):
        line = raw.strip()
        if line == "---":
            in_front_matter = index == 0 or not in_front_matter
            continue
        if in_front_matter or not line or line.startswith("%%"):
            continue
        return line.split()[0].rstrip(";:")
    return ""


def _is_box(info: str, content: str) -> bool:
    return (info not in {"mermaid"} and content.count("\n") >= 2
            and bool(_BOX_CORNER.search(content)) and bool(_BOX_SIDE.search(content)))


def _diagrams(doc: Document, span: _Span, kind: str, options: ValidationOptions) -> int:
    fences = [f for f in doc.fences if span.start <= f.line < span.end and f.content.strip()]
    if kind == "ascii_box":
        return sum(1 for f in fences if _is_box(f.info, f.content))
    mermaid = [f for f in fences if f.info == "mermaid"]
    checked = check_diagrams(doc, options)
    if options.diagram_check:  # a diagram Mermaid cannot draw is no diagram
        mermaid = [f for f in mermaid if f.line in checked.kinds]
    if ":" not in kind:
        return len(mermaid)
    wanted = kind.split(":", 1)[1].casefold()
    return sum(1 for f in mermaid if wanted in {_declared_type(f.content).casefold(),
                                                checked.kinds.get(f.line, "").casefold()})


def _list_items(doc: Document, span: _Span, under: str | None) -> tuple[int, _Span]:
    if under is not None:
        wanted = normalize_title(under)
        inner = [h for h in doc.headings if span.start <= h.line < span.end
                 and normalize_title(h.text).startswith(wanted)]
        if not inner:
            return 0, span
        heading = inner[0]
        end = next((h.line for h in doc.headings
                    if h.line > heading.line and h.level <= heading.level), span.end)
        span = _Span(heading.end_line, min(end, span.end), heading)
    items = [t for t in doc.tokens_between(span.start, span.end) if t.type == "list_item_open"]
    outermost = min((t.level for t in items), default=0)
    return sum(1 for t in items if t.level == outermost), span


def _subheadings(doc: Document, span: _Span) -> int:
    if span.heading is None:  # the whole note: headings below its title
        return sum(1 for h in doc.headings if h.level > 1)
    return sum(1 for h in doc.headings
               if span.start <= h.line < span.end and h.level > span.heading.level)


def _starts_with_emoji(text: str) -> bool:
    text = re.sub(r"^[\s*_]+", "", text)
    text = re.sub(r"^(?:(?:section|part|step)\s*)?[(\[]?\d+(?:\.\d+)*[)\].:]?\s*", "", text,
                  flags=re.IGNORECASE)
    text = re.sub(r"^[\s*_]+", "", text)
    if not text:
        return False
    found = emoji.emoji_list(text[:12])
    return bool(found and found[0]["match_start"] == 0) or unicodedata.category(text[0]) == "So"


def _counted(found: int, low: int, high: int | None, what: str) -> str | None:
    """What is wrong with a count (None: it is within bounds)."""
    if found < low:
        return f"has {found} {what}, needs at least {low}"
    if high is not None and found > high:
        return f"has {found} {what}, needs at most {high}"
    return None


def _terms_message(doc: Document, span: _Span, rule: RequirementSpec) -> str | None:
    assert rule.check == "terms"
    text = _text(doc, span)
    missing = [term.replace("|", " or ") for term in rule.all
               if not any(has_term(alt.strip(), text) for alt in term.split("|"))]
    if rule.any and not any(has_term(term, text) for term in rule.any):
        missing.append(" or ".join(rule.any))
    return f"does not mention {', '.join(missing)}" if missing else None


def _width_message(doc: Document, span: _Span, width: int) -> tuple[str, int] | None:
    for fence in doc.fences:
        if not span.start <= fence.line < span.end:
            continue
        for offset, line in enumerate(fence.content.split("\n")):
            columns = wcswidth(line)
            columns = columns if columns >= 0 else len(line)
            if columns > width:
                return (f"a line of a code block is {columns} columns wide, more than {width}",
                        fence.line + 1 + offset)
    return None


def _undrawn_message(doc: Document, span: _Span) -> tuple[str | None, int | None]:
    undrawn = undrawn_fences(doc, span.start, span.end)
    if not undrawn:
        return None, span.heading.line if span.heading else None
    first, *more = undrawn
    also = (f" (and {len(more)} more, at line {', '.join(str(_line(doc, u.line)) for u in more)})"
            if more else "")
    return (f"a ```{first.info} block is not drawn: Obsidian shows {first.language} as code; "
            f"draw it as a Mermaid diagram{also}", first.line)


def _heading_message(doc: Document, headings: list[Heading]) -> tuple[str, int] | None:
    for heading in headings:
        if not _starts_with_emoji(heading.text):
            return f"the heading {heading.text!r} does not start with an emoji", heading.line
    return None


def _evaluate(doc: Document, span: _Span, rule: RequirementSpec, located: list[LocatedSection],
              options: ValidationOptions) -> tuple[str | None, int | None]:
    """What is wrong (None: the requirement holds) and the body line it is at."""
    at = span.heading.line if span.heading else None
    if rule.check == "list_items":
        found, inner = _list_items(doc, span, rule.under)
        where = f" under '{rule.under}'" if rule.under else ""
        return (_counted(found, rule.min, rule.max, f"list items{where}"),
                inner.heading.line if inner.heading else at)
    if rule.check == "subheadings":
        return _counted(_subheadings(doc, span), rule.min, None, "subheadings"), at
    if rule.check == "terms":
        return _terms_message(doc, span, rule), at
    if rule.check == "diagram":
        found = _diagrams(doc, span, rule.kind, options)
        return _counted(found, rule.min, rule.max, f"diagrams of kind {rule.kind}"), at
    if rule.check == "table":
        tables = sum(1 for t in doc.tokens_between(span.start, span.end)
                     if t.type == "table_open")
        return _counted(tables, rule.min, None, "tables"), at
    if rule.check == "code":
        code = sum(1 for f in doc.fences if span.start <= f.line < span.end
                   and f.info not in _NOT_CODE and f.content.strip())
        return _counted(code, rule.min, None, "code blocks with a language tag"), at
    if rule.check == "endpoints":
        found = len(set(_ENDPOINT.findall(doc.text_between(span.start, span.end))))
        return _counted(found, rule.min, rule.max, "API endpoints (METHOD /path)"), at
    if rule.check == "heading_emoji":
        headings = [span.heading] if rule.section and span.heading else [
            s.heading for s in located]
        wrong = _heading_message(doc, headings)
        return (wrong[0], wrong[1]) if wrong else (None, at)
    if rule.check == "renders":
        return _undrawn_message(doc, span)
    wide = _width_message(doc, span, rule.width)
    return (wide[0], wide[1]) if wide else (None, at)


def check_requirements(doc: Document, spec: PersonaSpec,
                       options: ValidationOptions = DEFAULT_OPTIONS) -> list[RequirementResult]:
    """Every requirement of the persona, checked within its section of the note."""
    located = locate_sections(doc, spec)
    by_title = {spec.sections[s.spec_index].title: s for s in located}
    results = []
    for rule in spec.requirements:
        if rule.section is None:
            span = _Span(0, len(doc.lines), None)
        elif (where := by_title.get(rule.section)) is not None:
            span = _Span(where.body_start, where.end, where.heading)
        else:
            required = next(s.required for s in spec.sections if s.title == rule.section)
            results.append(RequirementResult(
                id=rule.id, severity=rule.severity, ok=not required, section=rule.section,
                message=("the section is not in the note" if required
                         else "not applicable: the optional section is not in the note")))
            continue
        wrong, at = _evaluate(doc, span, rule, located, options)
        # A rule of the whole note that fails at a section's heading is that section's to mend.
        section = rule.section or next((spec.sections[s.spec_index].title for s in located
                                        if wrong and at is not None and (
                                            s.heading.line == at or (rule.check == "renders"
                                            and s.heading.line <= at < s.end))), None)
        results.append(RequirementResult(
            id=rule.id, severity=rule.severity, ok=wrong is None, section=section,
            line=_line(doc, at) if at is not None else None,
            message=f"{wrong} (seed: {rule.seed})" if wrong else rule.seed))
    return results


def validate_document(doc: Document, spec: PersonaSpec,
                      options: ValidationOptions = DEFAULT_OPTIONS,
                      topic: Topic | None = None) -> CheckedReport:
    """The schema's report (:func:`sdgen.check._validate.validate_document`) with the persona's
    requirements checked: a failed ``must`` is a problem of its section (or of the note), a
    failed ``should`` a warning, and every requirement is listed."""
    report = validate_schema(doc, spec, options, topic)
    results = check_requirements(doc, spec, options) if spec.requirements and doc.body.strip() \
        else []
    sections = {s.title: s for s in report.sections}
    problems, warnings = list(report.problems), list(report.warnings)
    for result in results:
        if result.ok:
            continue
        finding = Problem(message=f"{result.id}: {result.message}", kind="requirement",
                          line=result.line)
        target = sections.get(result.section or "")
        if result.severity == "must":
            (target.problems if target else problems).append(finding)
        else:
            (target.warnings if target else warnings).append(finding)
    valid = report.valid and not any(not r.ok and r.severity == "must" for r in results)
    return CheckedReport(valid=valid, persona=report.persona, sections=report.sections,
                         problems=problems, warnings=warnings, kind=report.kind,
                         requirements=results)
