"""The one Markdown model every stage reads notes with: front matter, headings, fences
and sections with their line spans (markdown-it), and the one formatter (mdformat)."""

from __future__ import annotations

from ._document import (
    MD_EXTENSIONS,
    PSEUDO_LEVEL,
    Document,
    Fence,
    Heading,
    answer_front_matter,
    cut_front_matter,
    extract_answer,
    format_markdown,
    normalize_title,
    parse_document,
    set_top_level,
    split_front_matter,
)

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
