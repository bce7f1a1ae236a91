"""Parsing notes and raw answers: golden answer extractions, headings, fences, front matter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgen.markdown import (
    PSEUDO_LEVEL,
    extract_answer,
    normalize_title,
    parse_document,
    set_top_level,
    split_front_matter,
)

GOLDEN = Path(__file__).parent / "data" / "golden" / "extract"
CASES = sorted(p.name.removesuffix(".in.md") for p in GOLDEN.glob("*.in.md"))
# UPDATE_GOLDEN=1 rewrites the expected files from the code (then read the diff).
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("case", CASES)
def test_answer_extraction_matches_its_golden_file(case: str) -> None:
    raw = (GOLDEN / f"{case}.in.md").read_bytes().decode("utf-8")
    expected_path = GOLDEN / f"{case}.out.md"
    got = extract_answer(raw)
    if UPDATE:
        expected_path.write_text(got, encoding="utf-8", newline="")
    assert got == expected_path.read_bytes().decode("utf-8")


def test_golden_extractions_keep_the_document_and_drop_the_chatter() -> None:
    wrapped = (GOLDEN / "preamble-wrapper-signoff.out.md").read_text()
    assert wrapped.startswith("# Rate Limiter") and "Let me know" not in wrapped
    assert "```python" in wrapped and "Sure!" not in wrapped
    assert (GOLDEN / "think-block.out.md").read_text().startswith("# Consistent Hashing")
    assert (GOLDEN / "python-program.out.md").read_text().startswith("# Message Queue")
    assert "so a retry" in (GOLDEN / "cut-inside-wrapper.out.md").read_text()
    assert b"\r" not in (GOLDEN / "crlf-bom-no-change.out.md").read_bytes()


def test_headings_at_any_level_with_their_lines() -> None:
    doc = parse_document("# Title\n\nintro\n\n## One\n\ntext\n\n### One.a\n\n## Two\n")
    assert [(h.level, h.text, h.line) for h in doc.headings] == [
        (1, "Title", 0), (2, "One", 4), (3, "One.a", 8), (2, "Two", 10)]


def test_a_heading_inside_a_code_block_is_not_a_heading() -> None:
    doc = parse_document("# Title\n\n```bash\n# install\npip install x\n```\n")
    assert [h.text for h in doc.headings] == ["Title"]
    assert doc.fences[0].info == "bash" and doc.fences[0].closed


def test_an_unclosed_fence_is_reported_as_such() -> None:
    doc = parse_document("# T\n\n```mermaid\ngraph TD\nA-->B\n")
    assert doc.fences[0].info == "mermaid" and not doc.fences[0].closed


def test_bold_lines_are_pseudo_headings_only_at_top_level() -> None:
    doc = parse_document("**1. Overview**\n\ntext\n\n- **not a heading**\n")
    assert [(h.text, h.level) for h in doc.pseudo_headings] == [("1. Overview", PSEUDO_LEVEL)]


def test_front_matter_is_split_and_bad_yaml_is_no_front_matter() -> None:
    meta, block, rest = split_front_matter("---\ntitle: X\ntags: [a]\n---\n\n# X\n")
    assert meta == {"title": "X", "tags": ["a"]} and block.startswith("---") and rest == "\n# X\n"
    assert split_front_matter("---\n: : bad\n---\n# X\n")[0] == {}


@pytest.mark.parametrize(("heading", "normalized"), [
    ("3. 🔌 **API Design**", "api design"),
    ("Step 2 - Data Model & Storage", "data model and storage"),
    ("[[Caching]] (L7)", "caching (l7)"),
    ("(1) FEATURE EXPECTATIONS", "feature expectations"),
])
def test_titles_normalise_to_their_words(heading: str, normalized: str) -> None:
    assert normalize_title(heading) == normalized


def test_set_top_level_shifts_headings_and_drops_a_lone_title() -> None:
    fragment = "# Design\n\n## Part\n\ntext\n\n### Detail\n"
    assert set_top_level(fragment, 3) == "\n\n### Part\n\ntext\n\n#### Detail\n".lstrip("\n")
