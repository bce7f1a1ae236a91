"""Parse a note (or a raw model answer) into front matter and a tree of headed sections.

Every section keeps its exact line span, so a later splice changes only the lines it means to.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import emoji
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = [
    "MD_EXTENSIONS",
    "PSEUDO_LEVEL",
    "Document",
    "Fence",
    "Heading",
    "answer_front_matter",
    "cut_front_matter",
    "extract_answer",
    "format_markdown",
    "normalize_title",
    "parse_document",
    "set_top_level",
    "split_front_matter",
]

MD_EXTENSIONS = frozenset({"gfm", "frontmatter", "obsidian", "wikilink"})  # what notes are formatted with
PSEUDO_LEVEL = 7  # below every real heading level
_BOLD_LINE = re.compile(r"^ {0,3}(?:\*\*|__)([^*_\n]+?)(?:\*\*|__):?[ \t]*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_OPEN_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+-]*)[ \t]*$")
_ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+\S")
_WRAPPER_INFO = {"", "markdown", "md", "gfm", "mdx"}
_SIGN_OFF = re.compile(
    r"^\s*(?:\*\*)?(?:let me know|i hope|hope this|would you like|feel free|if you(?:'d| would) like"
    r"|happy to|want me to|shall i|do you want)\b",
    re.IGNORECASE,
)
_NUMBERING = re.compile(
    r"^(?:(?:section|part|step|phase|chapter)\s*)?[(\[]?(?:\d+(?:\.\d+)*|[ivx]+)[)\].:]?"
    r"(?:\s*[-–—:.)]\s*|\s+)",
    re.IGNORECASE,
)


# libyaml's safe loader when PyYAML was built with it: front matter is read for every note.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _parser(blocks_only: bool = False) -> MarkdownIt:
    parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    # Blocks only: headings and fences without the inline pass (a third of the time).
    return parser.disable("inline") if blocks_only else parser


def cut_front_matter(text: str) -> tuple[str, str]:
    """The front matter's source block and the rest, without reading the YAML (for a caller
    that has read it already)."""
    match = _FRONT_MATTER.match(text)
    return (match.group(0), text[match.end():]) if match else ("", text)


def format_markdown(text: str) -> str:
    """mdformat with GFM tables, front matter, Obsidian callouts and wikilinks kept intact."""
    import mdformat  # its plugins load with it: only a command that writes a note needs them

    return str(mdformat.text(text, extensions=MD_EXTENSIONS,
                             options={"wrap": "keep", "number": True}))


def split_front_matter(text: str) -> tuple[dict[str, Any], str, str]:
    """Return (front matter, its source block, the rest); bad YAML counts as no front matter."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, "", text
    try:
        data = yaml.load(match.group(1) or "", Loader=_YAML_LOADER) or {}
    except yaml.YAMLError:
        return {}, "", text
    if not isinstance(data, dict):
        return {}, "", text
    return data, match.group(0), text[match.end():]


def _unwrap_fence(lines: list[str]) -> list[str]:
    """Take the document out of a ```markdown fence that wraps the whole answer."""
    for start, line in enumerate(lines):
        if _ATX.match(line):
            return lines  # a heading before any fence: the answer is not wrapped
        match = _OPEN_FENCE.match(line)
        if not match:
            continue
        marker, info = match.group(1), match.group(2).lower()
        if info not in _WRAPPER_INFO:
            return lines
        closing = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        ends = [i for i in range(start + 1, len(lines)) if closing.match(lines[i])]
        # The wrapper closes at its last closing line; inner fences of the same length pair up
        # before it. An answer cut off before its closing line is unwrapped to the end.
        end = ends[-1] if ends else len(lines)
        inner = lines[start + 1:end]
        if any(_ATX.match(x) for x in inner) and not any(_ATX.match(x) for x in lines[end + 1:]):
            return inner
        return lines
    return lines


def _strip_preamble(lines: list[str]) -> list[str]:
    """Drop a short conversational lead-in ("Sure! Here is ...") before the first heading."""
    in_fence = False
    for i, line in enumerate(lines):
        if _OPEN_FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            return lines
        if _ATX.match(line):
            lead = " ".join(lines[:i])
            if i and len(lead.split()) <= 80 and "|" not in lead:
                return lines[i:]
            return lines
    return lines


def _strip_sign_off(lines: list[str]) -> list[str]:
    """Drop closing chatter ("Let me know if ...") after the last block of the document."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    para_start = end
    while para_start and lines[para_start - 1].strip():
        para_start -= 1
    if end and _SIGN_OFF.match(lines[para_start]) and not _ATX.match(lines[para_start]):
        end = para_start
        while end and (not lines[end - 1].strip() or re.fullmatch(r"\s*([-*_])\1{2,}\s*",
                                                                   lines[end - 1])):
            end -= 1
    return lines[:end]


_THINKING = re.compile(r"\A\s*<(think|thinking|reasoning)>.*?</\1>\s*", re.DOTALL | re.IGNORECASE)


def _from_program(lines: list[str]) -> list[str]:
    """The document inside a program that writes it, when that is all the answer holds.

    Seed 003 asks the model to "use python to generate the .md file"; some models then answer
    with the program. Its string literals that hold headings are the document.
    """
    if any(_ATX.match(line) for line in _outside_fences(lines)):
        return lines
    source = "\n".join(lines)
    match = re.search(r"^ {0,3}(`{3,}|~{3,})[ \t]*(?:python|py)[ \t]*\n(.*?)^ {0,3}\1[ \t]*$",
                      source, re.MULTILINE | re.DOTALL)
    if not match:
        return lines
    try:
        tree = ast.parse(match.group(2))
    except SyntaxError:
        return lines
    parts = [node.value for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and any(_ATX.match(x) for x in node.value.split("\n"))]
    return "\n".join(parts).split("\n") if parts else lines


def _outside_fences(lines: list[str]) -> list[str]:
    outside, marker = [], ""
    for line in lines:
        fence = _OPEN_FENCE.match(line) or re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if fence and (not marker or fence.group(1).startswith(marker)):
            marker = "" if marker else fence.group(1)
            continue
        if not marker:
            outside.append(line)
    return outside


def extract_answer(text: str) -> str:
    """The Markdown document inside a model's answer: no preamble, wrapper fence or sign-off."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = _THINKING.sub("", text)  # reasoning models served through compatible servers
    lines = _strip_preamble(_unwrap_fence(_from_program(text.split("\n"))))
    lines = _strip_sign_off(lines)
    return "\n".join(lines).strip("\n") + "\n"


@lru_cache(maxsize=65536)
def normalize_title(text: str) -> str:
    """A heading reduced to its words: no emoji, numbering, emphasis, punctuation or case."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]", r"\1", text)
    text = emoji.replace_emoji(text, replace=" ")
    text = "".join(" " if unicodedata.category(c) in {"So", "Sk", "Cf", "Co"} else c for c in text)
    text = re.sub(r"[*_`~]+", " ", text).strip()
    text = _NUMBERING.sub("", text, count=1).strip()
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"[^\w()]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int  # 0-based line of the heading in the body
    end_line: int  # first line after the heading


@dataclass(frozen=True)
class Fence:
    info: str
    content: str
    line: int
    closed: bool


@dataclass
class Document:
    """A parsed note body (front matter apart) with headings, fences and block tokens."""

    front_matter: dict[str, Any]
    front_matter_text: str
    body: str
    lines: list[str]
    tokens: list[Token]
    headings: list[Heading] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)
    # One-line bold paragraphs ("**1. Overview**"): some models write these for headings.
    pseudo_headings: list[Heading] = field(default_factory=list)
    line_offset: int = 0  # lines before the body in the text parsed (its front matter)

    def text_between(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start:end])

    def tokens_between(self, start: int, end: int) -> list[Token]:
        return [t for t in self.tokens if t.map and start <= t.map[0] < end]


def _fence_closed(lines: list[str], token: Token) -> bool:
    assert token.map is not None
    last = token.map[1] - 1
    if last <= token.map[0] or last >= len(lines):
        return False
    marker = token.markup
    closing = lines[last].strip()
    return closing.startswith(marker[0] * len(marker)) and set(closing) == {marker[0]}


def answer_front_matter(text: str) -> dict[str, Any]:
    """The front matter a model wrote at the top of its answer (or of the document inside it)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    meta, _, body = split_front_matter(text)
    if meta:
        return meta
    return split_front_matter(extract_answer(_THINKING.sub("", body)))[0]


def parse_document(text: str, *, raw_answer: bool = False, blocks_only: bool = False) -> Document:
    """Parse a note; with raw_answer, first take the document out of a model's answer; with
    blocks_only, leave inline tokens unparsed (for callers that read only blocks and fences)."""
    front_matter, fm_text, body = split_front_matter(
        text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    )
    offset = fm_text.count("\n")
    if raw_answer:
        given = body
        body = extract_answer(body)
        if not front_matter:  # a front matter block inside the fence that wraps the answer
            front_matter, fm_text, body = split_front_matter(body)
        # Lines of the text before the document proper (a blank line, a preamble, a wrapper's
        # opening fence): a line number must still point into the file as it is.
        first = next((line for line in body.split("\n") if line.strip()), "")
        at = given.find(first) if first else -1
        offset += given.count("\n", 0, at) - body.split("\n").index(first) if at > 0 else 0
    tokens = _parser(blocks_only).parse(body)
    lines = body.split("\n")
    doc = Document(front_matter, fm_text, body, lines, tokens, line_offset=offset)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            inline = tokens[i + 1].content if i + 1 < len(tokens) else ""
            doc.headings.append(Heading(int(token.tag[1]), inline, token.map[0], token.map[1]))
        elif token.type == "paragraph_open" and token.map and token.level == 0:
            for number in range(token.map[0], token.map[1]):
                bold = _BOLD_LINE.match(lines[number])
                if bold:
                    doc.pseudo_headings.append(Heading(PSEUDO_LEVEL, bold.group(1), number,
                                                       number + 1))
        elif token.type == "fence" and token.map:
            info = token.info.strip().split(maxsplit=1)[0].lower() if token.info.strip() else ""
            doc.fences.append(Fence(info, token.content, token.map[0], _fence_closed(lines, token)))
    return doc


def set_top_level(text: str, level: int, drop_title: bool = True) -> str:
    """Shift a fragment's headings so its highest is at ``level`` (a turn's answer placed inside
    a note); a lone level-1 title that would clash with the note's own is dropped."""
    doc = parse_document(extract_answer(text))
    lines = list(doc.lines)
    headings = list(doc.headings)
    if drop_title and headings and headings[0].level == 1 and sum(
            1 for h in headings if h.level == 1) == 1 and len(headings) > 1:
        lines[headings[0].line] = ""
        headings = headings[1:]
    if headings:
        shift = level - min(h.level for h in headings)
        for heading in headings:
            new = min(6, max(1, heading.level + shift))
            line = lines[heading.line]
            if line.lstrip().startswith("#"):
                lines[heading.line] = "#" * new + " " + line.lstrip().lstrip("#").lstrip()
    return "\n".join(lines).strip("\n") + "\n"
