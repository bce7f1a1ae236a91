"""What a reader sees as a drawing: a Mermaid diagram that parses, a fenced ASCII box diagram,
or an SVG (fenced or inline) that parses as SVG and draws a shape. A fence of a diagram language
Obsidian does not draw (Excalidraw, PlantUML, Graphviz, D2) is shown as code: it is no diagram,
and is named so the model can redraw it in Mermaid.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Container
from dataclasses import dataclass

from ..markdown import Document, Fence

__all__ = ["DIAGRAM_INFOS", "PLAIN_INFOS", "UNDRAWN_INFOS", "Undrawn", "drawings",
           "is_ascii_diagram", "svg_draws", "undrawn_fences"]

PLAIN_INFOS = frozenset({"", "text", "txt", "ascii", "plaintext", "plain", "diagram", "none",
                         "art"})
# Diagram languages models reach for (seed 003 asks for Excalidraw): Obsidian shows them as code.
UNDRAWN_INFOS = {"excalidraw": "Excalidraw", "plantuml": "PlantUML", "puml": "PlantUML",
                 "dot": "Graphviz", "graphviz": "Graphviz", "d2": "D2"}
# Fences that are diagrams or meant as ones, never code.
DIAGRAM_INFOS = frozenset({"mermaid", "svg", *UNDRAWN_INFOS})
_DIAGRAM_CHARS = re.compile(r"[\u2190-\u21ff\u2500-\u257f\u25a0-\u25ff\u27f0-\u27ff]")
_ASCII_ART = re.compile(r"(\+-{2,}|-{2,}>|<-{2,}|={2,}>|\|.*\||-{3,}\+|\[[^\]]+\]\s*-+)")
_SHAPES = {"rect", "circle", "ellipse", "line", "polyline", "polygon", "path"}
_SVG = re.compile(r"<svg\b.*?</svg\s*>", re.S | re.I)
_SVG_LIMIT = 200_000  # characters: a drawing in a note, not a data dump to parse


@dataclass(frozen=True)
class Undrawn:
    """A fence of a diagram language Obsidian shows as code, at its body line."""

    line: int
    info: str
    language: str


def is_ascii_diagram(info: str, content: str) -> bool:
    if info == "mermaid" or content.count("\n") < 2:
        return False
    if _DIAGRAM_CHARS.search(content):
        return True
    return info in PLAIN_INFOS and len(_ASCII_ART.findall(content)) >= 2


def svg_draws(text: str) -> bool:
    """Whether the text is an SVG document that draws at least one shape. The text comes from a
    model: a document type or entity declaration is refused before parsing (no entity expansion,
    no external references), and so is anything too long to be a note's drawing."""
    source = text.strip()
    if len(source) > _SVG_LIMIT or "<!doctype" in source.casefold() or "<!entity" in \
            source.casefold():
        return False
    try:
        root = ElementTree.fromstring(source)
    except ElementTree.ParseError:
        return False
    if root.tag.rsplit("}", 1)[-1] != "svg":
        return False
    return any(element.tag.rsplit("}", 1)[-1] in _SHAPES for element in root.iter())


def _inline_svgs(doc: Document, start: int, end: int) -> int:
    """SVGs written as HTML in the Markdown, as a block or within a paragraph (Obsidian draws
    both), that draw something."""
    count = 0
    for token in doc.tokens_between(start, end):
        if token.type in {"html_block", "inline"} and "<svg" in token.content.casefold():
            count += sum(1 for m in _SVG.finditer(token.content) if svg_draws(m.group(0)))
    return count


def _draws(fence: Fence, parsed: Container[int], checked: bool) -> bool:
    if not fence.content.strip() or not fence.closed:
        return False
    if fence.info == "mermaid":
        # With Mermaid's parser on, only a diagram it parses; off, one that declares a type.
        return fence.line in parsed if checked else any(
            line.strip() and not line.strip().startswith("%%")
            for line in fence.content.split("\n"))
    if fence.info == "svg" or (fence.info in {"xml", "html"} and "<svg" in fence.content):
        return svg_draws(fence.content)
    return is_ascii_diagram(fence.info, fence.content)


def drawings(doc: Document, start: int, end: int, parsed: Container[int], checked: bool) -> int:
    """How many drawings body lines [start, end) hold. ``parsed``: the body lines of the Mermaid
    fences Mermaid's parser accepted (``checked``: whether it ran)."""
    fences = sum(1 for f in doc.fences if start <= f.line < end and _draws(f, parsed, checked))
    return fences + _inline_svgs(doc, start, end)


def undrawn_fences(doc: Document, start: int, end: int) -> list[Undrawn]:
    """The fences in body lines [start, end) of a diagram language Obsidian shows as code."""
    return [Undrawn(f.line, f.info, UNDRAWN_INFOS[f.info]) for f in doc.fences
            if start <= f.line < end and f.info in UNDRAWN_INFOS]
