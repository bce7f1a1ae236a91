"""Check a parsed note against a persona's section schema: Document + PersonaSpec -> Report."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel

from .markdown import Document, Heading, normalize_title
from .schema import REQUIREMENT_TEXT, PersonaSpec, SectionSpec

__all__ = ["LocatedSection", "Report", "SectionReport", "locate_sections", "match_section",
           "validate_document"]

_MATCH_THRESHOLD = 0.8
_DIAGRAM_CHARS = re.compile(r"[\u2190-\u21ff\u2500-\u257f\u25a0-\u25ff\u27f0-\u27ff]")
_ASCII_ART = re.compile(r"(\+-{2,}|-{2,}>|<-{2,}|={2,}>|\|.*\||-{3,}\+|\[[^\]]+\]\s*-+)")
_PLAIN_INFOS = {"", "text", "txt", "ascii", "plaintext", "plain", "diagram", "none", "art"}
# Diagram languages models reach for (seed 003 asks for Excalidraw too); they count as diagrams.
_DIAGRAM_INFOS = {"mermaid", "excalidraw", "plantuml", "puml", "dot", "graphviz", "d2", "svg"}
_NOT_CODE = _PLAIN_INFOS | _DIAGRAM_INFOS | {"markdown", "md"}
_PARENTHETICAL = re.compile(r"\s*\([^)]*\)")


class SectionReport(BaseModel):
    title: str
    found: bool
    required: bool
    heading: str | None = None
    problems: list[str] = []
    warnings: list[str] = []


class Report(BaseModel):
    """The outcome of validating one note: valid when no section has a problem."""

    valid: bool
    persona: str
    sections: list[SectionReport]
    problems: list[str] = []
    warnings: list[str] = []

    @property
    def failing(self) -> list[int]:
        """The schema indexes of the sections with problems (what a targeted repair asks for)."""
        return [i for i, s in enumerate(self.sections) if s.problems]

    def summary(self) -> list[str]:
        lines = [f"{s.title}: {p}" for s in self.sections for p in s.problems]
        return [*self.problems, *lines]

    def as_json(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "persona": self.persona,
            "sections": [
                {"title": s.title, "found": s.found, "problems": s.problems,
                 "warnings": s.warnings}
                for s in self.sections
            ],
            "problems": self.problems,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class LocatedSection:
    """A schema section found in a document: its heading and body line span."""

    spec_index: int
    heading: Heading
    end: int  # first line after the section's body

    @property
    def body_start(self) -> int:
        return self.heading.end_line


@lru_cache(maxsize=4096)
def _names(spec: SectionSpec) -> tuple[str, ...]:
    names = [normalize_title(n) for n in (spec.title, *spec.aliases)]
    return tuple(n for n in names if n)


@lru_cache(maxsize=65536)
def _similarity(heading: str, name: str) -> float:
    if heading == name:
        return 1.0
    bare_heading = _PARENTHETICAL.sub("", heading).strip()
    bare_name = _PARENTHETICAL.sub("", name).strip()
    if bare_heading and bare_heading == bare_name:
        return 0.95
    for longer, shorter in ((bare_heading, bare_name), (bare_name, bare_heading)):
        if shorter and len(shorter) >= 6 and re.match(rf"{re.escape(shorter)}\b", longer):
            return 0.9
    return 0.9 * difflib.SequenceMatcher(None, bare_heading, bare_name).ratio()


def match_section(title: str, sections: tuple[SectionSpec, ...]) -> tuple[int, float] | None:
    """The schema section a heading names, with a score, or None."""
    normalized = normalize_title(title)
    if not normalized:
        return None
    best: tuple[int, float] | None = None
    for index, spec in enumerate(sections):
        score = max((_similarity(normalized, n) for n in _names(spec)), default=0.0)
        if score >= _MATCH_THRESHOLD and (best is None or score > best[1]):
            best = (index, score)
    return best


def _matches(headings: list[Heading], spec: PersonaSpec) -> list[tuple[Heading, int]]:
    matches = []
    for heading in headings:
        found = match_section(heading.text, spec.sections)
        if found:
            matches.append((heading, found[0]))
    return matches


def locate_sections(doc: Document, spec: PersonaSpec) -> list[LocatedSection]:
    """Find each schema section's heading, at whatever level the model wrote them."""
    matches = _matches(doc.headings, spec)
    found = {index for _, index in matches}
    if any(s.required and i not in found for i, s in enumerate(spec.sections)):
        # Bold one-line paragraphs stand in for headings only where real headings are missing.
        matches += [(h, i) for h, i in _matches(doc.pseudo_headings, spec) if i not in found]
    if not matches:
        return []
    # The level most sections were written at is the document's section level; a section
    # written at another level is still taken when it is not found at that level.
    per_level = Counter(h.level for h, _ in {idx: (h, idx) for h, idx in matches}.values())
    levels = sorted(per_level, key=lambda lv: (-per_level[lv], lv))
    chosen: dict[int, Heading] = {}
    for level in levels:
        for heading, index in matches:
            if heading.level == level and index not in chosen:
                chosen[index] = heading
    starts = {h.line for h in chosen.values()}
    boundaries = sorted([*doc.headings, *chosen.values()], key=lambda h: h.line)
    located = []
    for index, heading in chosen.items():
        # A section runs to the next schema section or to a heading above its level; other
        # headings at its own level are taken as its sub-parts (models often write them so).
        end = len(doc.lines)
        for other in boundaries:
            if other.line > heading.line and (other.level < heading.level or other.line in starts):
                end = other.line
                break
        located.append(LocatedSection(index, heading, end))
    return sorted(located, key=lambda s: s.heading.line)


def _words(doc: Document, start: int, end: int) -> int:
    # Code and diagrams count: a section carried by a worked calculation is not a stub.
    return len(re.findall(r"[^\W_]+", doc.text_between(start, end)))


def _is_ascii_diagram(info: str, content: str) -> bool:
    if info == "mermaid" or content.count("\n") < 2:
        return False
    if _DIAGRAM_CHARS.search(content):
        return True
    return info in _PLAIN_INFOS and len(_ASCII_ART.findall(content)) >= 2


def _present(doc: Document, start: int, end: int) -> set[str]:
    """Which requirement kinds a span of the document satisfies."""
    found: set[str] = set()
    for fence in doc.fences:
        if not start <= fence.line < end:
            continue
        if fence.info == "mermaid" and fence.content.strip():
            found.add("mermaid")
        if fence.info in _DIAGRAM_INFOS and fence.content.strip():
            found.add("diagram")
        if _is_ascii_diagram(fence.info, fence.content):
            found.add("ascii_diagram")
        if fence.info not in _NOT_CODE and fence.content.strip():
            found.add("code")
    tokens = doc.tokens_between(start, end)
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            found.add("table")
        elif token.type in {"bullet_list_open", "ordered_list_open"}:
            found.add("bullets")
        elif token.type == "blockquote_open":
            following = tokens[i + 2] if i + 2 < len(tokens) else None
            if following is not None and re.match(r"\s*\[![A-Za-z-]+\]", following.content):
                found.add("callout")
    if found & {"mermaid", "ascii_diagram"}:
        found.add("diagram")
    return found


def _bullets(doc: Document, start: int, end: int) -> int:
    return sum(1 for t in doc.tokens_between(start, end) if t.type == "list_item_open")


def _out_of_order(located: list[LocatedSection]) -> set[int]:
    """Spec indexes not on the longest in-order run of sections (by position in the note)."""
    order = [s.spec_index for s in located]
    best: list[list[int]] = []
    for i, value in enumerate(order):
        chains = [c for c in best[:i] if c[-1] < value]
        best.append([*max(chains, key=lambda chain: len(chain), default=[]), value])
    longest: list[int] = max(best, key=len) if best else []
    keep = set(longest)
    return set(order) - keep


def validate_document(doc: Document, spec: PersonaSpec) -> Report:
    """Check presence, order and contents of every schema section."""
    located = {s.spec_index: s for s in locate_sections(doc, spec)}
    disordered = _out_of_order(list(located.values()))
    reports = []
    for index, section in enumerate(spec.sections):
        where = located.get(index)
        if where is None:
            problems = ([f"missing section: add a heading '{section.heading}'"]
                        if section.required and spec.require_headings else [])
            reports.append(SectionReport(title=section.title, found=False,
                                         required=section.required, problems=problems))
            continue
        problems, warnings = [], []
        start, end = where.body_start, where.end
        present = _present(doc, start, end)
        for need in section.requires:
            if need not in present:
                problems.append(f"needs {REQUIREMENT_TEXT[need]}")
        for want in section.recommends:
            if want not in present:
                warnings.append(f"should have {REQUIREMENT_TEXT[want]}")
        words = _words(doc, start, end)
        if words < section.min_words:
            problems.append(f"too short: {words} words, needs at least {section.min_words}")
        if section.min_bullets and _bullets(doc, start, end) < section.min_bullets:
            problems.append(f"needs at least {section.min_bullets} bullet points")
        for fence in doc.fences:
            if start <= fence.line < end and not fence.closed:
                problems.append("a code block is never closed (was the answer cut off?)")
        if index in disordered:
            (problems if spec.enforce_order else warnings).append(
                "out of order: move it to its place in the schema order")
        reports.append(SectionReport(title=section.title, found=True, required=section.required,
                                     heading=where.heading.text, problems=problems,
                                     warnings=warnings))
    doc_problems = []
    if not doc.body.strip():
        doc_problems.append("the note is empty")
    present_anywhere = _present(doc, 0, len(doc.lines))
    for need in spec.document_requires:
        if need not in present_anywhere:
            doc_problems.append(f"the note needs {REQUIREMENT_TEXT[need]} somewhere")
    doc_warnings = [f"the note should have {REQUIREMENT_TEXT[want]} somewhere"
                    for want in spec.document_recommends if want not in present_anywhere]
    valid = not doc_problems and not any(r.problems for r in reports)
    return Report(valid=valid, persona=spec.name, sections=reports, problems=doc_problems,
                  warnings=doc_warnings)
