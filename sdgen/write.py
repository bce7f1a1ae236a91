"""Turn a validated answer into a note on disk: paths, front matter, formatting, atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mdformat
import yaml
from slugify import slugify

from .errors import OutputError

__all__ = [
    "MD_EXTENSIONS",
    "NoteRecord",
    "atomic_write",
    "body_hash",
    "format_markdown",
    "front_matter_block",
    "note_path",
    "render_note",
    "safe_segment",
    "write_index",
]

MD_EXTENSIONS = frozenset({"gfm", "frontmatter", "obsidian", "wikilink"})
_UMASK = os.umask(0)
os.umask(_UMASK)
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}
DRAFTS = "_drafts"


def format_markdown(text: str) -> str:
    """mdformat with GFM tables, front matter, Obsidian callouts and wikilinks kept intact."""
    return str(mdformat.text(text, extensions=MD_EXTENSIONS, options={"wrap": "keep", "number": True}))


def safe_segment(name: str, fallback: str = "untitled") -> str:
    """One path segment from any text: ASCII slug, no dots or separators, never reserved."""
    slug = slugify(unicodedata.normalize("NFKC", name), max_length=80, word_boundary=True,
                   save_order=True) or fallback
    if slug.split(".")[0] in _RESERVED:
        slug = f"{slug}-note"
    return slug


def _inside(root: Path, path: Path) -> bool:
    root_real, path_real = os.path.realpath(root), os.path.realpath(path)
    return os.path.commonpath([root_real, path_real]) == root_real


def note_path(out: Path, persona: str, category: str | None, title: str,
              taken: set[Path] | None = None) -> Path:
    """``out/<persona>/<category>/<slug>.md``; a slug already taken this run gets a suffix."""
    folder = out / safe_segment(persona, "persona")
    if category:
        folder = folder / safe_segment(category, "category")
    stem = safe_segment(title, "topic")
    path = folder / f"{stem}.md"
    counter = 2
    while taken is not None and path in taken:
        path = folder / f"{stem}-{counter}.md"
        counter += 1
    if not _inside(out, path):  # a symlink inside the tree pointing out of it
        raise OutputError(f"{path}: resolves outside the output folder {out}")
    if taken is not None:
        taken.add(path)
    return path


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def front_matter_block(meta: Mapping[str, Any]) -> str:
    """YAML front matter, written the same way wherever sdgen writes or rewrites it."""
    header = yaml.safe_dump(dict(meta), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{header}---\n\n"


def render_note(body: str, front_matter: Mapping[str, Any]) -> str:
    """Front matter plus formatted body; formatting the result again changes nothing."""
    formatted = format_markdown(body)
    return front_matter_block({**front_matter, "body_hash": body_hash(formatted)}) + formatted


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a note is an ordinary file
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
        raise


@dataclass(frozen=True)
class NoteRecord:
    """A note as the persona index lists it."""

    path: Path
    title: str
    category: str | None


def write_index(folder: Path, persona: str, notes: Iterable[NoteRecord]) -> Path:
    """``index.md`` for a persona folder: every note as a wikilink, in index order."""
    lines = [f"# {persona} notes", ""]
    current: str | None = None
    for note in notes:
        if note.category != current and (note.category or current):
            lines += ["", f"## {note.category or 'Other topics'}", ""]
        current = note.category
        target = note.path.relative_to(folder).with_suffix("").as_posix()
        label = re.sub(r"[\[\]|]", "", note.title)
        lines.append(f"- [[{target}|{label}]]")
    index = folder / "index.md"
    front = {"title": f"{persona} notes", "persona": persona, "tags": ["sdgen-index"]}
    atomic_write(index, front_matter_block(front) + format_markdown("\n".join(lines) + "\n"))
    return index
