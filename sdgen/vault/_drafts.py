"""Drafts: an answer that never became a valid note, kept apart under ``_drafts/`` with its report
so nothing invalid passes as final; and an answer rescued there (or under the system's
temporary folder) when its note could not be written.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from .._files import atomic_write, inside
from ..errors import OutputError
from ..providers import known_secrets, redact
from ..repair import NoteDraft
from ._front_matter import note_front_matter, render_note

__all__ = ["DRAFTS", "draft_path", "rescue_answer", "save_draft"]

DRAFTS = "_drafts"


def draft_path(out: Path, note: Path) -> Path:
    return out / DRAFTS / note.relative_to(out)


def save_draft(out: Path, final_path: Path, draft: NoteDraft, digest: str | None = None) -> Path:
    """Keep a failed answer apart, with its report, so nothing invalid passes as final. It has
    a note's front matter, marked ``draft`` with the reason, so ``sdgen validate`` and ``sdgen
    regen`` work on it as on a note."""
    path = draft_path(out, final_path)
    if not inside(out, path):  # `_drafts` may be a symlink pointing out of the tree
        raise OutputError(f"{path}: resolves outside the output folder {out}")
    text = draft.body or ""
    if text.strip() and draft.completions:
        why = draft.error or "; ".join(draft.report.summary()[:3] if draft.report else [])
        meta = {**note_front_matter(draft, digest or ""), "draft": " ".join(why.split())[:500]
                or "not valid"}
        text = render_note(text, {k: v for k, v in meta.items() if v != ""})
    atomic_write(path, text)
    report = {
        "topic": draft.topic.title,
        "persona": draft.persona,
        "error": draft.error,
        "report": draft.report.as_json() if draft.report else None,
        "calls": len(draft.completions),
        "answered": draft.completions[-1].created if draft.completions else None,
    }
    atomic_write(path.with_suffix(".report.json"),
                 json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


RESCUE = "sdgen-rescued"  # under the system's temporary folder: often another disk


def rescue_answer(out: Path, path: Path, draft: NoteDraft) -> Path | None:
    """An answer whose note could not be written (a full disk) kept as a draft: in ``_drafts``
    if that can still be written, else under the system's temporary folder. None when neither
    can hold it: the answer was paid for, and is lost only when nowhere will take it."""
    if not draft.body:
        return None
    draft.body = redact(draft.body, *known_secrets())
    draft.error = draft.error or "the note could not be written"
    with contextlib.suppress(OutputError):
        return save_draft(out, path, draft)
    fallback = Path(tempfile.gettempdir()) / RESCUE / out.resolve().name
    with contextlib.suppress(OutputError):
        return save_draft(fallback, fallback / path.relative_to(out), draft)
    return None
