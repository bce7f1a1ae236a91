"""Check a parsed note against a persona's section schema: Document + PersonaSpec -> Report."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from ..compose import DIAGRAM_KIND_TEXT, REQUIREMENT_TEXT, PersonaSpec, SectionSpec, Topic
from ..markdown import Document, Fence, Heading, normalize_title
from ._content import box_misalignments, names_topic, prose, table_mismatches, unanswered
from ._diagrams import check_mermaid
from ._drawings import DIAGRAM_INFOS, PLAIN_INFOS, drawings, is_ascii_diagram

__all__ = [
    "DEFAULT_OPTIONS",
    "DiagramFindings",
    "LocatedSection",
    "Problem",
    "Report",
    "SectionReport",
    "ValidationOptions",
    "check_diagrams",
    "locate_sections",
    "match_section",
    "validate_document",
]

_MATCH_THRESHOLD = 0.8
_NOT_CODE = PLAIN_INFOS | DIAGRAM_INFOS | {"markdown", "md"}
_PARENTHETICAL = re.compile(r"\s*\([^)]*\)")


class Problem(BaseModel):
    """One finding: what is wrong, of which kind, and where in the note (1-based line)."""

    model_config = ConfigDict(frozen=True)

    message: str
    kind: str = "schema"  # schema, mermaid, diagram-kind, coverage, topic, table, alignment
    line: int | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message

    def as_json(self) -> dict[str, object]:
        return {"message": self.message, "kind": self.kind, "line": self.line}


@dataclass(frozen=True)
class ValidationOptions:
    """What validation checks beyond the schema (each can be turned off)."""

    diagram_check: bool = True  # every Mermaid block through Mermaid's own parser


class SectionReport(BaseModel):
    title: str
    found: bool
    required: bool
    heading: str | None = None
    problems: list[Problem] = []
    warnings: list[Problem] = []


class Report(BaseModel):
    """The outcome of validating one note: valid when no section has a problem."""

    valid: bool
    persona: str
    sections: list[SectionReport]
    problems: list[Problem] = []
    warnings: list[Problem] = []
    kind: str = "note"  # "index": an index note, which has no schema to check

    @property
    def failing(self) -> list[int]:
        """The schema indexes of the sections with problems (what a targeted repair asks for)."""
        return [i for i, s in enumerate(self.sections) if s.problems]

    def summary(self) -> list[str]:
        lines = [f"{s.title}: {p}" for s in self.sections for p in s.problems]
        return [*(str(p) for p in self.problems), *lines]

    def kinds(self) -> set[str]:
        """The kinds of every problem (a "topic" problem calls for a whole new answer)."""
        return {p.kind for p in self.problems} | {p.kind for s in self.sections
                                                  for p in s.problems}

    def as_json(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "kind": self.kind,
            "persona": self.persona,
            "sections": [
                {"title": s.title, "found": s.found,
                 "problems": [p.as_json() for p in s.problems],
                 "warnings": [p.as_json() for p in s.warnings]}
                for s in self.sections
            ],
            "problems": [p.as_json() for p in self.problems],
            "warnings": [p.as_json() for p in self.warnings],
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


def _starts_with_word(longer: str, shorter: str) -> bool:
    """Whether ``longer`` begins with ``shorter`` as whole words ("api design" of "api design
    and contracts", not of "api designs")."""
    if not longer.startswith(shorter):
        return False

    def word(char: str) -> bool:
        return char.isalnum() or char == "_"

    rest = longer[len(shorter):]  # a word boundary follows, as \b means it
    return word(shorter[-1]) if not rest else word(shorter[-1]) != word(rest[0])


# Real notes repeat their headings, so a few thousand pairs cover a long run; a larger cache
# only grows with every note's unique headings (a thousand-note run kept 6 MB of it).
@lru_cache(maxsize=4096)
def _similarity(heading: str, name: str) -> float:
    if heading == name:
        return 1.0
    bare_heading = _PARENTHETICAL.sub("", heading).strip()
    bare_name = _PARENTHETICAL.sub("", name).strip()
    if bare_heading and bare_heading == bare_name:
        return 0.95
    for longer, shorter in ((bare_heading, bare_name), (bare_name, bare_heading)):
        if shorter and len(shorter) >= 6 and _starts_with_word(longer, shorter):
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


def _present(doc: Document, start: int, end: int, diagrams: DiagramFindings,
             checked: bool) -> set[str]:
    """Which requirement kinds a span of the document satisfies. A diagram is what a reader sees
    drawn (a Mermaid diagram that parses, ASCII boxes, an SVG that draws): not a fence of words."""
    found: set[str] = {"diagram"} if drawings(doc, start, end, diagrams.kinds, checked) else set()
    for fence in doc.fences:
        if not start <= fence.line < end:
            continue
        if fence.info == "mermaid" and fence.content.strip():  # unparsed: its own problem says so
            found |= {"mermaid", "diagram"} if fence.line in diagrams.problems else {"mermaid"}
        if is_ascii_diagram(fence.info, fence.content):
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


DEFAULT_OPTIONS = ValidationOptions()


@dataclass
class DiagramFindings:
    """Mermaid's verdicts on a note's diagrams, each as a problem at its line in the note."""

    problems: dict[int, Problem]  # by the fence's body line
    kinds: dict[int, str]  # the parser's kind of each diagram that parses, by body line


def check_diagrams(doc: Document, options: ValidationOptions = DEFAULT_OPTIONS) -> DiagramFindings:
    found = DiagramFindings({}, {})
    if not options.diagram_check:
        return found
    for fence in doc.fences:
        if fence.info != "mermaid" or not fence.content.strip() or not fence.closed:
            continue
        verdict = check_mermaid(fence.content)
        if verdict.ok:
            found.kinds[fence.line] = verdict.kind or "unknown"
            continue
        # The fence opens at body line fence.line; the diagram's line k is k lines below.
        line = doc.line_offset + fence.line + 1 + (verdict.line or 1)
        quoted = f' (`{verdict.source_line[:120]}`)' if verdict.source_line else ""
        found.problems[fence.line] = Problem(
            message=f"a Mermaid diagram does not parse{quoted}: {verdict.message}",
            kind="mermaid", line=line)
    return found


def _kind_findings(section: SectionSpec, kinds: list[str], checked: bool) -> tuple[
        list[Problem], list[Problem]]:
    """A section's required (problem) and preferred (warning) diagram kinds."""
    if not checked:  # kinds come from the parser; with the check off, they are unknown
        return [], []
    problems, warnings = [], []
    written = f" (its diagrams are: {', '.join(kinds)})" if kinds else ""
    if section.diagram_kinds and not set(kinds) & set(section.diagram_kinds):
        wanted = " or ".join(DIAGRAM_KIND_TEXT.get(k, k) for k in section.diagram_kinds)
        problems.append(Problem(message=f"needs {wanted}{written}", kind="diagram-kind"))
    for kind in section.prefers_diagram_kinds:
        if kind not in kinds:
            warnings.append(Problem(message=f"should have {DIAGRAM_KIND_TEXT.get(kind, kind)}",
                                    kind="diagram-kind"))
    return problems, warnings


def _section_report(doc: Document, spec: PersonaSpec, index: int, where: LocatedSection,
                    out_of_order: bool, diagrams: DiagramFindings, checked: bool) -> SectionReport:
    section = spec.sections[index]
    problems: list[Problem] = []
    warnings: list[Problem] = []
    start, end = where.body_start, where.end
    present = _present(doc, start, end, diagrams, checked)
    problems += [Problem(message=f"needs {REQUIREMENT_TEXT[need]}")
                 for need in section.requires if need not in present]
    warnings += [Problem(message=f"should have {REQUIREMENT_TEXT[want]}")
                 for want in section.recommends if want not in present]
    words = _words(doc, start, end)
    if words < section.min_words:
        problems.append(Problem(message=f"too short: {words} words, needs at least "
                                        f"{section.min_words}"))
    if section.min_bullets and _bullets(doc, start, end) < section.min_bullets:
        problems.append(Problem(message=f"needs at least {section.min_bullets} bullet points"))
    inside: list[Fence] = [f for f in doc.fences if start <= f.line < end]
    problems += [Problem(message="a code block is never closed (was the answer cut off?)",
                         line=doc.line_offset + f.line + 1) for f in inside if not f.closed]
    problems += [diagrams.problems[f.line] for f in inside if f.line in diagrams.problems]
    kind_problems, kind_warnings = _kind_findings(
        section, [diagrams.kinds[f.line] for f in inside if f.line in diagrams.kinds], checked)
    problems += kind_problems
    warnings += kind_warnings
    if out_of_order:
        (problems if spec.enforce_order else warnings).append(
            Problem(message="out of order: move it to its place in the schema order"))
    return SectionReport(title=section.title, found=True, required=section.required,
                         heading=where.heading.text, problems=problems, warnings=warnings)


def _question_problems(doc: Document, spec: PersonaSpec) -> dict[str, list[Problem]]:
    """The seed's questions the note's prose never answers, by the section they belong in."""
    if not spec.questions:
        return {}
    found: dict[str, list[Problem]] = {}
    for question in unanswered(spec.questions, prose(doc)):
        found.setdefault(question.section, []).append(Problem(
            message=f"the seed's question is not answered in the text: {question.question}",
            kind="coverage"))
    return found


def _topic_problem(doc: Document, topic: Topic) -> Problem | None:
    """An answer about something else than the topic asked for."""
    titles = [h for h in doc.headings if h.level == 1]
    if titles:
        title = titles[0].text
        if names_topic(title, topic.title, topic.aliases):
            return None
        return Problem(message=f"the note is titled {title!r}, which does not name the topic "
                               f"asked for ({topic.title!r}): write about {topic.title}",
                       kind="topic", line=doc.line_offset + titles[0].line + 1)
    if names_topic(prose(doc)[:20000], topic.title, topic.aliases):
        return None
    return Problem(message=f"the note never names the topic asked for ({topic.title!r})",
                   kind="topic")


def _reader_warnings(doc: Document) -> list[Problem]:
    """What would trip a reader up without making the note wrong."""
    warnings = [Problem(message=f"a table row has {m.cells} cells where its header has "
                                f"{m.header}", kind="table", line=doc.line_offset + m.line + 1)
                for m in table_mismatches(doc)]
    warnings += [Problem(message="a box in an ASCII diagram has its right edge out of line "
                                 "(emoji are two columns wide)", kind="alignment",
                         line=doc.line_offset + m.line + 1) for m in box_misalignments(doc)]
    return warnings


def _document_findings(doc: Document, spec: PersonaSpec, located: dict[int, LocatedSection],
                       diagrams: DiagramFindings, topic: Topic | None,
                       checked: bool) -> tuple[list[Problem], list[Problem]]:
    """What holds (or not) for the note as a whole."""
    problems: list[Problem] = []
    if not doc.body.strip():
        problems.append(Problem(message="the note is empty"))
    elif topic is not None and (off_topic := _topic_problem(doc, topic)):
        problems.append(off_topic)
    present_anywhere = _present(doc, 0, len(doc.lines), diagrams, checked)
    problems += [Problem(message=f"the note needs {REQUIREMENT_TEXT[need]} somewhere")
                 for need in spec.document_requires if need not in present_anywhere]
    warnings = [Problem(message=f"the note should have {REQUIREMENT_TEXT[want]} somewhere")
                for want in spec.document_recommends if want not in present_anywhere]
    warnings += _reader_warnings(doc)
    # A broken diagram outside every schema section is still a broken diagram.
    spans = [(s.body_start, s.end) for s in located.values()]
    problems += [p for line, p in diagrams.problems.items()
                 if not any(a <= line < b for a, b in spans)]
    return problems, warnings


def validate_document(doc: Document, spec: PersonaSpec,
                      options: ValidationOptions = DEFAULT_OPTIONS,
                      topic: Topic | None = None) -> Report:
    """Check presence, order and contents of every schema section, that every Mermaid diagram
    parses, that the seed's questions are answered and (given the topic) that the note is
    about it."""
    located = {s.spec_index: s for s in locate_sections(doc, spec)}
    disordered = _out_of_order(list(located.values()))
    diagrams = check_diagrams(doc, options)
    unanswered_in = _question_problems(doc, spec)
    reports = []
    for index, section in enumerate(spec.sections):
        where = located.get(index)
        if where is None:
            problems = ([Problem(message=f"missing section: add a heading '{section.heading}'")]
                        if section.required and spec.require_headings else [])
            reports.append(SectionReport(title=section.title, found=False,
                                         required=section.required,
                                         problems=problems + unanswered_in.get(section.title, [])))
            continue
        report = _section_report(doc, spec, index, where, index in disordered, diagrams,
                                 options.diagram_check)
        report.problems += unanswered_in.get(section.title, [])
        reports.append(report)
    doc_problems, doc_warnings = _document_findings(doc, spec, located, diagrams, topic,
                                                    options.diagram_check)
    valid = not doc_problems and not any(r.problems for r in reports)
    return Report(valid=valid, persona=spec.name, sections=reports, problems=doc_problems,
                  warnings=doc_warnings)
