"""The output folder as a vault: each persona folder's ``index.md`` lists every note in it.

An index is rebuilt from the notes on disk, not only from the run that just ended: notes written
by earlier runs stay listed, in this run's topic order first, then in the order they were found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write
from .markdown import split_front_matter
from .notes import DRAFTS, INDEX_NOTE, format_markdown, front_matter_block

__all__ = ["NoteRecord", "notes_in", "update_index", "write_index"]


@dataclass(frozen=True)
class NoteRecord:
    """A note as the persona index lists it."""

    path: Path
    title: str
    category: str | None


def notes_in(folder: Path) -> list[NoteRecord]:
    """Every note sdgen wrote under a persona folder (drafts, dot-files and the index apart)."""
    records = []
    for path in sorted(folder.rglob("*.md")):
        relative = path.relative_to(folder).parts
        if path.name == INDEX_NOTE or DRAFTS in relative or any(p.startswith(".") for p in relative):
            continue
        try:
            meta, _, _ = split_front_matter(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        if not meta.get("persona"):
            continue  # not a note sdgen wrote
        category = meta.get("category")
        records.append(NoteRecord(path, str(meta.get("title") or path.stem),
                                  category if isinstance(category, str) else None))
    return records


def write_index(folder: Path, persona: str, notes: Iterable[NoteRecord]) -> Path:
    """``index.md`` for a persona folder: every note as a wikilink, grouped by category."""
    by_category: dict[str | None, list[NoteRecord]] = {}
    for note in notes:
        by_category.setdefault(note.category, []).append(note)
    lines = [f"# {persona} notes", ""]
    for category, records in by_category.items():
        if category or len(by_category) > 1:
            lines += ["", f"## {category or 'Other topics'}", ""]
        for note in records:
            target = note.path.relative_to(folder).with_suffix("").as_posix()
            label = re.sub(r"[\[\]|]", "", note.title)
            lines.append(f"- [[{target}|{label}]]")
    index = folder / INDEX_NOTE
    front = {"title": f"{persona} notes", "persona": persona, "tags": ["sdgen-index"]}
    atomic_write(index, front_matter_block(front) + format_markdown("\n".join(lines) + "\n"))
    return index


def update_index(folder: Path, persona: str, ordered: Iterable[NoteRecord] = ()) -> Path | None:
    """Rewrite a persona's index: the ``ordered`` notes first (a run's topic order), then every
    other note in the folder. None when the folder holds no note."""
    on_disk = {r.path: r for r in notes_in(folder)} if folder.is_dir() else {}
    listed = [r for r in ordered if r.path in on_disk]
    seen = {r.path for r in listed}
    listed += [r for path, r in on_disk.items() if path not in seen]
    return write_index(folder, persona, listed) if listed else None
