"""The names that may link to a note, and the matcher that finds them all in a note's text.

A note's own names are its title, its topic, its aliases from the index and its acronyms;
briefer forms prose uses ("cache-aside") are weaker, and a model's aliases (``model_aliases``)
are kept only when they are not common words, not another note's names and not in most notes.
One multi-pattern matcher (Aho-Corasick) finds every form of every name in one pass: whole
words only, any case (acronyms in capitals only), simple plurals, the longest name first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick

from ..check import acronyms_used
from ..markdown import cut_front_matter
from ._notes import walk_notes

__all__ = ["Matcher", "VaultNote", "lower", "read_vault", "target_for"]

_MIN_NAME = 3  # shorter names ("DB", "AI") would link every other sentence


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
            text = lower(note.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        for end_index, form in automaton.iter(text):
            if not _joined(text, end_index - len(form) + 1, end_index + 1):
                found.setdefault(form, set()).add(note.target)
    return found


def lower(text: str) -> str:
    """Lowercase without changing any offset (a few characters lowercase to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


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


class Matcher:
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


def target_for(owners: list[VaultNote], note: VaultNote) -> VaultNote | None:
    """The note a mention links to: never the note itself; its own persona's first."""
    others = [o for o in owners if o.target != note.target]
    if not others:
        return None
    return min(others, key=lambda o: (o.persona != note.persona, o.target))
