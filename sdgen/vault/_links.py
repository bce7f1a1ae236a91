"""Links between notes: each note's first mention, in prose, of another note's topic becomes a
wikilink Obsidian resolves (``[[persona/category/slug|the words as written]]``).

One pass of a multi-pattern matcher (Aho-Corasick) finds every title and alias of every note in a
note's text; only prose can take a link: never code blocks or diagrams, inline code, headings,
front matter, tables, callout titles, URLs, HTML or existing links. Whole words only, any case,
simple plurals; the longest name wins ("Consistent Hashing" before "Hashing"); a note never links
itself, and links each other note at most once. A topic held by several personas links to the
note of the linking note's own persona.

Linking is idempotent: a rerun with nothing new changes no byte. A note edited by hand (its body
no longer matches ``body_hash``) or made read-only is never rewritten, only listed; ``links:
false`` in a note's front matter opts it out (it can still be linked to).

Here: the vault pass, the links a model wrote (pointed where Obsidian finds them) and the links
added. The names that may link are found by _names; where a link may go is _prose's to say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .._files import atomic_write, is_read_only
from ..errors import ReadOnlyFileError
from ..markdown import split_front_matter
from ._front_matter import body_hash, front_matter_block, is_edited
from ._names import Matcher, VaultNote, lower, read_vault, target_for
from ._obsidian import path_endings
from ._prose import Prose, fenced_ranges, in_inline_code, in_title

__all__ = ["LinkReport", "link_text", "link_vault"]

_WIKILINK_TARGET = re.compile(r"\[\[([^\]|#\n]+)")


@dataclass
class LinkReport:
    """What a linking pass did."""

    rewritten: list[Path] = field(default_factory=list)
    links: int = 0
    edited: list[Path] = field(default_factory=list)  # hand-edited: left alone
    read_only: list[Path] = field(default_factory=list)  # made read-only: left alone
    notes: int = 0


class _Resolver:
    """Where a wikilink a model wrote leads. Obsidian finds a note by its path from the vault
    root, a path suffix or its file name (any case), never by a title or an alias; sdgen also
    knows each note's names, so ``[[Rate Limiter]]`` can be pointed at ``rate-limiter.md``."""

    def __init__(self, out: Path, notes: Iterable[VaultNote]) -> None:
        # Every Markdown file's path from the root (indexes too), and each of its endings.
        files = [p.relative_to(out).with_suffix("").as_posix().casefold() for p in out.rglob("*.md")]
        self.files = set(files)
        self.suffixes = path_endings(files)
        self.notes: dict[str, VaultNote] = {}
        self.by_name: dict[str, list[VaultNote]] = {}
        for note in notes:
            self.notes[note.target.casefold()] = note
            for name in [*note.names, *note.doubtful]:
                self.by_name.setdefault(name.casefold(), []).append(note)

    def find(self, target: str) -> tuple[str | None, list[VaultNote]]:
        """A link target's file, when it names one exactly by its path from the root; else the
        notes it may mean (by path suffix, file name, title or alias)."""
        target = target.strip().removesuffix(".md").strip("/").casefold()
        if target in self.files:
            return target, []
        paths = self.suffixes.get(target, [])
        found = [self.notes[p] for p in paths if p in self.notes]
        found += [n for n in self.by_name.get(target, []) if n not in found]
        if not found and paths:
            return sorted(paths)[0], []  # an index or another file sdgen did not write
        return None, found



# Link patterns start with their literal "[[" (no look-behind), so the scan jumps from one
# "[[" to the next; an embed ("![[...]]") and a link shown as inline code are told apart in
# the callback.
_MODEL_LINK = re.compile(r"\[\[([^\]|#\n]*)(#[^\]|\n]*)?(?:(\\?\|)([^\]\n]*))?\]\]")


def _normalised(note: VaultNote, body: str, resolver: _Resolver,
                fenced: list[tuple[int, int]]) -> tuple[str, int]:
    """The wikilinks a model wrote, made to lead where Obsidian will find them: a link by title
    or alias is given the note's path (its own persona's note first); a link to a note that
    does not exist, to the note itself, to a note already linked, or in a heading or a callout's
    title becomes its plain words."""
    if "[[" not in body:
        return body, 0
    changed = 0
    linked: set[str] = set()

    def fixed(match: re.Match[str]) -> str:
        nonlocal changed
        raw, text, at = match.group(1), match.string, match.start()
        if (at > 0 and text[at - 1] == "!") or in_inline_code(text, at):
            return match.group(0)  # an embed, or a link shown as code
        escaped = raw.endswith("\\")  # "[[x\\|y]]" in a table row
        target = raw.removesuffix("\\")
        heading, label = match.group(2) or "", match.group(4)
        if not target.strip():
            return match.group(0)  # a heading of this very note
        if in_title(text, at):
            changed += 1
            return label if label is not None else target  # a heading keeps its words only
        file, candidates = resolver.find(target)
        chosen = target_for(candidates, note) if candidates else None
        if file is not None and file != note.target.casefold() and file not in linked:
            linked.add(file)
            return match.group(0)
        changed += 1
        if chosen is None or chosen.target.casefold() in linked:
            return label if label is not None else target  # its words, no link
        linked.add(chosen.target.casefold())
        separator = "\\|" if escaped or match.group(3) == "\\|" else "|"
        return f"[[{chosen.target}{heading}{separator}{label if label is not None else target}]]"

    pieces, cursor = [], 0
    for start, end in [*fenced, (len(body), len(body))]:
        pieces.append(_MODEL_LINK.sub(fixed, body[cursor:start]))
        pieces.append(body[start:end])
        cursor = end
    return "".join(pieces), changed


_OUR_LINK = re.compile(r"\[\[([^\]|#\n]+/[^\]|#\n]+)\|([^\]\n]+)\]\]")


def _retargeted(note: VaultNote, body: str, matcher: Matcher) -> tuple[str, int]:
    """Links made while the topic had a note only in another persona, pointed at the note of
    this note's own persona once it has one (a topic, that is: never by an alias a model gave)."""
    notes = matcher.by_target
    moved = 0

    def better(match: re.Match[str]) -> str:
        nonlocal moved
        if match.start() > 0 and match.string[match.start() - 1] == "!":
            return match.group(0)  # an embed
        current = notes.get(match.group(1))
        owners = matcher.own.get(lower(match.group(2)))
        if current is None or not owners or current.persona == note.persona:
            return match.group(0)
        preferred = target_for(owners, note)
        if preferred is None or preferred.persona != note.persona or current not in owners:
            return match.group(0)
        moved += 1
        return f"[[{preferred.target}|{match.group(2)}]]"

    return _OUR_LINK.sub(better, body), moved


def link_text(note: VaultNote, body: str, matcher: Matcher,
              resolver: _Resolver | None = None) -> tuple[str, int]:
    """A note's body with its first prose mention of each other note linked (and, given a
    resolver, links to notes that do not exist made plain words); the number of changes."""
    changes = 0
    fenced = fenced_ranges(body)
    if resolver is not None and "[[" in body:
        body, changes = _normalised(note, body, resolver, fenced)
        if changes:
            fenced = fenced_ranges(body)
    if "[[" in body:
        body, retargeted = _retargeted(note, body, matcher)
        changes += retargeted
    prose = Prose(body, fenced)
    linked = ({m.group(1).removesuffix("\\").strip().removesuffix(".md")
               for m in _WIKILINK_TARGET.finditer(body)} if "[[" in body else set())
    edits: list[tuple[int, int, str]] = []
    done: set[str] = set()  # names whose target is linked already, or is this note
    for start, end, form in matcher.matches(body, lower(body), done):
        target = target_for(matcher.owners[form], note)
        if target is None or target.target in linked:
            done.add(form)
            continue
        if not prose.allows(start, end):
            continue
        linked.add(target.target)
        done.add(form)
        edits.append((start, end, f"[[{target.target}|{body[start:end]}]]"))
    if edits:  # edits come in text order: one join, not a copy of the body per link
        pieces, cursor = [], 0
        for start, end, link in edits:
            pieces += [body[cursor:start], link]
            cursor = end
        body = "".join([*pieces, body[cursor:]])
    return body, len(edits) + changes


_BODY_HASH_LINE = re.compile(r"(?m)^body_hash:[^\n]*$")


def _with_body_hash(block: str, body: str) -> str:
    """The note's front matter as it was, byte for byte, but for its new ``body_hash``."""
    digest = body_hash(body)
    if _BODY_HASH_LINE.search(block):
        block = _BODY_HASH_LINE.sub(f"body_hash: {digest}", block, count=1)
        return block if block.endswith("\n\n") else block + "\n"
    meta = split_front_matter(block)[0]  # a note written without one: laid out afresh
    return front_matter_block({**meta, "body_hash": digest})


def link_vault(out: Path, only: Path | None = None) -> LinkReport:
    """Link every note of the vault under ``out`` (or, given ``only``, that one note: its
    sections changed, not its names, so no other note needs another look); rewrite
    (atomically) only the notes that change, with their ``body_hash`` brought up to date."""
    notes = read_vault(out) if out.is_dir() else []
    report = LinkReport(notes=len(notes))
    matcher = Matcher(notes)
    resolver = _Resolver(out, notes) if notes else None
    wanted = only.resolve() if only is not None else None
    for note in notes:
        if wanted is not None and note.path.resolve() != wanted:
            continue
        read = note.read() if not note.opted_out else None
        if read is None:
            continue
        (block, body), meta = read, note.recorded
        if is_edited(meta, body):
            report.edited.append(note.path)
            continue
        body, count = link_text(note, body, matcher, resolver)
        if not count:
            continue
        if is_read_only(note.path):
            report.read_only.append(note.path)
            continue
        try:
            atomic_write(note.path, _with_body_hash(block, body) + body)
        except ReadOnlyFileError:  # made so since it was read
            report.read_only.append(note.path)
            continue
        report.rewritten.append(note.path)
        report.links += count
    return report
