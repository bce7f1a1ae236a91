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
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick

from .._files import atomic_write, is_read_only
from ..check import acronyms_used
from ..errors import ReadOnlyFileError
from ..markdown import cut_front_matter, split_front_matter
from ._notes import body_hash, front_matter_block, is_edited, walk_notes
from ._obsidian import path_endings

__all__ = ["LinkReport", "VaultNote", "link_text", "link_vault", "read_vault"]

_MIN_NAME = 3  # shorter names ("DB", "AI") would link every other sentence
_HEADING = re.compile(r"^(?:\s*>)*\s{0,3}#{1,6}(?:\s|$)")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_CALLOUT_TITLE = re.compile(r"^(?:\s*>)+\s*\[![\w-]+\]")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_HTML_BLOCK = re.compile(r"^\s*</?[A-Za-z][\w-]*[\s>/]")
# Inline spans that never take a link: code, links of any kind, URLs, HTML, math.
_INLINE_FORBIDDEN = re.compile(
    r"(?=[`!\[<$hfw])(?:(`+).*?\1"
    r"|!?\[\[.*?\]\]"
    r"|!?\[[^\]\n]*\]\([^)\n]*\)"
    r"|!?\[[^\]\n]*\]\[[^\]\n]*\]"
    r"|<(?:https?|mailto|ftp):[^>\s]*>"
    r"|\b(?:https?|ftp)://\S+|\bwww\.\S+"
    r"|</?[A-Za-z][^>\n]*>"
    r"|\$\$.*?\$\$|\$[^$\n]+\$)"
)
_INLINE_TRIGGERS = re.compile(r"[`\[<$]|https?:|ftp:|www\.")
_WIKILINK_TARGET = re.compile(r"\[\[([^\]|#\n]+)")


@dataclass
class VaultNote:
    """A note of the vault, as linking sees it (its text is read again when it is linked, so a
    thousand-note vault is never held in memory at once)."""

    path: Path
    target: str  # its path from the vault root, without .md: what a wikilink names
    persona: str
    names: list[str]  # its title, topic and the aliases it was given (the index's, its acronyms)
    opted_out: bool
    # Of its front matter, what a rewrite needs: kept small, a vault may hold thousands.
    recorded: dict[str, Any] = field(default_factory=dict, repr=False)
    shorter: list[str] = field(default_factory=list)  # briefer names prose uses (weaker)
    # The aliases the model gave (weaker than ``names``), those that pass the model-alias rules.
    doubtful: list[str] = field(default_factory=list)

    def read(self) -> tuple[str, str] | None:
        """Its front matter's text and its body (None: gone or unreadable); what linking needs
        of the front matter itself was read with the vault."""
        try:
            block, rest = cut_front_matter(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None
        return block, rest[1:] if rest.startswith("\n") else rest


@dataclass
class LinkReport:
    """What a linking pass did."""

    rewritten: list[Path] = field(default_factory=list)
    links: int = 0
    edited: list[Path] = field(default_factory=list)  # hand-edited: left alone
    read_only: list[Path] = field(default_factory=list)  # made read-only: left alone
    notes: int = 0


def _clean(values: Iterable[Any], taken: Iterable[str] = ()) -> list[str]:
    """Names as one line each, once each (any case), long enough to link, none of ``taken``."""
    seen = {n.casefold() for n in taken}
    names: list[str] = []
    for value in values:
        if isinstance(value, str):
            name = " ".join(value.split())
            if len(name) >= _MIN_NAME and name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
    return names


def _names(meta: dict[str, Any]) -> tuple[list[str], list[str]]:
    """A note's own names, and the aliases a model gave it. Its title, its topic, its aliases
    from the index and its acronyms are its own; the aliases listed in ``model_aliases`` are
    the model's. A note without that list (written before it was kept) cannot tell its aliases
    apart: only its title's acronyms are sure to be its own."""
    title, topic = meta.get("title"), meta.get("topic")
    own = _clean([title, topic])
    aliases = meta.get("aliases")
    aliases = _clean(aliases if isinstance(aliases, list) else [aliases], own)
    given = meta.get("model_aliases")
    if isinstance(given, list):
        by_model = {n.casefold() for n in _clean(given)}
        theirs = [a for a in aliases if a.casefold() in by_model]
    else:
        named = str(topic or title or "")
        theirs = [a for a in aliases if a not in acronyms_used(named, a)]  # "CDN" is its own
    return [*own, *(a for a in aliases if a not in theirs)], theirs


_DESIGN_PREFIX = re.compile(r"^(?:design(?:ing)?|build(?:ing)?)\s+(?:an?|the)\s+", re.IGNORECASE)
_DESIGN_SUFFIX = re.compile(r"\s+(?:system\s+design|design|pattern)$", re.IGNORECASE)
_PARENTHESIS = re.compile(r"^(.+?)\s*\(([^()]+)\)$")


def _shorter_names(name: str) -> list[str]:
    """How prose names a topic more briefly than its title: without "Design a" or "Pattern"
    ("Cache-Aside Pattern" is written "cache-aside"), and each side of a parenthesis
    ("Content Delivery Network (CDN)"). A one-word remainder is kept only from a parenthesis:
    "Saga" alone would be too common a word to stand for "Saga Pattern"."""
    shorter: list[str] = []
    parts = _PARENTHESIS.match(name)
    if parts:
        shorter += [parts.group(1).strip(), parts.group(2).strip()]
    for form in (name, *shorter):
        stripped = _DESIGN_SUFFIX.sub("", _DESIGN_PREFIX.sub("", form)).strip()
        if stripped != form and (" " in stripped or "-" in stripped):
            shorter.append(stripped)
    return [s for s in shorter if len(s) >= _MIN_NAME]


def read_vault(out: Path) -> list[VaultNote]:
    """Every topic note sdgen wrote under ``out`` (drafts, dot-files and indexes apart), with
    the model's aliases that may name it (see ``_trusted_model_aliases``)."""
    notes = []
    for path, meta in walk_notes(out):
        names, theirs = _names(meta)
        known = {n.casefold() for n in names}
        shorter = [s for n in names for s in _shorter_names(n) if s.casefold() not in known]
        notes.append(VaultNote(path=path, target=path.relative_to(out).with_suffix("").as_posix(),
                               persona=str(meta["persona"]), names=names,
                               opted_out=meta.get("links") is False,
                               recorded={"body_hash": meta.get("body_hash")},
                               shorter=list(dict.fromkeys(shorter)), doubtful=theirs))
    _trusted_model_aliases(notes)
    return notes


# Words too common to stand for one note, whatever a model says.
_COMMON_WORDS = """
a about all also an and any are as at be been but by can each for from has have how if in into
is it its may more no not of on one or our out over so such than that the their them then there
these they this those to too two up use used uses using via was we were what when where which
while who why will with within without you your
api app apps client clients cloud code data design example note notes overview pattern
patterns server servers service services system systems topic user users
"""
_STOPWORDS = frozenset(_COMMON_WORDS.split())
_COMMON_SHARE = 0.5  # a model's alias found in more than this share of the other notes: common
_COMMON_MIN_NOTES = 4  # fewer other notes than this say nothing of how common a word is


def _forms(names: Iterable[str]) -> set[str]:
    return {form for name in names for form in _variants(name)}


def _trusted_model_aliases(notes: list[VaultNote]) -> None:
    """Keep, of the aliases a model gave each note, those that may name it. An answer is
    hostile input: its aliases must never take the vault's words ("the", "and"), another
    note's own names (its title, topic, index aliases, acronyms or briefer forms), nor a word
    that most notes use; such an alias names no note, here or in a wikilink."""
    if not any(n.doubtful for n in notes):
        return
    owned: dict[str, set[str]] = {}  # form -> the notes that own it
    for note in notes:
        for form in _forms([*note.names, *note.shorter]):
            owned.setdefault(form, set()).add(note.target)
    for note in notes:
        note.doubtful = [
            name for name in note.doubtful
            if not all(word in _STOPWORDS for word in re.split(r"[\s-]+", name.casefold()))
            and not any(owned.get(form, {note.target}) - {note.target}
                        for form in _variants(name))]
    candidates = [n for n in notes if n.doubtful]
    others = len(notes) - 1
    if not candidates or others < _COMMON_MIN_NOTES:
        return
    found = _notes_using({form for n in candidates for form in _forms(n.doubtful)}, notes)
    for note in candidates:
        kept = []
        for name in note.doubtful:
            users = set().union(*(found.get(form, set()) for form in _variants(name)))
            if len(users - {note.target}) <= others * _COMMON_SHARE:
                kept.append(name)
        note.doubtful = kept


def _notes_using(forms: set[str], notes: Iterable[VaultNote]) -> dict[str, set[str]]:
    """For each form, the notes whose text has it as a word of its own (one pass per note)."""
    automaton = ahocorasick.Automaton()
    for form in forms:
        automaton.add_word(form, form)
    automaton.make_automaton()
    found: dict[str, set[str]] = {}
    for note in notes:
        try:
            text = _lower(note.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        for end_index, form in automaton.iter(text):
            if not _joined(text, end_index - len(form) + 1, end_index + 1):
                found.setdefault(form, set()).add(note.target)
    return found


def _lower(text: str) -> str:
    """Lowercase without changing any offset (a few characters lowercase to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


_BOX_DRAWING = re.compile(r"[\u2500-\u257f]")
_ASCII_BOX = re.compile(r"\+-{3,}|-{3,}\+")  # "+-----+", the corners of an ASCII box
_MATH_LINE = re.compile(r"^[ \t]*\$\$[ \t]*$", re.MULTILINE)
# A tag that opens an HTML block when it starts a line (the line is checked apart: a pattern
# anchored at line starts is tried at every character).
_HTML_BLOCK_TAG = re.compile(
    r"<(?:!--|/?(?:address|article|aside|blockquote|center|details|dialog|div|dl|"
    r"fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|li|main|nav|ol|p|pre|script|"
    r"section|style|summary|table|tbody|td|tfoot|th|thead|tr|ul)(?=[\s/>]|$))",
    re.MULTILINE | re.IGNORECASE)
_DELIMITER_LINE = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*")
# Where a table's delimiter row may be: a dash beside a pipe. Searched for first, because a
# pattern anchored at every line start is tried at every character of a long note.
_DASH_BY_PIPE = re.compile(r"-[ \t]*:?\||\|[ \t]*:?-")


class _Prose:
    """Where in a body a link may go. Blocks that never take one (fenced code and diagrams,
    math, tables) are found once; a candidate's own line is judged only when a name is found
    on it, so the cost follows the names found, not the length of the note."""

    def __init__(self, body: str, fenced: list[tuple[int, int]]) -> None:
        self.body = body
        blocked: list[tuple[int, int]] = []
        for start, end in sorted([*fenced, *self._math(), *self._tables(), *self._html()]):
            if blocked and start <= blocked[-1][1]:  # one inside another (a fence in HTML)
                blocked[-1] = (blocked[-1][0], max(end, blocked[-1][1]))
            else:
                blocked.append((start, end))
        self.block_starts = [a for a, _ in blocked]
        self.blocked = blocked
        self.lines: dict[int, list[tuple[int, int]] | None] = {}

    def _html(self) -> list[tuple[int, int]]:
        """HTML blocks: from a line that opens one to the next blank line, as CommonMark reads
        them (Markdown inside is shown as it is written, so a link there would be raw text)."""
        if "<" not in self.body:
            return []
        blocks: list[tuple[int, int]] = []
        for tag in _HTML_BLOCK_TAG.finditer(self.body):
            line_start = self.body.rfind("\n", 0, tag.start()) + 1
            indent = self.body[line_start:tag.start()]
            if len(indent) > 3 or indent.strip(" ") or (blocks and line_start < blocks[-1][1]):
                continue  # inline HTML, or inside the block found last
            end = self.body.find("\n\n", line_start)
            blocks.append((line_start, len(self.body) if end < 0 else end))
        return blocks

    def _math(self) -> list[tuple[int, int]]:
        if "$$" not in self.body:
            return []
        marks = [m.start() for m in _MATH_LINE.finditer(self.body)]
        return [(marks[i], marks[i + 1] + 2) for i in range(0, len(marks) - 1, 2)]

    def _tables(self) -> list[tuple[int, int]]:
        tables: list[tuple[int, int]] = []
        if "|" not in self.body:
            return tables
        body, checked = self.body, -1
        for candidate in _DASH_BY_PIPE.finditer(body):
            row_start = body.rfind("\n", 0, candidate.start()) + 1
            if row_start <= checked:
                continue  # this row was judged already
            row_end = body.find("\n", candidate.end())
            checked = row_end = len(body) if row_end < 0 else row_end
            if not _DELIMITER_LINE.fullmatch(body, row_start, row_end):
                continue
            start = body.rfind("\n", 0, max(0, row_start - 1)) + 1  # the header row
            end = row_end
            while end < len(self.body):
                following = self.body.find("\n", end + 1)
                following = len(self.body) if following < 0 else following
                row = self.body[end + 1:following]
                if not row.strip() or "|" not in row:
                    break
                end = following
            tables.append((start, end))
        return tables

    def _line_spans(self, line_start: int) -> list[tuple[int, int]] | None:
        """The prose spans of the line starting at ``line_start`` (None: none of it is prose)."""
        body = self.body
        line_end = body.find("\n", line_start)
        line_end = len(body) if line_end < 0 else line_end
        line = body[line_start:line_end]
        next_end = body.find("\n", line_end + 1)
        following = body[line_end + 1:len(body) if next_end < 0 else next_end]
        if (_HEADING.match(line) or _CALLOUT_TITLE.match(line) or _HTML_BLOCK.match(line)
                or _SETEXT.match(line) or (_SETEXT.match(following) and line.strip())):
            return None
        if (len(line) - len(line.lstrip(" ")) >= 4 or line.startswith("\t")) and not _LIST_ITEM.match(line):
            return None  # an indented code block (or a deep continuation line: left alone)
        if _BOX_DRAWING.search(line) or _ASCII_BOX.search(line):
            return None  # a line of a box diagram a model left unfenced: a link would break it
        if not _INLINE_TRIGGERS.search(line):
            return [(line_start, line_end)]
        spans, cursor = [], line_start
        for forbidden in _INLINE_FORBIDDEN.finditer(line):
            spans.append((cursor, line_start + forbidden.start()))
            cursor = line_start + forbidden.end()
        spans.append((cursor, line_end))
        return [(a, b) for a, b in spans if b > a]

    def allows(self, start: int, end: int) -> bool:
        at = bisect.bisect_right(self.block_starts, start) - 1
        if at >= 0 and start < self.blocked[at][1]:
            return False
        line_start = self.body.rfind("\n", 0, start) + 1
        if line_start not in self.lines:
            self.lines[line_start] = self._line_spans(line_start)
        spans = self.lines[line_start]
        return spans is not None and any(a <= start and end <= b for a, b in spans)


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


def _joined(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is part of a longer word or token rather than a word of its own:
    "rate-limiter-service", "cdn.example.com", "api/rate-limiter", a #tag, "[bracketed]"."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before == "_" or after.isalnum() or after == "_":
        return True
    if before in "#@![" or after == "]":  # a tag, a mention; "![[" would embed; "[x]" is a ref
        return True
    if before in "-./\\" and start >= 2 and text[start - 2].isalnum():
        return True
    return after in "-./\\" and end + 1 < len(text) and text[end + 1].isalnum()


class _Matcher:
    """Every name of every note, in one automaton. A note's own names come first, then the
    aliases a model gave it: a briefer name ("cache-aside" for "Cache-Aside Pattern") is used
    only where no note has it as a name. A name written in capitals (an acronym: "CDN")
    matches only in capitals."""

    def __init__(self, notes: Iterable[VaultNote]) -> None:
        notes = list(notes)
        self.owners: dict[str, list[VaultNote]] = {}
        self.own: dict[str, list[VaultNote]] = {}  # by their own names only (no model's alias)
        self.capitals: set[str] = set()
        for tier in ("names", "doubtful", "shorter"):
            taken = set(self.owners)
            for note in notes:
                for name in getattr(note, tier):
                    for form in _variants(name):
                        if form in taken:
                            continue
                        owners = self.owners.setdefault(form, [])
                        if note not in owners:
                            owners.append(note)
                        if tier == "names":
                            self.own[form] = owners
                        if name.isupper():
                            self.capitals.add(form)
        self.by_target = {n.target: n for owners in self.owners.values() for n in owners}
        self.automaton = ahocorasick.Automaton()
        for form in self.owners:
            self.automaton.add_word(form, form)
        self.empty = not self.owners
        if not self.empty:
            self.automaton.make_automaton()

    def matches(self, body: str, lowered: str, done: set[str]) -> Iterator[tuple[int, int, str]]:
        """(start, end, form) of whole-word occurrences, leftmost-longest, never overlapping;
        names in ``done`` (already settled for this note) are passed over."""
        if self.empty:
            return
        for end_index, form in self.automaton.iter_long(lowered):
            if form in done:
                continue
            start, end = end_index - len(form) + 1, end_index + 1
            if _joined(lowered, start, end):
                continue
            if form in self.capitals and not body[start:end].rstrip("s").isupper():
                continue
            yield start, end, form


def _target_for(owners: list[VaultNote], note: VaultNote) -> VaultNote | None:
    """The note a mention links to: never the note itself; its own persona's first."""
    others = [o for o in owners if o.target != note.target]
    if not others:
        return None
    return min(others, key=lambda o: (o.persona != note.persona, o.target))


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


def _in_inline_code(text: str, at: int) -> bool:
    """Whether position ``at`` is inside a code span of its line (an odd count of backticks
    before it)."""
    line_start = text.rfind("\n", 0, at) + 1
    return text.count("`", line_start, at) % 2 == 1


def _in_title(text: str, at: int) -> bool:
    """Whether position ``at`` is on a heading or a callout's title line (no link goes there)."""
    line_start = text.rfind("\n", 0, at) + 1
    line_end = text.find("\n", at)
    line = text[line_start:len(text) if line_end < 0 else line_end]
    return bool(_HEADING.match(line) or _CALLOUT_TITLE.match(line))


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
        if (at > 0 and text[at - 1] == "!") or _in_inline_code(text, at):
            return match.group(0)  # an embed, or a link shown as code
        escaped = raw.endswith("\\")  # "[[x\\|y]]" in a table row
        target = raw.removesuffix("\\")
        heading, label = match.group(2) or "", match.group(4)
        if not target.strip():
            return match.group(0)  # a heading of this very note
        if _in_title(text, at):
            changed += 1
            return label if label is not None else target  # a heading keeps its words only
        file, candidates = resolver.find(target)
        chosen = _target_for(candidates, note) if candidates else None
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


def _fence_lines(body: str) -> list[tuple[int, str]]:
    """(line start, marker run) of each line that opens or closes a fence: a run of three or
    more backticks or tildes after nothing but indentation and quote marks. Found with plain
    string search (a pattern anchored at line starts is tried at every character)."""
    found = []
    for mark in ("```", "~~~"):
        at = body.find(mark)
        while at >= 0:
            line_start = body.rfind("\n", 0, at) + 1
            run_end = at
            while run_end < len(body) and body[run_end] == mark[0]:
                run_end += 1
            if not body[line_start:at].strip(" \t>"):
                found.append((line_start, body[at:run_end]))
                next_line = body.find("\n", run_end)
                run_end = len(body) if next_line < 0 else next_line
            at = body.find(mark, run_end)
    return sorted(found)


def _fenced_ranges(body: str) -> list[tuple[int, int]]:
    """The character ranges of fenced code blocks (their text is never touched)."""
    ranges: list[tuple[int, int]] = []
    fence: str | None = None
    begin = 0
    for line_start, run in _fence_lines(body):
        if fence is None:
            fence, begin = run, line_start
        elif run[0] == fence[0] and len(run) >= len(fence):
            line_end = body.find("\n", line_start)
            ranges.append((begin, len(body) if line_end < 0 else line_end + 1))
            fence = None
    if fence is not None:
        ranges.append((begin, len(body)))
    return ranges


_OUR_LINK = re.compile(r"\[\[([^\]|#\n]+/[^\]|#\n]+)\|([^\]\n]+)\]\]")


def _retargeted(note: VaultNote, body: str, matcher: _Matcher) -> tuple[str, int]:
    """Links made while the topic had a note only in another persona, pointed at the note of
    this note's own persona once it has one (a topic, that is: never by an alias a model gave)."""
    notes = matcher.by_target
    moved = 0

    def better(match: re.Match[str]) -> str:
        nonlocal moved
        if match.start() > 0 and match.string[match.start() - 1] == "!":
            return match.group(0)  # an embed
        current = notes.get(match.group(1))
        owners = matcher.own.get(_lower(match.group(2)))
        if current is None or not owners or current.persona == note.persona:
            return match.group(0)
        preferred = _target_for(owners, note)
        if preferred is None or preferred.persona != note.persona or current not in owners:
            return match.group(0)
        moved += 1
        return f"[[{preferred.target}|{match.group(2)}]]"

    return _OUR_LINK.sub(better, body), moved


def link_text(note: VaultNote, body: str, matcher: _Matcher,
              resolver: _Resolver | None = None) -> tuple[str, int]:
    """A note's body with its first prose mention of each other note linked (and, given a
    resolver, links to notes that do not exist made plain words); the number of changes."""
    changes = 0
    fenced = _fenced_ranges(body)
    if resolver is not None and "[[" in body:
        body, changes = _normalised(note, body, resolver, fenced)
        if changes:
            fenced = _fenced_ranges(body)
    if "[[" in body:
        body, retargeted = _retargeted(note, body, matcher)
        changes += retargeted
    prose = _Prose(body, fenced)
    linked = ({m.group(1).removesuffix("\\").strip().removesuffix(".md")
               for m in _WIKILINK_TARGET.finditer(body)} if "[[" in body else set())
    edits: list[tuple[int, int, str]] = []
    done: set[str] = set()  # names whose target is linked already, or is this note
    for start, end, form in matcher.matches(body, _lower(body), done):
        target = _target_for(matcher.owners[form], note)
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
    matcher = _Matcher(notes)
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
