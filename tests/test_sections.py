"""Section-level edits: find a section by loose name, take sections out of an answer, splice them in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgen.compose import Topic, compose, load_persona
from sdgen.markdown import format_markdown, parse_document
from sdgen.repair import (
    SectionTarget,
    ask_for_sections,
    check_answer,
    extract_sections,
    find_section,
    splice_sections,
    targets_for,
)
from tests.helpers import TOPIC_OF, answer

SENIOR = load_persona("senior")
NOTE = answer("senior_valid.md")
RENDERED = Path(__file__).parent / "data" / "golden" / "render"


@pytest.mark.parametrize(("query", "index"), [
    ("deep dive", 1), ("2", 1), ("Code", 4), ("why and how", 5), ("🧠 Interview-Oriented", 3)])
def test_sections_are_found_by_loose_name_or_number(query: str, index: int) -> None:
    assert find_section(SENIOR, parse_document(NOTE), query) == index


def test_an_unknown_name_or_number_finds_nothing() -> None:
    doc = parse_document(NOTE)
    assert find_section(SENIOR, doc, "billing") is None
    assert find_section(SENIOR, doc, "7") is None


def test_targets_keep_the_notes_own_heading_line() -> None:
    targets = targets_for(SENIOR, parse_document(NOTE), [1])
    assert targets == [SectionTarget(1, "Deep-Dive Explanation (Senior Level)",
                                     "### 2. Deep-Dive Explanation (Senior Level)")]


def test_a_missing_sections_heading_line_comes_from_the_schema() -> None:
    (target,) = targets_for(SENIOR, parse_document("# X\n\nnothing yet\n"), [5])
    assert target.heading_line.endswith("Why & How Summary") and target.heading_line.startswith("#")


def test_extract_takes_only_the_sections_asked_for() -> None:
    reply = "### 2. Deep Dive\n\nNew depth.\n\n### 6. Why & How Summary\n\nNew summary.\n"
    targets = targets_for(SENIOR, parse_document(NOTE), [1])
    assert extract_sections(SENIOR, reply, targets) == {1: "\nNew depth.\n"}


def test_a_lone_headless_reply_is_the_body_of_the_one_section_asked_for() -> None:
    targets = targets_for(SENIOR, parse_document(NOTE), [5])
    assert extract_sections(SENIOR, "Just the summary text.\n", targets) == {
        5: "Just the summary text.\n"}


def test_splice_changes_the_sections_body_and_no_other_byte() -> None:
    doc = parse_document(NOTE)
    targets = targets_for(SENIOR, doc, [1])
    spliced = splice_sections(SENIOR, NOTE, targets, {1: "Replaced body with **new** depth."})
    before, after = NOTE.split("\n"), spliced.split("\n")
    start = next(i for i, line in enumerate(before) if line.startswith("### 2."))
    end = next(i for i, line in enumerate(before) if line.startswith("### 3."))
    assert after[:start + 1] == before[:start + 1]
    assert after[start + 1:start + 4] == ["", "Replaced body with **new** depth.", ""]
    assert after[start + 4:] == before[end:]


def test_a_missing_section_is_added_in_schema_order() -> None:
    without = NOTE[:NOTE.index("### 4.")] + NOTE[NOTE.index("### 5."):]
    targets = targets_for(SENIOR, parse_document(without), [3])
    spliced = splice_sections(SENIOR, without, targets, {3: "Interview angle."})
    assert spliced.index("### 3.") < spliced.index("Interview angle.") < spliced.index("### 5.")


def test_the_request_names_each_section_its_heading_and_its_problems() -> None:
    prompt = compose(SENIOR, Topic("Consistent Hashing"))
    targets = [SectionTarget(4, "Code Examples (When Applicable)", "### 5. Code Examples",
                             ("needs a fenced code block with a language tag",))]
    request = ask_for_sections(SENIOR, NOTE, targets, prompt)
    roles = [m.role for m in request.messages]
    text = request.messages[-1].content
    assert roles == ["system", "user"] and request.config == prompt.config
    assert "### 5. Code Examples" in text and "needs a fenced code block" in text
    assert "<note>" in text  # without a conversation, the note is shown


@pytest.mark.parametrize("name", ["senior_valid.md", "emoji_valid.md", "visual_valid.md"])
def test_rendered_notes_match_their_golden_files(name: str) -> None:
    """An answer as the note body sdgen writes (title added, formatted), as mdformat keeps it."""
    persona = load_persona(name.split("_")[0])
    body, report = check_answer(persona, Topic(TOPIC_OF[persona.name]), answer(name))
    rendered = format_markdown(body)
    golden = RENDERED / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(rendered, encoding="utf-8")
    assert report.valid
    assert rendered == golden.read_text(encoding="utf-8")
    assert format_markdown(rendered) == rendered  # formatting is stable
