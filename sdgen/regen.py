"""Regenerate sections of a written note in place, leaving every other byte as it was."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .compose import Message, Prompt, compose
from .errors import NoteError, SdgenError
from .markdown import parse_document, split_front_matter
from .personas import Persona, load_persona
from .providers.base import Completion, Provider
from .runner import conversation_path
from .sections import (
    SectionTarget,
    ask_for_sections,
    extract_sections,
    find_section,
    splice_sections,
    targets_for,
)
from .topics import Topic
from .validate import Report, validate_document
from .write import atomic_write, body_hash, front_matter_block

__all__ = ["Note", "RegenResult", "SectionNotFoundError", "read_note", "regenerate"]


class SectionNotFoundError(SdgenError):
    """The section asked for is not one of the note's (exit 2, with the note's sections)."""


@dataclass
class Note:
    """A note on disk: its front matter, its body as written, and its persona."""

    path: Path
    meta: dict[str, Any]
    body: str
    persona: Persona

    @property
    def edited(self) -> bool:
        """True when the body no longer matches the hash written with it."""
        recorded = self.meta.get("body_hash")
        return bool(recorded) and recorded != body_hash(self.body)

    def report(self) -> Report:
        return validate_document(parse_document(self.body), self.persona.spec)

    def topic(self) -> Topic:
        meta = self.meta
        return Topic(str(meta.get("topic") or meta.get("title") or self.path.stem),
                     meta.get("category"), meta.get("question"), meta.get("context"))


def read_note_text(path: Path) -> str:
    """A note's text; anything that is not a readable UTF-8 file is one NoteError line."""
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError as exc:
        raise NoteError(f"{path}: is a directory, not a note") from exc
    except FileNotFoundError as exc:
        raise NoteError(f"{path}: no such note") from exc
    except UnicodeDecodeError as exc:
        raise NoteError(f"{path}: not UTF-8 text, so not a Markdown note") from exc
    except OSError as exc:
        raise NoteError(f"{path}: cannot read: {exc.strerror}") from exc


def read_note(path: Path, persona: str | None = None, personas_dir: Sequence[Path] = ()) -> Note:
    meta, _, rest = split_front_matter(read_note_text(path))
    if not meta:
        raise NoteError(f"{path}: no front matter: regen needs a note written by sdgen")
    name = persona or meta.get("persona")
    if not isinstance(name, str) or not name:
        raise NoteError(f"{path}: no persona in the note's front matter; pass --persona NAME")
    body = rest[1:] if rest.startswith("\n") else rest  # the blank line after the front matter
    return Note(path, meta, body, load_persona(name, personas_dir))


def resolve_targets(note: Note, sections: Sequence[str], invalid: bool) -> list[SectionTarget]:
    doc = parse_document(note.body)
    report = note.report()
    if invalid:
        indexes = [i for i, s in enumerate(report.sections) if s.problems]
    else:
        indexes = []
        for query in sections:
            index = find_section(note.persona, doc, query)
            if index is None:
                names = ", ".join(f"{i + 1}. {s.title}"
                                  for i, s in enumerate(note.persona.spec.sections))
                raise SectionNotFoundError(
                    f"{note.path}: no section matches {query!r}; the note's sections: {names}")
            indexes.append(index)
    return targets_for(note.persona, doc, list(dict.fromkeys(indexes)), report)


@dataclass
class RegenResult:
    path: Path
    sections: list[str]
    completions: list[Completion] = field(default_factory=list)
    report: Report | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None and all(
            not s.problems for s in self.report.sections if s.title in self.sections)


def _front_matter(note: Note, new_body: str, targets: Sequence[SectionTarget],
                  completions: Sequence[Completion]) -> str:
    meta = dict(note.meta)
    history = list(meta.get("regenerated") or [])
    last = completions[-1]
    history.append({
        "sections": [t.title for t in targets],
        "at": last.created,
        "provider": last.provider,
        "model": last.model,
        "input_tokens": sum(c.usage.input_tokens for c in completions),
        "output_tokens": sum(c.usage.output_tokens for c in completions),
    })
    meta["regenerated"] = history
    meta["body_hash"] = body_hash(new_body)
    return front_matter_block(meta)


async def regenerate(note: Note, targets: Sequence[SectionTarget], provider: Provider, *,
                     instructions: str | None = None, attempts: int = 2,
                     force: bool = False) -> RegenResult:
    """Ask for the target sections, validate them in place, and rewrite the note atomically.

    The note is left exactly as it was when anything fails. A note edited by hand since it was
    written is only changed with ``force``.
    """
    if note.edited and not force:
        raise NoteError(f"{note.path}: edited by hand since sdgen wrote it (its body no longer "
                        "matches body_hash); use --force to regenerate anyway")
    result = RegenResult(note.path, [t.title for t in targets])
    if not targets:
        result.report = note.report()
        return result
    topic_prompt = compose(note.persona, note.topic())
    prompt = ask_for_sections(note.persona, note.body, targets, topic_prompt, instructions,
                              history=_stored_conversation(note, topic_prompt), with_note=True)
    body = note.body
    for _ in range(max(1, attempts)):
        completion = await provider.complete(prompt)
        result.completions.append(completion)
        replacements = extract_sections(note.persona, completion.text, targets)
        body = splice_sections(note.persona, note.body, targets, replacements)
        result.report = validate_document(parse_document(body), note.persona.spec)
        missing = [t.title for t in targets if t.index not in replacements]
        problems = [f"{s.title}: {p}" for s in result.report.sections
                    if s.title in result.sections for p in s.problems]
        problems += [f"{title}: the reply did not contain this section" for title in missing]
        if not problems and not completion.truncated:
            atomic_write(note.path, _front_matter(note, body, targets, result.completions) + body)
            return result
        prompt = prompt.with_messages((*prompt.messages, *_follow_up(completion.text, problems)))
    return result


def _stored_conversation(note: Note, topic_prompt: Prompt) -> Prompt | None:
    """A conversation note's conversation, kept beside it, as the context of a regeneration."""
    path = conversation_path(note.path)
    if not note.persona.spec.turns or not path.is_file():
        return None
    try:
        messages = json.loads(path.read_text(encoding="utf-8"))["messages"]
        kept = tuple(Message(m["role"], m["content"]) for m in messages)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NoteError(f"{path}: unreadable conversation: {exc}") from exc
    return topic_prompt.with_messages(kept)


def _follow_up(answer: str, problems: list[str]) -> tuple[Message, ...]:
    text = "That reply still has problems; fix exactly these and reply again the same way:\n"
    return (Message("assistant", answer),
            Message("user", text + "\n".join(f"- {p}" for p in problems)))
