"""What a note says, beyond its structure: the seed's questions answered in prose, the topic asked
for, and the details a reader trips over (tables with missing cells, boxes whose edges wander).

These are checks of a parsed :class:`~sdgen.markdown.Document`; :mod:`sdgen.validate` turns
their findings into problems (the questions, the topic) and warnings (tables, boxes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from wcwidth import wcswidth

from ..compose import QuestionSpec
from ..markdown import Document, normalize_title

__all__ = ["Misalignment", "TableMismatch", "acronyms_used", "box_misalignments", "has_term",
           "names_topic", "prose",
           "table_mismatches", "topic_key", "unanswered"]

_PLAIN = {"", "text", "txt", "ascii", "plaintext", "plain", "diagram", "none", "art"}
# Words a title adds around a topic's name ("Design a ...", "... System Design").
_FILLER = {"a", "an", "the", "of", "for", "and", "to", "in", "on", "with", "design", "designing",
           "system", "systems", "how", "what", "is", "we", "would", "you", "build", "building",
           "architecture", "pattern", "patterns", "service", "deep", "dive", "guide", "notes",
           "explained", "overview", "introduction", "scalable", "distributed", "large", "scale",
           "like", "platform", "app", "application", "simple", "basic", "using", "based"}


_ANSWERED_UNDER = 10  # words of prose under a heading that make its words count as prose


def prose(doc: Document, start: int = 0, end: int | None = None) -> str:
    """The prose of a span, lowercased: paragraphs, list items, table cells and quotes; never
    code blocks, diagrams or inline code. A heading counts only with prose under it ("Likely
    follow-up questions" over a list of them answers the seed's question; a bare heading does
    not)."""
    end = len(doc.lines) if end is None else end
    parts: list[str] = []
    heading: list[str] | None = None  # the heading being read
    pending: tuple[str, int] | None = None  # the last heading, and the words under it so far
    for token in doc.tokens:
        if token.type == "heading_open":
            heading = []
            continue
        if token.type == "heading_close":
            if pending and pending[1] >= _ANSWERED_UNDER:
                parts.append(pending[0])
            pending, heading = (" ".join(heading or []), 0), None
            continue
        if token.type != "inline" or not token.map or not start <= token.map[0] < end:
            continue
        words = [child.content for child in token.children or []
                 if child.type in {"text", "html_inline"}]
        if heading is not None:
            heading.extend(words)
            continue
        parts.extend(words)
        if pending:
            pending = (pending[0], pending[1] + sum(len(w.split()) for w in words))
    if pending and pending[1] >= _ANSWERED_UNDER:
        parts.append(pending[0])
    return " ".join(" ".join(parts).split()).casefold()


@lru_cache(maxsize=1024)
def _term_pattern(term: str) -> re.Pattern[str]:
    """A term as a whole-word pattern: words apart by any punctuation or space, a trailing `*`
    for any ending, and simple plurals ("rate limiters") always."""
    words = term.casefold().split()
    parts = []
    for i, word in enumerate(words):
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        elif i == len(words) - 1:
            parts.append(re.escape(word) + r"(?:s|es)?")
        else:
            parts.append(re.escape(word))
    return re.compile(r"(?<!\w)" + r"[\W_]+".join(parts) + r"(?!\w)")


def _literal(term: str) -> str:
    """A plain substring every match of the term contains (a cheap test before the pattern)."""
    first = term.casefold().split()[0] if term.strip() else ""
    return first.rstrip("*")


def _has(term: str, text: str) -> bool:
    return _literal(term) in text and _term_pattern(term).search(text) is not None


def has_term(term: str, text: str) -> bool:
    """Whether a casefolded text holds a term, matched as a question's terms are."""
    return _has(term, text)


def addressed(question: QuestionSpec, text: str) -> bool:
    """Every group of the question's terms has at least one term in the text."""
    return all(any(_has(t, text) for t in group) for group in question.terms)


def unanswered(questions: Iterable[QuestionSpec], text: str) -> list[QuestionSpec]:
    return [q for q in questions if not addressed(q, text)]


def _stem(word: str) -> str:
    for suffix in ("ing", "ers", "er", "ion", "ions", "es", "s", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _significant(text: str) -> list[str]:
    words = re.findall(r"[^\W_]+", normalize_title(text.replace("-", " ")))
    return [_stem(w) for w in words if w not in _FILLER]


def topic_key(title: str) -> str:
    """What a topic's name comes to once spelling is set aside ("Rate Limiter", "Rate-Limiter"
    and "rate limiting" share one): its significant words, stemmed, in order."""
    return " ".join(_significant(title)) or title.casefold()


def _acronym(text: str) -> str:
    return "".join(w[0] for w in re.findall(r"[^\W_]+", normalize_title(text.replace("-", " ")))
                   if w not in _FILLER)


def names_topic(title: str, topic: str, aliases: Sequence[str] = ()) -> bool:
    """Whether a note's title names its topic (or one of the topic's aliases): most of the
    topic's own words are there, whatever the title adds around them ("Design a ...", emoji,
    a subtitle, an acronym in parentheses)."""
    title_words = set(_significant(title))
    title_plain = set(re.findall(r"[^\W_]+", normalize_title(title)))
    for name in (topic, *aliases):
        wanted = _significant(name)
        if not wanted:
            return True  # a topic made only of filler words: nothing to check
        found = sum(1 for w in wanted if w in title_words)
        # Its head noun ("Scheduler" of "Job Scheduler") and half its words: "Distributed Task
        # Scheduler" names "Job Scheduler", "URL Shortener like Bitly" names "URL Shortener".
        if wanted[-1] in title_words and found * 2 >= len(wanted):
            return True
        if found * 2 >= len(wanted) + (len(wanted) > 1):
            return True
        acronym = _acronym(name)
        if len(acronym) >= 2 and acronym in title_plain:
            return True
        if len(wanted) == 1 and _acronym(title).startswith(wanted[0]):
            return True  # the topic is the acronym of the title ("CDN")
    return False


_SMALL_WORDS = {"a", "an", "the", "of", "for", "and", "to", "in", "on", "with", "at", "by"}
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]{2,9}")


def acronyms_used(title: str, body: str) -> list[str]:
    """The acronyms of a topic that its note itself writes in capitals ("CDN" for "Content
    Delivery Network"): the initials of the title's words, with and without its small words
    ("SPOF"), one given in the title's parentheses, and one the note defines ("Content Delivery
    Network (CDN)", "CDN (Content Delivery Network)"). A guess the note never uses is dropped."""
    title = " ".join(title.split())
    given = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", title)
    core = given.group(1) if given else title
    candidates = [given.group(2).strip()] if given else []
    for joined in (core.replace("-", " "), core):  # "Conflict-free": one word or two
        words = re.findall(r"[^\W_][\w-]*", joined)
        candidates.append("".join(w[0] for w in words if w.casefold() not in _SMALL_WORDS).upper())
        candidates.append("".join(w[0] for w in words).upper())
    spelled = r"\s+".join(map(re.escape, core.split()))
    for pattern in (rf"(?i:{spelled})\s*\(([A-Z][A-Z0-9]{{2,9}})s?\)",
                    rf"\b([A-Z][A-Z0-9]{{2,9}})\s*\(\s*(?i:{spelled})\s*\)"):
        if (defined := re.search(pattern, body)) is not None:
            candidates.append(defined.group(1))
    found = []
    for candidate in dict.fromkeys(candidates):
        if (_ACRONYM.fullmatch(candidate) and candidate.casefold() != core.casefold()
                and re.search(rf"(?<![\w-]){candidate}s?(?![\w-])", body)):
            found.append(candidate)
    return found


@dataclass(frozen=True)
class TableMismatch:
    line: int  # 0-based body line of the row
    cells: int
    header: int


def _cells(row: str) -> int:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return len(re.split(r"(?<!\\)\|", row))


def table_mismatches(doc: Document) -> list[TableMismatch]:
    """Rows of GFM tables with another number of cells than their header (GFM pads or drops
    cells silently, so the reader sees a column shifted or lost)."""
    found = []
    for token in doc.tokens:
        if token.type != "table_open" or not token.map:
            continue
        start, end = token.map
        header = _cells(doc.lines[start])
        for number in range(start + 2, min(end, len(doc.lines))):
            line = doc.lines[number]
            if not line.strip():
                break
            cells = _cells(line)
            if cells != header:
                found.append(TableMismatch(number, cells, header))
                break  # one per table is enough to point the reader at it
    return found


@dataclass(frozen=True)
class Misalignment:
    line: int  # 0-based body line where a box's right edge is not where its top says


def _columns(line: str) -> dict[int, str]:
    """Each character of a line by its display column (emoji and wide characters take two)."""
    columns: dict[int, str] = {}
    column = 0
    for index, char in enumerate(line):
        if unicodedata.combining(char) or char in "\ufe0f\u200d":
            continue
        columns[column] = char
        width = wcswidth(char)
        if line[index + 1:index + 2] == "\ufe0f":
            width = 2  # a variation selector asks for the emoji form, two columns wide (🗄️)
        column += width if width > 0 else 1
    return columns


def box_misalignments(doc: Document) -> list[Misalignment]:
    """Boxes in ASCII diagrams whose right edge wanders: the `│` or `┘` below a `┐` is not in the
    same display column (an emoji inside a box is two columns wide; models count it as one)."""
    found = []
    for fence in doc.fences:
        if fence.info not in _PLAIN or "┐" not in fence.content:
            continue
        rows = [_columns(line) for line in fence.content.split("\n")]
        reported: set[int] = set()
        for top, row in enumerate(rows):
            for right, char in row.items():
                if char != "┐":
                    continue
                left = max((c for c, ch in row.items() if ch == "┌" and c < right), default=None)
                if left is None:
                    continue
                bad = _walk_box(rows, top, left, right)
                if bad is not None and bad not in reported:
                    reported.add(bad)
                    found.append(Misalignment(fence.line + 1 + bad))
    return found


def _walk_box(rows: list[dict[int, str]], top: int, left: int, right: int) -> int | None:
    """Follow a box down from its top edge; the row where its right edge is missing, if any."""
    for number in range(top + 1, len(rows)):
        row = rows[number]
        if row.get(left) in {"└", "╰"}:
            return None if row.get(right) in {"┘", "╯", "┤", "┴"} else number
        if row.get(left) not in {"│", "├", "┤", "┼", "|"}:
            return None  # the left edge stops: not a box after all
        if row.get(right) not in {"│", "┤", "├", "┼", "|", "┐", "┘"}:
            return number
    return None
