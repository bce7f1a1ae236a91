"""Note files: the one place a note is named, hashed for what it was made from, read and written.

A note is ``<out>/<persona>/<category>/<slug>.md``: YAML front matter in one layout (see
``_front_matter``), then the body formatted by mdformat. Its ``input_hash`` says what it was made
from (a rerun skips a note whose inputs are unchanged). An answer that never became valid is kept
apart as a draft (see ``_drafts``). A conversation persona's conversation is kept beside its note
as a dot-file, for regenerating within it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from .._files import atomic_write, inside, safe_segment
from .._memory import release_free_memory
from ..budget import Price, cost_of
from ..check import DEFAULT_OPTIONS, Report, ValidationOptions, checklist, validate_document
from ..compose import Message, Persona, PersonaSpec, Prompt, Topic, load_persona
from ..errors import NoteChangedError, NoteError, OutputError, RunStoppedError
from ..markdown import parse_document, split_front_matter
from ..providers import Completion, known_secrets, redact
from ..repair import NoteDraft
from ._drafts import DRAFTS, draft_path, save_draft
from ._front_matter import (
    OWNED_PROPERTIES,
    body_hash,
    front_matter_block,
    is_edited,
    note_front_matter,
    properties_edited,
    render_note,
    user_property_lines,
)

__all__ = [
    "INDEX_NOTE",
    "Note",
    "TopicOutcome",
    "conversation_path",
    "input_hash",
    "note_path",
    "on_disk",
    "read_note",
    "read_note_text",
    "recorded_input_hash",
    "save_note",
    "save_regenerated",
    "split_note",
    "walk_notes",
]

INDEX_NOTE = "index.md"
# Names the vault's own files take in a folder: a topic's note is never named so.
RESERVED_STEMS = frozenset({INDEX_NOTE.removesuffix(".md")})


# Names and what a note was made from.

def note_path(out: Path, persona: str, category: str | None, title: str,
              taken: set[Path] | None = None) -> Path:
    """``out/<persona>/<category>/<slug>.md``; a slug already taken this run gets a suffix."""
    folder = out / safe_segment(persona, "persona")
    if category:
        folder = folder / safe_segment(category, "category")
    stem = safe_segment(title, "topic")
    if stem in RESERVED_STEMS:  # a topic named "Index" must not become its folder's index
        stem = f"{stem}-note"
    path = folder / f"{stem}.md"
    counter = 2
    while taken is not None and path in taken:
        path = folder / f"{stem}-{counter}.md"
        counter += 1
    if not inside(out, path):  # a symlink inside the tree pointing out of it
        raise OutputError(f"{path}: resolves outside the output folder {out}")
    if taken is not None:
        taken.add(path)
    return path


def conversation_path(note: Path) -> Path:
    """Where a conversation note's conversation is kept (a dot-file: vaults ignore it)."""
    return note.with_name(f".{note.stem}.conversation.json")


def input_hash(prompt: Prompt, spec: PersonaSpec, provider: str, model: str) -> str:
    """What a note depends on: the request as sent (messages, output budget, temperature), the
    persona's schema, and who answers. A note whose hash matches is not made again."""
    payload = {
        "messages": [[m.role, m.content] for m in prompt.messages],
        "spec": spec.model_dump(mode="json"),
        "provider": provider,
        "model": model,
        "max_tokens": prompt.config.max_tokens,
        "temperature": prompt.config.temperature,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


# A note in the making, and what became of it.

@dataclass(frozen=True)
class TopicOutcome:
    """What happened to one topic."""

    topic: Topic
    status: Literal["written", "skipped", "invalid", "failed"]
    path: Path | None = None
    reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    cost: float | None = None
    findings: tuple[Any, ...] = ()  # the requirements the note does not meet (RequirementResult)


def _cost(completions: Sequence[Completion], prices: Mapping[str, Price]) -> float | None:
    """What a note's calls cost at their models' prices (None: a price is not known)."""
    costs = [cost_of(c.model, c.usage.input_tokens, c.usage.output_tokens, prices)
             for c in completions]
    return None if None in costs else sum((c or 0.0 for c in costs), 0.0)


class Stopping(Protocol):
    """A run's decision to stop (a ``threading.Event``, or a ``files.StopFlag`` that worker
    processes see too)."""

    def is_set(self) -> bool: ...


UNREAD = "unread"  # save_note's ``expected`` when the caller did not read the note before asking


def save_note(out: Path, path: Path, draft: NoteDraft, digest: str,
              prices: Mapping[str, Price] | None = None,
              stopping: Stopping | None = None, expected: str | None = UNREAD) -> TopicOutcome:
    """Write a valid draft as the note (and its conversation), or keep an invalid one apart.

    ``stopping`` set (the run was interrupted while this note was being formatted): nothing is
    written, and the topic stays unfinished for the next run. ``expected``: the note's
    :func:`fingerprint` when the request was made; a note no longer so was changed by someone
    while the model answered, and is kept as they left it (the answer becomes a draft). Without
    it, a note edited by hand is kept so. The user's own properties carry over to the new note."""
    # A model can echo anything it was shown; a key must not reach a note or a draft.
    draft.body = redact(draft.body, *known_secrets())
    common: dict[str, Any] = {
        "input_tokens": draft.input_tokens,
        "output_tokens": draft.output_tokens,
        "calls": len(draft.completions),
        "cost": _cost(draft.completions, prices or {}),
        "findings": checklist(draft.report).findings,
    }
    if stopping is not None and stopping.is_set():
        raise RunStoppedError("the run stopped before this note was written")
    if not draft.valid:
        kept = save_draft(out, path, draft, digest)
        reason = draft.error or "; ".join(draft.report.summary()[:3] if draft.report else [])
        return TopicOutcome(draft.topic, "invalid", kept, reason=reason, **common)
    current = _current_text(path)
    theirs = user_property_lines(split_note(current)[1]) if current else ""
    note = render_note(draft.body, note_front_matter(draft, digest), theirs)
    if stopping is not None and stopping.is_set():  # formatting a long note takes a while
        raise RunStoppedError("the run stopped before this note was written")
    changed = _changed_since(path, expected)
    if changed:
        draft.error = f"{path} {changed}: kept as it is; this answer is kept as a draft"
        kept_at = save_draft(out, path, draft, digest)
        return TopicOutcome(draft.topic, "skipped", kept_at, reason=(
            f"the note {changed}: kept as it is; the new answer is in {kept_at}"), **common)
    atomic_write(path, note)
    if draft.conversation:
        atomic_write(conversation_path(path), json.dumps(
            {"topic": draft.topic.title, "persona": draft.persona,
             "messages": draft.conversation}, indent=1, ensure_ascii=False) + "\n")
    stale = draft_path(out, path)
    for leftover in (stale, stale.with_suffix(".report.json")):
        leftover.unlink(missing_ok=True)
    release_free_memory()  # the note's parse and format leave their scratch behind
    return TopicOutcome(draft.topic, "written", path, **common)


def _changed_since(path: Path, expected: str | None) -> str | None:
    """Why the note at ``path`` must not be replaced now (None: it may be): read again right
    before the write, since a person may have edited it while the model was answering."""
    text = _current_text(path)
    if expected != UNREAD:
        return None if fingerprint(text) == expected else "changed on disk while the model answered"
    if not text:
        return None
    meta, _, body = split_note(text)
    if is_edited(meta, body) or (meta and properties_edited(meta)):
        return "was edited by hand since sdgen wrote it"
    return None


# Reading notes back.

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


def split_note(text: str) -> tuple[dict[str, Any], str, str]:
    """A note's front matter, that front matter's text, and its body (without the blank line
    sdgen writes after the front matter)."""
    meta, block, rest = split_front_matter(text)
    return meta, block, rest[1:] if rest.startswith("\n") else rest


def fingerprint(text: str | None) -> str | None:
    """The whole file as it was read (None: no file): a note that no longer has it was
    changed by someone while the model was answering."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def _current_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""  # there, but not a note sdgen can read: never the same as what was read


@dataclass(frozen=True)
class OnDisk:
    """What a run needs to know of a topic's note before asking for it again (one read)."""

    input_hash: str | None = None  # what it was made from (None: no note, or no hash)
    edited: str | None = None  # what was changed by hand since sdgen wrote it: body, properties
    fingerprint: str | None = None  # the file as read (None: no file)


def on_disk(path: Path) -> OnDisk:
    text = _current_text(path)
    if not text:
        return OnDisk(fingerprint=fingerprint(text))
    meta, _, body = split_note(text)
    value = meta.get("input_hash")
    edited = ("its body" if is_edited(meta, body)
              else "its properties" if meta and properties_edited(meta) else None)
    return OnDisk(value if isinstance(value, str) and body.strip() else None, edited,
                  fingerprint(text))


def recorded_input_hash(path: Path) -> str | None:
    """The ``input_hash`` a note on disk was written with (None: no such note, or none)."""
    return on_disk(path).input_hash


def _head(path: Path) -> str:
    """The start of a note, enough to hold its front matter (all of it when short)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(16_384)
        if head.startswith("---") and "\n---" not in head[3:]:
            head += handle.read()  # a front matter longer than the first read
    return head


def walk_notes(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every topic note sdgen wrote under ``root``, with its front matter, in path order:
    drafts, dot-files and index notes apart (only the start of each file is read)."""
    for path in sorted(root.rglob("*.md")):
        relative = path.relative_to(root).parts
        if (path.name == INDEX_NOTE or DRAFTS in relative
                or any(p.startswith(".") for p in relative)):
            continue
        try:
            meta, _, _ = split_front_matter(_head(path))
        except OSError:
            continue
        if meta.get("persona") and "sdgen-index" not in (meta.get("tags") or []):
            yield path, meta


@dataclass
class Note:
    """A note on disk: its front matter, its body as written, and its persona."""

    path: Path
    meta: dict[str, Any]
    body: str
    persona: Persona
    block: str = ""  # the front matter as written
    fingerprint: str | None = None  # the whole file as read

    @property
    def edited(self) -> bool:
        """True when the body no longer matches the hash written with it."""
        return is_edited(self.meta, self.body)

    def report(self, options: ValidationOptions = DEFAULT_OPTIONS) -> Report:
        return validate_document(parse_document(self.body), self.persona.spec, options,
                                 self.topic())

    def topic(self) -> Topic:
        meta = self.meta
        aliases = meta.get("aliases")
        aliases = aliases if isinstance(aliases, list) else []
        return Topic(str(meta.get("topic") or meta.get("title") or self.path.stem),
                     meta.get("category"), meta.get("question"), meta.get("context"),
                     aliases=tuple(str(a) for a in aliases))

    def conversation(self) -> tuple[Message, ...] | None:
        """A conversation note's conversation, kept beside it (None for other notes)."""
        path = conversation_path(self.path)
        if not self.persona.spec.turns or not path.is_file():
            return None
        try:
            messages = json.loads(path.read_text(encoding="utf-8"))["messages"]
            return tuple(Message(m["role"], m["content"]) for m in messages)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise NoteError(f"{path}: unreadable conversation: {exc}") from exc


def read_note(path: Path, persona: str | None = None, personas_dir: Sequence[Path] = ()) -> Note:
    text = read_note_text(path)
    meta, block, body = split_note(text)
    if not meta:
        raise NoteError(f"{path}: no front matter: regen needs a note written by sdgen")
    name = persona or meta.get("persona")
    if not isinstance(name, str) or not name:
        raise NoteError(f"{path}: no persona in the note's front matter; pass --persona NAME")
    return Note(path, meta, body, load_persona(name, personas_dir), block, fingerprint(text))


def save_regenerated(note: Note, new_body: str, sections: Sequence[str],
                     completions: Sequence[Completion], root: Path | None = None) -> None:
    """Rewrite a note with regenerated sections: the history and body hash updated, the rest of
    its front matter as it was (the user's own properties as written).

    The note is read again right before the write: one changed since it was read (someone
    edited it while the model answered) is kept as it is, and the regenerated note goes to
    the ``_drafts`` of its vault ``root`` (beside the note, as a dot-file, when it has none).
    The caller holds the note's lock, as a run does while it asks for a note."""
    meta = {k: v for k, v in note.meta.items() if k in OWNED_PROPERTIES}
    last = completions[-1]
    meta["regenerated"] = [*(meta.get("regenerated") or []), {
        "sections": list(sections),
        "at": last.created,
        "provider": last.provider,
        "model": last.model,
        "input_tokens": sum(c.usage.input_tokens for c in completions),
        "output_tokens": sum(c.usage.output_tokens for c in completions),
    }]
    meta["body_hash"] = body_hash(new_body)
    text = front_matter_block(meta, user_property_lines(note.block)) + new_body
    if fingerprint(_current_text(note.path)) != note.fingerprint:
        kept = (draft_path(root, note.path.resolve()) if root is not None
                else note.path.with_name(f".{note.path.stem}.regenerated.md"))
        atomic_write(kept, text)
        raise NoteChangedError(f"{note.path}: changed on disk while the model answered: "
                               f"kept as it is; the regenerated note is in {kept}")
    atomic_write(note.path, text)
