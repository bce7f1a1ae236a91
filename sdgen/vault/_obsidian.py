"""Obsidian Markdown as Python-Markdown (mkdocs) reads it, for the static site.

Obsidian and Python-Markdown disagree on these things a note uses:

- callouts (``> [!TIP]- Title``) are admonitions (``??? tip "Title"``), their body indented;
- wikilinks (``[[path|label]]``, ``[[path#Heading]]``) are relative Markdown links to pages;
- lists: Python-Markdown nests by four spaces, mdformat (like CommonMark) by the width of the
  parent's marker (two for ``-``, three for ``1.``); and it runs two lists in a row together,
  where CommonMark starts a new list at a new marker (mdformat alternates ``-`` and ``*`` so);
- line breaks: CommonMark's trailing backslash (mdformat's hard break) is Python-Markdown's two
  trailing spaces;
- raw HTML passes through to the page's HTML, where the site's sanitiser (sdgen.sanitize, over
  the HTML as a browser parses it, not over Markdown lines) keeps only what it allows;
- ``%%comments%%`` are hidden in Obsidian's reading view: here they are left out.

Fenced code and diagrams are never touched, except for the indentation of the block they sit in.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

__all__ = ["ADMONITION_TYPES", "Converted", "LinkTargets", "path_endings", "to_python_markdown"]

# Obsidian's callout types and their aliases, as mkdocs-material's admonition types.
ADMONITION_TYPES = {
    "note": "note", "abstract": "abstract", "summary": "abstract", "tldr": "abstract",
    "info": "info", "todo": "info", "tip": "tip", "hint": "tip", "important": "tip",
    "success": "success", "check": "success", "done": "success", "question": "question",
    "help": "question", "faq": "question", "warning": "warning", "caution": "warning",
    "attention": "warning", "failure": "failure", "fail": "failure", "missing": "failure",
    "danger": "danger", "error": "danger", "bug": "bug", "example": "example", "quote": "quote",
    "cite": "quote",
}

_CALLOUT = re.compile(r"^>\s?\[!([\w-]+)\]([+-]?)[ \t]*(.*)$")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")
_HARD_BREAK = re.compile(r"(?<!\\)(?:\\\\)*\\$")  # an odd run of backslashes ends the line
_LIST_MARKER = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])(\s+|$)")
_WIKILINK = re.compile(r"(!?)\[\[([^\]|#\n]*)(#[^\]|\n]*)?(?:\|([^\]\n]*))?\]\]")
_CODE_SPAN = re.compile(r"(`+)[^`].*?\1|(`+)\2")
_COMMENT = re.compile(r"%%.*?%%")  # Obsidian's comment: not shown in reading view


@dataclass
class Converted:
    """A page's Markdown, and what could not be carried over as written."""

    text: str
    unresolved: list[str] = field(default_factory=list)  # wikilinks to no page of the site


def path_endings(paths: Iterable[str]) -> dict[str, list[str]]:
    """Every ending of each path, any case and without ``.md`` ("a/b/c.md": "a/b/c", "b/c",
    "c"), to the paths that end so: how Obsidian finds a note by a path suffix or file name."""
    endings: dict[str, list[str]] = {}
    for path in paths:
        parts = path.removesuffix(".md").casefold().split("/")
        for i in range(len(parts)):
            endings.setdefault("/".join(parts[i:]), []).append(path)
    return endings


class LinkTargets:
    """Where a wikilink leads, resolved as Obsidian resolves it: relative to the linking note,
    from the vault root, by a unique path suffix (the linking note's own persona first), or
    by a note's title or alias (any case)."""

    def __init__(self, pages: Iterable[str], names: dict[str, str]) -> None:
        self.pages = {p.casefold(): p for p in pages}  # "senior/messaging/idempotent-writes.md"
        self.suffixes = path_endings(self.pages.values())
        self.names = {name.casefold(): page for name, page in names.items()}

    def resolve(self, target: str, page: str) -> str | None:
        target = target.strip().removesuffix(".md")
        if not target:
            return page  # "[[#Heading]]": a heading of the page itself
        here = PurePosixPath(page).parent
        for candidate in (here / target, PurePosixPath(target)):
            found = self.pages.get(f"{_normalized(candidate)}.md".casefold())
            if found:
                return found
        owners = self.suffixes.get(target.casefold(), [])
        if owners:
            top = page.split("/", 1)[0]
            return min(owners, key=lambda p: (p.split("/", 1)[0] != top, p.count("/"), p))
        return self.names.get(target.casefold())


def _normalized(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def _relative(target: str, page: str) -> str:
    """``target`` (a site page) as a link from ``page``."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def _outside_code_spans(line: str, change: Callable[[str], str]) -> str:
    """``change`` applied to the parts of a line outside inline code."""
    if "`" not in line:
        return change(line)
    pieces, cursor = [], 0
    for span in _CODE_SPAN.finditer(line):
        pieces += [change(line[cursor:span.start()]), span.group(0)]
        cursor = span.end()
    pieces.append(change(line[cursor:]))
    return "".join(pieces)


class _Inline:
    """The inline conversions of one page: wikilinks and comments."""

    def __init__(self, page: str, targets: LinkTargets, slugify: Callable[[str, str], str],
                 converted: Converted) -> None:
        self.page, self.targets, self.slugify, self.converted = page, targets, slugify, converted

    def _link(self, match: re.Match[str]) -> str:
        _, target, heading, label = match.groups()
        target = target.rstrip("\\")  # "[[note\|label]]": the pipe escaped inside a table
        words = (label or "").strip() or (heading or "").lstrip("#").strip() or target.strip()
        words = words.replace("[", "\\[").replace("]", "\\]")
        found = self.targets.resolve(target, self.page)
        if found is None:
            self.converted.unresolved.append(match.group(0))
            return words
        href = "" if found == self.page else _relative(found, self.page)
        if heading and heading.strip("# "):
            href += "#" + self.slugify(heading.lstrip("#").strip(), "-")
        return f"[{words}]({href})" if href else words  # slugs: no space to bracket

    def __call__(self, text: str) -> str:
        if "%%" in text:
            text = _COMMENT.sub("", text)
        if "[[" in text:
            text = _WIKILINK.sub(self._link, text)
        return text


def _callout_title(inline: _Inline, title: str) -> str:
    """A callout's title as an admonition's quoted title: its links as their words."""
    title = _WIKILINK.sub(lambda m: (m.group(4) or m.group(2)).strip(), title)
    return html.escape(title.strip(), quote=False).replace('"', "&quot;")


class _Lists:
    """Nested list items and their content re-indented from marker width to four spaces a
    level, the way Python-Markdown nests them; and two lists in a row kept two lists (where
    CommonMark starts a new list at a new marker, Python-Markdown would run them together)."""

    def __init__(self) -> None:
        self.levels: list[int] = []  # the content column of each open list item
        self.top_marker: str | None = None  # the marker of the list open at the top level

    def line(self, line: str, in_fence: bool) -> str:
        if not line.strip():
            return line
        indent = len(line) - len(line.lstrip(" "))
        while self.levels and indent < self.levels[-1]:
            self.levels.pop()
        marker = None if in_fence else _LIST_MARKER.match(line)
        if not self.levels and indent == 0 and not marker:
            self.top_marker = None  # a paragraph: no list is open any more
            return line
        column = self.levels[-1] if self.levels else 0
        new = 4 * len(self.levels) + (indent - column)
        separator = ""
        if marker:
            if not self.levels:
                kind = marker.group(2)[-1]  # "-", "*", "+", "." or ")"
                if self.top_marker is not None and kind != self.top_marker:
                    separator = "<!-- -->\n\n"  # ends the list before: a new one starts
                self.top_marker = kind
            self.levels.append(indent + len(marker.group(2)) + max(1, len(marker.group(3))))
        return separator + " " * new + line[indent:]


def _convert(lines: list[str], inline: _Inline) -> list[str]:
    out: list[str] = []
    lists = _Lists()
    fence: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(2)[0] == fence[0] and len(opening.group(2)) >= len(fence) \
                    and not line.strip()[len(opening.group(2)):].strip():
                fence = None
            out.append(lists.line(line, in_fence=True))
            i += 1
            continue
        if opening:
            fence = opening.group(2)
            out.append(lists.line(line, in_fence=False))
            i += 1
            continue
        if line.lstrip().startswith("%%") and not _COMMENT.fullmatch(line.strip()):
            # A comment block: from a line that opens with %% to the next line holding %%.
            i += 1
            while i < len(lines) and "%%" not in lines[i]:
                i += 1
            i += 1  # the closing line
            continue
        callout = _CALLOUT.match(line)
        if callout:
            kind, fold, title = callout.groups()
            inner = []
            i += 1
            while i < len(lines) and lines[i].startswith(">"):
                inner.append(lines[i][2:] if lines[i].startswith("> ") else lines[i][1:])
                i += 1
            marker = {"": "!!!", "-": "???", "+": "???+"}[fold]
            admonition = ADMONITION_TYPES.get(kind.lower(), "note")
            head = f"{marker} {admonition}"
            if title.strip():
                head += f' "{_callout_title(inline, title)}"'
            out += ["", head, ""]
            out += [f"    {text}" if text.strip() else "" for text in _convert(inner, inline)]
            out.append("")
            lists = _Lists()  # a list after the callout starts afresh
            continue
        if _HARD_BREAK.search(line) and not line.lstrip().startswith("|"):
            line = line[:-1] + "  "  # CommonMark's backslash line break, as Python-Markdown's
        out.append(lists.line(_outside_code_spans(line, inline), in_fence=False))
        i += 1
    return out


def to_python_markdown(body: str, page: str, targets: LinkTargets,
                       slugify: Callable[[str, str], str]) -> Converted:
    """A note's body (front matter apart) as mkdocs Markdown for the site page ``page``."""
    converted = Converted("")
    inline = _Inline(page, targets, slugify, converted)
    converted.text = "\n".join(_convert(body.split("\n"), inline))
    return converted
