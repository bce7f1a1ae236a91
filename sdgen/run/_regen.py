"""Regenerate sections of a written note in place, leaving every other byte as it was.

The request for the sections is the first answer of the one repair loop (:mod:`sdgen.pipeline`),
which splices them into the note, validates them and asks again for those still failing. The
note is rewritten only when every section asked for came back valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._files import is_read_only
from ..check import DEFAULT_OPTIONS, Report, ValidationOptions
from ..errors import AnswerRejectedError, NoteError, ReadOnlyFileError, SectionNotFoundError
from ..markdown import parse_document
from ..providers import Completion, Provider
from ..repair import (
    AnswerPolicy,
    FirstAnswer,
    NoteDraft,
    SectionTarget,
    TopicJob,
    ask_for_sections,
    ask_with,
    closest_section,
    find_section,
    refine,
    targets_for,
)
from ..vault import Note, save_regenerated

__all__ = ["RegenResult", "regenerate", "resolve_targets", "section_indexes"]


def section_indexes(note: Note, sections: Sequence[str]) -> list[int]:
    """The schema sections named (loose names or numbers), each once; a name no section has is
    one line, with the section it resembles ("'API Desing' → 'API Design'") and the list."""
    doc = parse_document(note.body)
    indexes = []
    specs = note.persona.spec.sections
    for query in sections:
        index = find_section(note.persona, doc, query)
        if index is None:
            names = ", ".join(f"{i + 1}. {s.title}" for i, s in enumerate(specs))
            near = closest_section(note.persona, query)
            hint = (f" (did you mean {query!r} → {specs[near].title!r}: --section {near + 1}?)"
                    if near is not None else "")
            raise SectionNotFoundError(
                f"{note.path}: no section is named {query!r}{hint}; the note's sections: {names}")
        indexes.append(index)
    return list(dict.fromkeys(indexes))


def resolve_targets(note: Note, sections: Sequence[str], invalid: bool,
                    options: ValidationOptions = DEFAULT_OPTIONS) -> list[SectionTarget]:
    """The sections asked for (loose names or numbers), or every invalid one."""
    indexes = [] if invalid else section_indexes(note, sections)
    report = note.report(options)
    if invalid:
        indexes = report.failing
    return targets_for(note.persona, parse_document(note.body), indexes, report)


@dataclass
class RegenResult:
    path: Path
    sections: list[str]
    completions: list[Completion] = field(default_factory=list)
    report: Report | None = None
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.written or (not self.sections and self.report is not None)


def _ask_for_targets(job: TopicJob, note: Note, targets: Sequence[SectionTarget],
                     provider: Provider, draft: NoteDraft, policy: AnswerPolicy,
                     instructions: str | None) -> FirstAnswer:
    """The first answer: the persona's system prompt (or the note's stored conversation), the
    note as it stands, and the request for the sections."""
    stored = note.conversation()
    request = ask_for_sections(note.persona, note.body, targets, job.prompt, instructions,
                               history=job.prompt.with_messages(stored) if stored else None,
                               with_note=True)
    return ask_with(note.persona, request, provider, draft, policy.continuations)


async def regenerate(note: Note, job: TopicJob, targets: Sequence[SectionTarget],
                     provider: Provider, *, policy: AnswerPolicy | None = None,
                     instructions: str | None = None, force: bool = False,
                     root: Path | None = None) -> RegenResult:
    """Ask for the target sections, validate them in place, and rewrite the note atomically.

    The note is left exactly as it was when anything fails. A note edited by hand since it was
    written is only changed with ``force``; one edited while the model answered is never
    changed (the regenerated note is kept in the ``_drafts`` of its vault ``root``).
    """
    if is_read_only(note.path):  # its owner's choice: nothing is asked for that cannot be written
        raise ReadOnlyFileError(f"{note.path}: read-only: not regenerated (make it writable "
                                "to let sdgen change it)")
    if note.edited and not force:
        raise NoteError(f"{note.path}: edited by hand since sdgen wrote it (its body no longer "
                        "matches body_hash); use --force to regenerate anyway")
    result = RegenResult(note.path, [t.title for t in targets])
    policy = policy or AnswerPolicy()
    if not targets:
        result.report = note.report(policy.validation)
        return result
    draft = NoteDraft(job.topic, note.persona.name, job.prompt.prompt_hash)
    first = _ask_for_targets(job, note, targets, provider, draft, policy, instructions)
    try:
        await refine(job, provider, policy, first, draft, base=note.body, targets=targets,
                     instructions=instructions)
        save_regenerated(note, draft.body, result.sections, draft.completions, root)
        result.written = True
    except AnswerRejectedError:
        pass  # the note stays as it was; the report says why
    result.completions, result.report = draft.completions, draft.report
    return result
