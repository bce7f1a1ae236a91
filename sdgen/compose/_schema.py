"""Pydantic models for a persona's spec: its seed, placeholders and section schema."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DIAGRAM_KIND_TEXT",
    "REQUIREMENT_TEXT",
    "PersonaSpec",
    "QuestionSpec",
    "RequirementSpec",
    "SectionSpec",
]

Requirement = Literal["mermaid", "ascii_diagram", "diagram", "table", "code", "callout", "bullets"]
Placeholder = Literal["topic", "question"]

REQUIREMENT_TEXT: dict[str, str] = {
    "mermaid": "a fenced ```mermaid diagram",
    "ascii_diagram": "an ASCII/box-drawing diagram in a fenced code block",
    "diagram": "a diagram (a ```mermaid block, or an ASCII diagram in a ```text block)",
    "table": "a Markdown table",
    "code": "a fenced code block with a language tag",
    "callout": "an Obsidian callout (> [!note], > [!tip], > [!warning] ...)",
    "bullets": "a bulleted list",
}


DIAGRAM_KIND_TEXT: dict[str, str] = {
    "c4": "a Mermaid C4 diagram (C4Context, C4Container, C4Component, C4Dynamic or C4Deployment)",
    "er": "a Mermaid ER diagram (erDiagram)",
    "sequence": "a Mermaid sequence diagram (sequenceDiagram)",
    "flowchart": "a Mermaid flowchart (flowchart TD)",
    "state": "a Mermaid state diagram (stateDiagram-v2)",
    "class": "a Mermaid class diagram (classDiagram)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SectionSpec(_Strict):
    """One section a note must (or may) have, and what it must contain."""

    title: str
    aliases: tuple[str, ...] = ()
    emoji: str = ""
    required: bool = True
    requires: tuple[Requirement, ...] = ()
    recommends: tuple[Requirement, ...] = ()  # reported as warnings, never a failure
    min_words: int = Field(default=0, ge=0)
    min_bullets: int = Field(default=0, ge=0)
    # Mermaid diagram kinds, as the parser names them (see DIAGRAM_KIND_TEXT): at least one
    # diagram of one of `diagram_kinds` is required; each of `prefers_diagram_kinds` is a warning.
    diagram_kinds: tuple[str, ...] = ()
    prefers_diagram_kinds: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        return f"{self.emoji} {self.title}".strip()


class QuestionSpec(_Strict):
    """A question the seed asks every note to answer, and the words that count as answering it.

    ``terms`` is a list of groups: the question is addressed when each group has at least one of
    its terms in the note's prose. A term matches whole words, case-insensitively, with simple
    plurals; a trailing ``*`` matches any ending (``scal*``: scale, scaling, scalability).
    ``section`` is where the answer belongs: an unanswered question is a problem of that section,
    and the targeted repair asks for it there.
    """

    question: str
    terms: tuple[tuple[str, ...], ...]
    section: str

    @field_validator("terms")
    @classmethod
    def _some_terms(cls, terms: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        if not terms or not all(group and all(t.strip() for t in group) for group in terms):
            raise ValueError("a question needs at least one group of non-empty terms")
        return terms


class _Rule(_Strict):
    """What every requirement of a seed says: its id, where it holds, how much it matters and
    the seed's own words it comes from. ``section`` is a schema section's title; absent, the
    requirement holds of the whole note. A ``must`` that fails makes the note invalid (its
    section is repaired); a ``should`` that fails is a finding, shown and reported."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)
    section: str | None = None
    severity: Literal["must", "should"]
    seed: str = Field(min_length=1)

    def describe(self) -> str:
        """One line of the checklist: id, severity, where, the check with its parameters, and
        the seed's words."""
        given = self.model_dump(exclude={"id", "section", "severity", "seed"},
                                exclude_defaults=True)
        check = str(given.pop("check", ""))
        params = " ".join(f"{k}={', '.join(v) if isinstance(v, tuple) else v}"
                          for k, v in given.items())
        return (f"{self.id:32} {self.severity:6} {self.section or '(whole note)'}: "
                f"{check}{' ' + params if params else ''}  \u2190 {self.seed!r}")


class ListItemsRule(_Rule):
    """Items of the section's outermost lists (of the sub-part whose heading begins with
    ``under``, when given: "functional requirements", not "non-functional requirements")."""

    check: Literal["list_items"]
    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)
    under: str | None = None


class SubheadingsRule(_Rule):
    """Headings below the section's own (below the note's title, for the whole note)."""

    check: Literal["subheadings"]
    min: int = Field(ge=1)


class TermsRule(_Rule):
    """Words the section's text holds: each of ``all`` (a term may offer alternatives,
    ``memory|ram``) and one of ``any``; terms match as :class:`QuestionSpec` terms do."""

    check: Literal["terms"]
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _some_terms(self) -> TermsRule:
        terms = [*self.all, *self.any]
        if not terms or not all(t.strip() and all(a.strip() for a in t.split("|"))
                                for t in terms):
            raise ValueError("a terms check needs non-empty terms in 'all' or 'any'")
        return self


class DiagramRule(_Rule):
    """Diagrams of one kind in the section: ``mermaid`` (any Mermaid diagram that parses),
    ``mermaid:<type>`` (its declared type: ``sequenceDiagram``, ``C4Context``; or the parser's
    kind: ``sequence``, ``c4``) or ``ascii_box`` (a fenced diagram of boxes and lines)."""

    check: Literal["diagram"]
    kind: str = Field(pattern=r"^(mermaid(:[A-Za-z][A-Za-z0-9-]*)?|ascii_box)$")
    min: int = Field(default=1, ge=1)
    max: int | None = Field(default=None, ge=1)


class TableRule(_Rule):
    check: Literal["table"]
    min: int = Field(default=1, ge=1)


class CodeRule(_Rule):
    """Fenced code blocks with a language tag (diagrams and plain text are not code)."""

    check: Literal["code"]
    min: int = Field(default=1, ge=1)


class EndpointsRule(_Rule):
    """Distinct API endpoints the section names, as ``METHOD /path``."""

    check: Literal["endpoints"]
    min: int = Field(default=1, ge=1)
    max: int | None = Field(default=None, ge=1)


class HeadingEmojiRule(_Rule):
    """Each section heading (the section's, or every schema section's) starts with an emoji,
    after its numbering ("2. 🏗️ Architecture")."""

    check: Literal["heading_emoji"]


class MaxWidthRule(_Rule):
    """Every line of every code block and diagram is at most ``width`` columns as displayed
    (emoji and wide characters count two)."""

    check: Literal["max_width"]
    width: int = Field(ge=20)


class RendersRule(_Rule):
    """Every diagram is one Obsidian draws: no fence of Excalidraw, PlantUML, Graphviz (``dot``)
    or D2, which it shows as code."""

    check: Literal["renders"]


RequirementSpec = Annotated[
    ListItemsRule | SubheadingsRule | TermsRule | DiagramRule | TableRule | CodeRule
    | EndpointsRule | HeadingEmojiRule | MaxWidthRule | RendersRule,
    Field(discriminator="check"),
]


class PersonaSpec(_Strict):
    """The contents of ``prompts/<name>/persona.toml``."""

    name: str
    description: str
    seed: str
    placeholders: dict[str, Placeholder] = {}
    heading_level: int = Field(default=2, ge=1, le=4)
    numbered: bool = False
    enforce_order: bool = False  # False: a section out of order is a warning, not a failure
    document_requires: tuple[Requirement, ...] = ()
    # False: a missing section heading is no problem when the document-wide requirements hold
    # (a card whose diagram and bullets carry no headings of their own).
    require_headings: bool = True
    document_recommends: tuple[Requirement, ...] = ()
    max_tokens: int | None = None
    # A conversation persona: the user turns after the first (templates), and the template that
    # assembles the note from every turn. The first turn is user.md.j2, as for any persona.
    turns: tuple[str, ...] = ()
    note_template: str = "note.md.j2"
    default_question: str = ""
    sections: tuple[SectionSpec, ...]
    questions: tuple[QuestionSpec, ...] = ()
    requirements: tuple[RequirementSpec, ...] = ()

    @field_validator("placeholders")
    @classmethod
    def _placeholders_are_text(cls, placeholders: dict[str, Placeholder]) -> dict[str, Placeholder]:
        # An empty placeholder is found between every two characters of the seed.
        if any(not placeholder.strip() for placeholder in placeholders):
            raise ValueError("a placeholder must be the text to replace, not empty or blank")
        return placeholders

    @model_validator(mode="after")
    def _questions_belong_to_sections(self) -> PersonaSpec:
        titles = {s.title for s in self.sections}
        for question in self.questions:
            if question.section not in titles:
                raise ValueError(f"question {question.question!r}: no section titled "
                                 f"{question.section!r}")
        seen: set[str] = set()
        for rule in self.requirements:
            if rule.section is not None and rule.section not in titles:
                raise ValueError(f"requirement {rule.id!r}: no section titled {rule.section!r}")
            if rule.id in seen:
                raise ValueError(f"requirement {rule.id!r} is listed twice")
            seen.add(rule.id)
        return self

    @field_validator("sections")
    @classmethod
    def _unique_titles(cls, sections: tuple[SectionSpec, ...]) -> tuple[SectionSpec, ...]:
        titles = [s.title.casefold() for s in sections]
        if len(set(titles)) != len(titles):
            raise ValueError("section titles must be unique")
        if not sections:
            raise ValueError("a persona needs at least one section")
        return sections
