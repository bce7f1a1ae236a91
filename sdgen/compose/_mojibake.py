"""MojibakeFix mojibake: UTF-8 text that was decoded as a Windows code page (cp1254 or cp1252).

Where the code page has no character for a byte (0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E)
that byte was dropped: ``🔍`` arrives as ``ğŸ”``. We map the characters back to bytes, try
every lost byte at every position of a short sequence, keep the candidates that decode to an
assigned character, and choose one by a fixed order of rules (see ``_rank``). Every choice
among several candidates is reported, so ``sdgen personas show --repairs`` can list it.

ftfy is not used here: on these seeds it takes the space after a damaged emoji for a lost
non-breaking space and swallows it (``ğŸ¨ Response`` becomes ``🨠Response``).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import unicodedata
from dataclasses import dataclass

import emoji

__all__ = ["FixedText", "MojibakeFix", "fix_mojibake", "looks_mojibaked"]

LOST_BYTES = (0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E)
VS16 = "\ufe0f"

# Symbols that technical writers use most, most common first: the last tie-breaker between
# candidates that the byte evidence and the context cannot separate.
COMMON_SYMBOLS = (
    "🔍📝🎯🎨🎪🏗🌐🏢❌✅⚡🔒🔐📊📈💾🗄🔄⚖🚀💡🛠🚨📦📱💻🖥☁🏘🏔🗂🗺🛡✏✍📁📍🔁🔑🧠🧩🌍🎓"
    "←→↑↓↔┐┌└┘─│"
)


def _byte_map() -> dict[str, int]:
    mapping: dict[str, int] = {}
    for codec in ("cp1252", "cp1254"):  # cp1254 last: its letters (ğ, ş, ı) win on conflicts
        for value in range(0x80, 0x100):
            with contextlib.suppress(UnicodeDecodeError):
                mapping[bytes([value]).decode(codec)] = value
    for value in range(0x80, 0xA0):  # C1 controls, as a lenient decoder would keep them
        mapping.setdefault(chr(value), value)
    return mapping


_TO_BYTE = _byte_map()
_RUNS = re.compile("([" + re.escape("".join(sorted(_TO_BYTE))) + "]+)")
_SIGNATURE = re.compile(r"[ÃÂâğðÅÄ][\u0080-\u00bf\u0152-\u0192\u02c6-\u02dc\u2013-\u2122]")


@dataclass(frozen=True)
class MojibakeFix:
    """One place where a lost byte left several candidate characters."""

    line: int
    damaged: str
    chosen: str
    candidates: tuple[str, ...]
    rule: str

    def describe(self) -> str:
        others = " ".join(c for c in self.candidates if c != self.chosen)
        return (
            f"line {self.line}: {self.damaged!r} -> {self.chosen!r} "
            f"(U+{ord(self.chosen):04X} {unicodedata.name(self.chosen, '?')}; by {self.rule}; "
            f"other candidates: {others})"
        )


@dataclass(frozen=True)
class FixedText:
    text: str
    fixes: tuple[MojibakeFix, ...]


def looks_mojibaked(text: str) -> bool:
    """True when the text carries the signature of UTF-8 read as a Windows code page."""
    return bool(_SIGNATURE.search(text))


@dataclass
class _Site:
    """A damaged sequence awaiting a choice."""

    damaged: str
    candidates: list[str]
    line: int
    chosen: str = ""
    rule: str = ""


def _lead_length(byte: int) -> int:
    if byte >= 0xF0:
        return 4
    if byte >= 0xE0:
        return 3
    if byte >= 0xC0:
        return 2
    return 1


def _usable(char: str) -> bool:
    return len(char) == 1 and unicodedata.category(char) not in {"Cn", "Co", "Cs", "Cc"}


def _candidates(partial: bytes, length: int) -> list[str]:
    missing = length - len(partial)
    found: set[str] = set()
    for positions in itertools.combinations(range(1, length), missing):
        for values in itertools.product(LOST_BYTES, repeat=missing):
            attempt = bytearray(partial)
            for position, value in zip(positions, values, strict=True):
                attempt.insert(position, value)
            try:
                char = bytes(attempt).decode("utf-8")
            except UnicodeDecodeError:
                continue
            if _usable(char):
                found.add(char)
    return sorted(found)


def _decode_run(chars: str, line: int) -> list[str | _Site]:
    """Decode a run of code-page characters back into text, leaving sites for lost bytes."""
    data = bytes(_TO_BYTE[c] for c in chars)
    out: list[str | _Site] = []
    i = 0
    while i < len(data):
        length = _lead_length(data[i])
        j = i + 1
        while j < len(data) and j - i < length and 0x80 <= data[j] <= 0xBF:
            j += 1
        chunk = data[i:j]
        if length > 1 and len(chunk) == length:
            try:
                out.append(chunk.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(chars[i:j])
        elif length > 1 and (found := _candidates(chunk, length)):
            out.append(_Site(chars[i:j], found, line))
        else:  # not mojibake after all: keep what was written
            out.append(chars[i:j])
        i = j
    return out


def _emoji_class(char: str) -> str:
    data = emoji.EMOJI_DATA
    if char in data and data[char]["status"] == emoji.STATUS["fully_qualified"]:
        return "presentation"
    if char + VS16 in data:
        return "text"
    return "none"


def _neighbour(tokens: list[str | _Site], index: int, step: int) -> str:
    """The nearest non-ASCII, non-space character on the same line, skipping selectors."""
    k = index + step
    while 0 <= k < len(tokens):
        token = tokens[k]
        text = token.chosen if isinstance(token, _Site) else token
        for char in text[::step]:
            if char == "\n":
                return ""
            if ord(char) > 127 and not char.isspace() and char not in "\ufe0e\ufe0f":
                return char
        k += step
    return ""


def _rank(site: _Site, previous: str, before: str, after: str, next_is_vs16: bool) -> tuple[str, str]:
    """Choose among candidates; returns (choice, rule that decided)."""
    cands = site.candidates
    if VS16 in cands and _emoji_class(previous) != "none":
        return VS16, "variation selector after an emoji"
    neighbours = [n for n in (before, after) if n]

    def key(char: str) -> tuple[int, ...]:
        same_block = any(ord(char) >> 7 == ord(n) >> 7 for n in neighbours)
        light = any("LIGHT" in unicodedata.name(n, "") for n in neighbours)
        heavy = any(w in unicodedata.name(char, "") for w in ("HEAVY", "DOUBLE"))
        wanted = ("text", "presentation") if next_is_vs16 else ("presentation", "text")
        klass = _emoji_class(char)
        emoji_rank = wanted.index(klass) if klass in wanted else 2
        prior = COMMON_SYMBOLS.find(char)
        return (
            0 if same_block else 1,
            1 if light and heavy else 0,
            emoji_rank,
            prior if prior >= 0 else len(COMMON_SYMBOLS),
            ord(char),
        )

    ranked = sorted(cands, key=key)
    best, runner_up = key(ranked[0]), key(ranked[1])
    rules = ("same Unicode block as its neighbours", "same line weight as its neighbours",
             "emoji presentation implied by the next character", "common-symbol order",
             "lowest code point")
    decided = next(i for i, (a, b) in enumerate(zip(best, runner_up, strict=True)) if a != b)
    return ranked[0], rules[decided]


def _resolve(tokens: list[str | _Site]) -> tuple[str, list[MojibakeFix]]:
    repairs: list[MojibakeFix] = []
    parts: list[str] = []
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            parts.append(token)
            continue
        if len(token.candidates) == 1:
            token.chosen, token.rule = token.candidates[0], "only candidate"
        else:
            following = tokens[index + 1] if index + 1 < len(tokens) else ""
            next_is_vs16 = (isinstance(following, _Site) and VS16 in following.candidates) or (
                isinstance(following, str) and following.startswith(VS16)
            )
            previous = parts[-1][-1] if parts and parts[-1] else ""
            token.chosen, token.rule = _rank(
                token, previous, _neighbour(tokens, index, -1), _neighbour(tokens, index, 1),
                next_is_vs16,
            )
            repairs.append(
                MojibakeFix(token.line, token.damaged, token.chosen, tuple(token.candidates), token.rule)
            )
        parts.append(token.chosen)
    return "".join(parts), repairs


def fix_mojibake(text: str) -> FixedText:
    """Undo code-page mojibake, filling lost bytes; text without the signature is returned as is."""
    if not looks_mojibaked(text):
        return FixedText(text, ())
    tokens: list[str | _Site] = []
    line = 1
    for index, run in enumerate(_RUNS.split(text)):
        if index % 2:  # odd pieces are the runs of code-page characters
            tokens.extend(_decode_run(run, line))
        elif run:
            tokens.append(run)
        line += run.count("\n")
    repaired, repairs = _resolve(tokens)
    return FixedText(repaired, tuple(repairs))
