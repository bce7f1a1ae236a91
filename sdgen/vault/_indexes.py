"""The output folder as a vault a reader can walk: a home note, a persona index per persona
folder, and every note reachable from them.

    <out>/index.md              the home note: every persona index and category, with counts
    <out>/<persona>/index.md    every note of the persona, by category

Indexes are rebuilt from the notes on disk, not only from the run that just ended: a note keeps
its place from the previous index, this run's new notes follow in topic order, then any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .._files import atomic_write, safe_segment
from ..markdown import format_markdown
from ._front_matter import front_matter_block
from ._notes import INDEX_NOTE, walk_notes

__all__ = [
    "HOME_TITLE",
    "INDEX_TAG",
    "NoteRecord",
    "home_note",
    "listed_notes",
    "notes_in",
    "update_index",
    "vault_root",
    "write_home",
    "write_index",
]

HOME_TITLE = "System design notes"
INDEX_TAG = "sdgen-index"


@dataclass(frozen=True)
class NoteRecord:
    """A note as the persona index lists it."""

    path: Path
    title: str
    category: str | None


def notes_in(folder: Path) -> list[NoteRecord]:
    """Every note sdgen wrote under a persona folder (drafts, dot-files and the index apart)."""
    records = []
    for path, meta in walk_notes(folder):
        category = meta.get("category")
        records.append(NoteRecord(path, str(meta.get("title") or path.stem),
                                  category if isinstance(category, str) else None))
    return records


def _label(text: str) -> str:
    """A name as link text or heading: one line, no characters that end a link or a heading."""
    return " ".join(re.sub(r"[\[\]|#^]", "", text).split()) or "untitled"


def write_index(folder: Path, persona: str, notes: Iterable[NoteRecord]) -> Path:
    """``index.md`` for a persona folder: every note as a wikilink, grouped by category."""
    by_category: dict[str | None, list[NoteRecord]] = {}
    for note in notes:
        by_category.setdefault(note.category, []).append(note)
    lines = [f"# {_label(persona)} notes", ""]
    for category, records in by_category.items():
        if category or len(by_category) > 1:
            lines += ["", f"## {_label(category) if category else 'Other topics'}", ""]
        for note in records:
            # From the vault root: a path within the persona folder alone could also name
            # the same topic in another persona's folder.
            target = note.path.relative_to(folder.parent).with_suffix("").as_posix()
            lines.append(f"- [[{target}|{_label(note.title)}]]")
    index = folder / INDEX_NOTE
    front = {"title": f"{persona} notes", "persona": persona, "tags": [INDEX_TAG]}
    atomic_write(index, front_matter_block(front) + format_markdown("\n".join(lines) + "\n"))
    return index


def listed_notes(index: Path) -> list[Path]:
    """The notes an index lists, in its order."""
    try:
        text = index.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    listed = []
    for match in re.finditer(r"\[\[([^\]|#\n]+)", text):
        from_root = index.parent.parent / f"{match.group(1)}.md"  # as written since 0.1
        from_folder = index.parent / f"{match.group(1)}.md"  # as earlier indexes wrote it
        inside = from_root.parent.is_relative_to(index.parent)
        listed.append(from_root if inside and from_root.is_file() else from_folder)
    return listed


def update_index(folder: Path, persona: str, ordered: Iterable[NoteRecord] = ()) -> Path | None:
    """Rewrite a persona's index from the notes in its folder: each keeps its place from the
    previous index, the ``ordered`` ones (a run's topic order) follow, then any other. None when
    the folder holds no note."""
    on_disk = {r.path: r for r in notes_in(folder)} if folder.is_dir() else {}
    order = [*listed_notes(folder / INDEX_NOTE), *(r.path for r in ordered), *sorted(on_disk)]
    listed = [on_disk[p] for p in dict.fromkeys(order) if p in on_disk]
    return write_index(folder, persona, listed) if listed else None


def vault_root(note: Path, persona: str) -> Path | None:
    """The output folder a note was written into (``<out>/<persona>/…``, its persona folder
    holding an index); None for a note that is not in one."""
    folder = safe_segment(persona, "persona")
    for parent in note.resolve().parents:
        if parent.name == folder and (parent / INDEX_NOTE).is_file():
            return parent.parent
    return None


def home_note(out: Path) -> str | None:
    """The text of the vault's home note: each persona index, and each category in it, with
    counts. None when the vault holds no note."""
    lines = [f"# {HOME_TITLE}", ""]
    total = 0
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and (p / INDEX_NOTE).is_file()):
        notes = notes_in(folder)
        if not notes:
            continue
        total += len(notes)
        persona = folder.name
        lines.append(f"- [[{persona}/index|{_label(persona)}]]: {len(notes)} "
                     f"note{'s' if len(notes) != 1 else ''}")
        counts: dict[str, int] = {}
        for note in notes:
            key = _label(note.category) if note.category else "Other topics"
            counts[key] = counts.get(key, 0) + 1
        if len(counts) > 1 or "Other topics" not in counts:
            lines += [f"  - [[{persona}/index#{c}|{c}]]: {n}" for c, n in counts.items()]
    if not total:
        return None
    front = {"title": HOME_TITLE, "tags": [INDEX_TAG], "notes": total}
    return front_matter_block(front) + format_markdown("\n".join(lines) + "\n")


def write_home(out: Path) -> Path | None:
    """Write the vault's home note (see ``home_note``); None when the vault holds no note."""
    text = home_note(out)
    if text is None:
        return None
    home = out / INDEX_NOTE
    atomic_write(home, text)
    return home
