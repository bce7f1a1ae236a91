"""Where in a note's body a link may go: prose, and only prose.

Blocks never take a link: fenced code and diagrams, math, tables, HTML blocks, indented code,
lines of a box diagram, headings (setext ones too) and callout titles. Within a line of prose,
neither do inline code, links of any kind, URLs, HTML or math. Blocks are found once per note;
a line is judged only when a name is found on it.
"""

from __future__ import annotations

import bisect
import re

__all__ = ["Prose", "fenced_ranges", "in_inline_code", "in_title"]

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


class Prose:
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


def in_inline_code(text: str, at: int) -> bool:
    """Whether position ``at`` is inside a code span of its line (an odd count of backticks
    before it)."""
    line_start = text.rfind("\n", 0, at) + 1
    return text.count("`", line_start, at) % 2 == 1


def in_title(text: str, at: int) -> bool:
    """Whether position ``at`` is on a heading or a callout's title line (no link goes there)."""
    line_start = text.rfind("\n", 0, at) + 1
    line_end = text.find("\n", at)
    line = text[line_start:len(text) if line_end < 0 else line_end]
    return bool(_HEADING.match(line) or _CALLOUT_TITLE.match(line))


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


def fenced_ranges(body: str) -> list[tuple[int, int]]:
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
