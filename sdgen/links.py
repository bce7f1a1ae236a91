"""Links between notes: each note's first mention, in prose, of another note's topic becomes a
wikilink Obsidian resolves (``[[persona/category/slug|the words as written]]``).

One pass of a multi-pattern matcher (Aho-Corasick) finds every title and alias of every note in a
note's text; only prose can take a link: never code blocks or diagrams, inline code, headings,
front matter, tables, callout titles, URLs, HTML or existing links. Whole words only, any case,
simple plurals; the longest name wins ("Consistent Hashing" before "Hashing"); a note never links
itself, and links each other note at most once. A topic held by several personas links to the
note of the linking note's own persona.

Linking is idempotent: a rerun with nothing new changes no byte. A note edited by hand (its body
no longer matches ``body_hash``) is never rewritten, only listed; ``links: false`` in a note's
front matter opts it out (it can still be linked to).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick

from .files import atomic_write
from .markdown import split_front_matter
from .notes import DRAFTS, INDEX_NOTE, body_hash, front_matter_block

__all__ = ["LinkReport", "VaultNote", "link_text", "link_vault", "read_vault"]

_MIN_NAME = 3  # shorter names ("DB", "AI") would link every other sentence
_FENCE = re.compile(r"^(?:\s*>)*\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^(?:\s*>)*\s{0,3}#{1,6}(?:\s|$)")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_CALLOUT_TITLE = re.compile(r"^(?:\s*>)+\s*\[![\w-]+\]")
_TABLE_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)+\|?\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_HTML_BLOCK = re.compile(r"^\s*</?[A-Za-z][\w-]*[\s>/]")
# Inline spans that never take a link: code, links of any kind, URLs, HTML, math.
_INLINE_FORBIDDEN = re.compile(
    r"(`+).*?\1"
    r"|!?\[\[.*?\]\]"
    r"|!?\[[^\]\n]*\]\([^)\n]*\)"
    r"|!?\[[^\]\n]*\]\[[^\]\n]*\]"
    r"|<(?:https?|mailto|ftp):[^>\s]*>"
    r"|\b(?:https?|ftp)://\S+|\bwww\.\S+"
    r"|</?[A-Za-z][^>\n]*>"
    r"|\$\$.*?\$\$|\$[^$\n]+\$"
)
_WIKILINK_TARGET = re.compile(r"!?\[\[([^\]|#\n]+)")


@dataclass
class VaultNote:
    """A note of the vault, as linking sees it."""

    path: Path
    target: str  # its path from the vault root, without .md: what a wikilink names
    persona: str
    names: list[str]  # its title, topic and aliases
    meta: dict[str, Any]
    body: str
    edited: bool
    opted_out: bool


@dataclass
class LinkReport:
    """What a linking pass did."""

    rewritten: list[Path] = field(default_factory=list)
    links: int = 0
    edited: list[Path] = field(default_factory=list)  # hand-edited: left alone
    notes: int = 0


def _names(meta: dict[str, Any]) -> list[str]:
    values = [meta.get("title"), meta.get("topic")]
    aliases = meta.get("aliases")
    values += aliases if isinstance(aliases, list) else [aliases]
    names: list[str] = []
    for value in values:
        if isinstance(value, str):
            name = " ".join(value.split())
            if len(name) >= _MIN_NAME and name.casefold() not in {n.casefold() for n in names}:
                names.append(name)
    return names


def read_vault(out: Path) -> list[VaultNote]:
    """Every topic note sdgen wrote under ``out`` (drafts, dot-files and indexes apart)."""
    notes = []
    for path in sorted(out.rglob("*.md")):
        relative = path.relative_to(out)
        if (path.name == INDEX_NOTE or relative.parts[0] == DRAFTS
                or any(p.startswith(".") for p in relative.parts)):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        meta, _, rest = split_front_matter(text)
        if not meta.get("persona") or "sdgen-index" in (meta.get("tags") or []):
            continue
        body = rest[1:] if rest.startswith("\n") else rest
        recorded = meta.get("body_hash")
        notes.append(VaultNote(
            path=path, target=relative.with_suffix("").as_posix(),
            persona=str(meta["persona"]), names=_names(meta), meta=meta, body=body,
            edited=bool(recorded) and recorded != body_hash(body),
            opted_out=meta.get("links") is False))
    return notes


def _lower(text: str) -> str:
    """Lowercase without changing any offset (a few characters lowercase to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _prose_spans(body: str) -> list[tuple[int, int]]:
    """The character ranges of a body that are prose (where a link may go)."""
    spans: list[tuple[int, int]] = []
    lines = body.split("\n")
    fence: str | None = None
    in_math = in_table = False
    offset = 0
    for number, line in enumerate(lines):
        start, offset = offset, offset + len(line) + 1
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        if line.strip() == "$$":
            in_math = not in_math
            continue
        if in_math:
            continue
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if _TABLE_DELIMITER.match(following) and "|" in line:
            in_table = True
        if in_table:
            in_table = bool(line.strip()) and "|" in line
            if in_table or not line.strip():
                continue
        if (not line.strip() or _HEADING.match(line) or _CALLOUT_TITLE.match(line)
                or _HTML_BLOCK.match(line) or _SETEXT.match(line)
                or (_SETEXT.match(following) and following.strip() and line.strip())):
            continue
        if (len(line) - len(line.lstrip(" ")) >= 4 or line.startswith("\t")) and not _LIST_ITEM.match(line):
            continue  # an indented code block (or a deep continuation line: left alone)
        cursor = start
        for forbidden in _INLINE_FORBIDDEN.finditer(line):
            if forbidden.start() > 0:
                spans.append((cursor, start + forbidden.start()))
            cursor = start + forbidden.end()
        spans.append((cursor, start + len(line)))
    return [(a, b) for a, b in spans if b > a]


def _variants(name: str) -> Iterator[str]:
    """A name as it may be written: any case (matched lowercased), plural, hyphen or space."""
    base = name.casefold()
    forms = {base, base.replace("-", " "), base.replace(" ", "-")}
    for form in forms:
        yield form
        yield form + "s"
        yield form + "es"
        if form.endswith("y"):
            yield form[:-1] + "ies"


class _Matcher:
    """Every name of every note, in one automaton."""

    def __init__(self, notes: Iterable[VaultNote]) -> None:
        self.owners: dict[str, list[VaultNote]] = {}
        for note in notes:
            for name in note.names:
                for form in _variants(name):
                    owners = self.owners.setdefault(form, [])
                    if note not in owners:
                        owners.append(note)
        self.automaton = ahocorasick.Automaton()
        for form in self.owners:
            self.automaton.add_word(form, form)
        self.empty = not self.owners
        if not self.empty:
            self.automaton.make_automaton()

    def matches(self, lowered: str) -> list[tuple[int, int, str]]:
        """(start, end, form) of every whole-word occurrence, longest first where they overlap."""
        if self.empty:
            return []
        found = []
        for end_index, form in self.automaton.iter(lowered):
            start, end = end_index - len(form) + 1, end_index + 1
            before = lowered[start - 1] if start else " "
            after = lowered[end] if end < len(lowered) else " "
            if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
                found.append((start, end, form))
        found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
        chosen: list[tuple[int, int, str]] = []
        reach = -1
        for start, end, form in found:
            if start >= reach:
                chosen.append((start, end, form))
                reach = end
        return chosen


def _target_for(owners: list[VaultNote], note: VaultNote) -> VaultNote | None:
    """The note a mention links to: never the note itself; its own persona's first."""
    others = [o for o in owners if o.path != note.path]
    if not others:
        return None
    return min(others, key=lambda o: (o.persona != note.persona, o.target))


class _Resolver:
    """Whether a wikilink target resolves the way Obsidian resolves it: a path from the vault
    root or a path suffix, a file name, or an alias (any case)."""

    def __init__(self, out: Path, notes: Iterable[VaultNote]) -> None:
        self.known: set[str] = set()
        for path in out.rglob("*.md"):
            parts = path.relative_to(out).with_suffix("").as_posix().casefold().split("/")
            self.known.update("/".join(parts[i:]) for i in range(len(parts)))
        for note in notes:
            self.known.update(n.casefold() for n in note.names)

    def resolves(self, target: str) -> bool:
        target = target.strip().removesuffix(".md").casefold()
        return not target or target in self.known


_DANGLING = re.compile(r"(?<!!)\[\[([^\]|#\n]*)(#[^\]|\n]*)?(?:\|([^\]\n]*))?\]\]")


def _without_dangling(body: str, resolver: _Resolver) -> tuple[str, int]:
    """Wikilinks a model wrote to notes that do not exist, as their plain words (a vault whose
    every link leads somewhere)."""
    dropped = 0

    def plain(match: re.Match[str]) -> str:
        nonlocal dropped
        if resolver.resolves(match.group(1)):
            return match.group(0)
        dropped += 1
        return match.group(3) or match.group(1)

    fenced = _fenced_ranges(body)
    pieces, cursor = [], 0
    for start, end in [*fenced, (len(body), len(body))]:
        pieces.append(_DANGLING.sub(plain, body[cursor:start]))
        pieces.append(body[start:end])
        cursor = end
    return "".join(pieces), dropped


def _fenced_ranges(body: str) -> list[tuple[int, int]]:
    """The character ranges of fenced code blocks (their text is never touched)."""
    ranges, fence, offset, begin = [], None, 0, 0
    for line in body.split("\n"):
        start, offset = offset, offset + len(line) + 1
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence, begin = opened.group(1), start
        elif fence is not None and opened and opened.group(1)[0] == fence[0] and len(
                opened.group(1)) >= len(fence):
            ranges.append((begin, min(offset, len(body))))
            fence = None
    if fence is not None:
        ranges.append((begin, len(body)))
    return ranges


def link_text(note: VaultNote, matcher: _Matcher,
              resolver: _Resolver | None = None) -> tuple[str, int]:
    """The note's body with its first prose mention of each other note linked (and, given a
    resolver, links to notes that do not exist made plain words); the number of changes."""
    body, changes = _without_dangling(note.body, resolver) if resolver else (note.body, 0)
    spans = _prose_spans(body)
    starts = [a for a, _ in spans]
    linked = {m.group(1).strip().removesuffix(".md") for m in _WIKILINK_TARGET.finditer(body)}
    edits: list[tuple[int, int, str]] = []
    for start, end, form in matcher.matches(_lower(body)):
        at = bisect.bisect_right(starts, start) - 1
        if at < 0 or end > spans[at][1]:
            continue  # not (wholly) in prose
        target = _target_for(matcher.owners[form], note)
        if target is None or target.target in linked:
            continue
        linked.add(target.target)
        words = body[start:end]
        edits.append((start, end, f"[[{target.target}|{words}]]"))
    for start, end, link in reversed(edits):
        body = body[:start] + link + body[end:]
    return body, len(edits) + changes


def link_vault(out: Path) -> LinkReport:
    """Link every note of the vault under ``out``; rewrite (atomically) only the notes that
    change, with their ``body_hash`` brought up to date."""
    notes = read_vault(out) if out.is_dir() else []
    report = LinkReport(notes=len(notes))
    matcher = _Matcher(notes)
    resolver = _Resolver(out, notes) if notes else None
    for note in notes:
        if note.opted_out:
            continue
        if note.edited:
            report.edited.append(note.path)
            continue
        body, count = link_text(note, matcher, resolver)
        if not count:
            continue
        meta = {**note.meta, "body_hash": body_hash(body)}
        atomic_write(note.path, front_matter_block(meta) + body)
        report.rewritten.append(note.path)
        report.links += count
    return report
