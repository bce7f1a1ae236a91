"""The section parser and validator never crash, and a valid note stays valid through harmless
changes (line endings, BOM, trailing spaces)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdgen.check import validate_document
from sdgen.compose import Topic, load_persona
from sdgen.markdown import parse_document
from sdgen.repair import check_answer
from tests.helpers import answer

SPEC = load_persona("senior").spec
VALID = check_answer(load_persona("senior"), Topic("T"), answer("senior_valid.md"))[0]
BLOCKS = re.split(r"(?m)^(?=#{1,3} )", VALID)

PIECES = [*"#`~*_-|>[]()!:. \n\t\r1aZ🔍─┌\ufeff", "```", "\n## ", "\n### 1. ", "```mermaid\n",
          "**Summary**\n", "<think>", "</think>", "Sure! Here is", "```markdown\n", "---\n"]
markdownish = st.lists(st.sampled_from(PIECES), max_size=150).map("".join)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_arbitrary_text_never_crashes(text: str) -> None:
    report = validate_document(parse_document(text, raw_answer=True), SPEC)
    assert isinstance(report.valid, bool)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(range(len(BLOCKS))), max_size=len(BLOCKS) + 3),
       st.sampled_from(["", "```", "\n```python\n", "\r\n", "# "]))
def test_mutated_notes_never_crash(order: list[int], junk: str) -> None:
    # Sections dropped, duplicated and reordered, with stray fences and line endings mixed in.
    text = junk.join(BLOCKS[i] for i in order)
    report = validate_document(parse_document(text, raw_answer=True), SPEC)
    assert isinstance(report.valid, bool)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.booleans())
def test_a_valid_note_stays_valid(newline: str, bom: bool, trailing_spaces: bool) -> None:
    text = VALID.replace("\n", " \n" if trailing_spaces else "\n").replace("\n", newline)
    text = ("\ufeff" if bom else "") + text
    assert validate_document(parse_document(text, raw_answer=True), SPEC).valid
