"""What a note says: the seed's questions answered, the topic asked for, details a reader trips on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import respx

from sdgen.check import acronyms_used, names_topic, validate_document
from sdgen.cli import run
from sdgen.compose import Topic, load_persona
from sdgen.markdown import parse_document
from sdgen.repair import check_answer
from tests.helpers import OPENAI_URL, answer, openai_stream, retitled, sent_json

EMOJI = answer("emoji_valid.md")
PLANES = "Classify the different operations into data plane and control plane operations."


def _without_planes(text: str) -> str:
    """Every paragraph or list item that mentions the data or control plane, removed."""
    blocks = re.split(r"(\n\s*\n|\n(?=- ))", text)
    return "".join(b for b in blocks if not re.search(r"(data|control)[ -]plane", b, re.I))


def test_a_valid_emoji_answer_answers_the_seeds_questions() -> None:
    _, report = check_answer(load_persona("emoji"), Topic("Rate Limiter"), EMOJI)
    assert report.valid, report.summary()


def test_removing_the_data_and_control_plane_makes_it_invalid_naming_the_question() -> None:
    text = _without_planes(EMOJI)
    assert "plane" not in text.lower() and len(text) > len(EMOJI) * 0.8
    _, report = check_answer(load_persona("emoji"), Topic("Rate Limiter"), text)
    assert not report.valid
    coverage = [p for s in report.sections for p in s.problems if p.kind == "coverage"]
    assert [p.message.split(": ", 1)[1] for p in coverage] == [PLANES]


def test_a_question_answered_only_in_a_heading_or_code_is_not_answered() -> None:
    text = _without_planes(EMOJI).replace(
        "## 3.", "### Data plane and control plane\n\n```text\ndata plane | control plane\n```\n\n## 3.")
    _, report = check_answer(load_persona("emoji"), Topic("Rate Limiter"), text)
    assert any(p.kind == "coverage" for s in report.sections for p in s.problems)


def test_the_repair_asks_for_the_unanswered_question(httpx2_mock: respx.Router,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-content-00000000000000")
    planes = EMOJI[EMOJI.index("- **Data plane**"):].strip()
    section = EMOJI[EMOJI.index("## 2."):EMOJI.index("## 3.")].rstrip() + "\n\n" + planes + "\n"
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(_without_planes(EMOJI)), openai_stream(section)])
    assert run(["generate", "Rate Limiter", "--persona", "emoji", "--out", "out"]) == 0
    repair = sent_json(route, 1)["messages"][-1]["content"]
    assert "Architecture Components" in repair and PLANES in repair
    assert "Control plane" in Path("out/emoji/rate-limiter.md").read_text()


@pytest.mark.parametrize(("title", "topic", "named"), [
    ("Design a URL Shortener", "URL Shortener", True),
    ("🚦 Rate Limiting: Keeping the Floodgates Under Control 🌊", "Rate Limiter", True),
    ("URL Shortener System Design (TinyURL)", "URL Shortener", True),
    ("Content Delivery Network (CDN)", "CDN", True),
    ("CDN Deep Dive", "Content Delivery Network", True),
    ("Distributed Job Scheduler", "Job Scheduler", True),
    ("Designing a URL Shortener", "Job Scheduler", False),
    ("Rate Limiter", "Consistent Hashing", False),
    ("TinyURL", "URL Shortener", False),
    ("URL Shortener System Design", "Design a URL Shortener like Bitly", True),
    ("Distributed Task Scheduler", "Job Scheduler", True),
    ("Designing a Load Balancer", "Rate Limiter", False),
    ("Real-Time Chat Application", "Chat System", True),
])
def test_titles_name_their_topic(title: str, topic: str, named: bool) -> None:
    assert names_topic(title, topic) is named


def test_a_topic_alias_from_the_index_names_it_too() -> None:
    assert names_topic("TinyURL", "URL Shortener", ["TinyURL"])


def test_an_answer_about_another_topic_is_never_the_note(httpx2_mock: respx.Router,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-content-00000000000000")
    shortener = retitled(answer("obsidian_valid.md"), "URL Shortener")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda r: openai_stream(shortener))
    assert run(["generate", "Job Scheduler", "--out", "out"]) == 1
    assert not Path("out/obsidian/job-scheduler.md").exists()
    assert Path("out/_drafts/obsidian/job-scheduler.md").is_file()
    report = json.loads(Path("out/_drafts/obsidian/job-scheduler.report.json").read_text())
    assert "does not name the topic" in report["error"]
    assert "does not name the topic" in capsys.readouterr().err
    # The repair asked again for the whole note, not for sections of the wrong one.
    assert route.call_count == 2
    assert "complete corrected Markdown document" in sent_json(route, 1)["messages"][-1]["content"]


def test_a_table_row_with_missing_cells_is_a_warning() -> None:
    doc = parse_document("# T\n\n## A\n\n| a | b | c |\n| --- | --- | --- |\n| 1 | 2 |\n| 4 | 5 | 6 |\n")
    report = validate_document(doc, load_persona("senior").spec)
    assert [(w.kind, w.line) for w in report.warnings] == [("table", 7)]
    # the realistic answer's own tables are whole:
    _, clean = check_answer(load_persona("obsidian"), Topic("Rate Limiter"), answer("obsidian_valid.md"))
    assert not [w for w in clean.warnings if w.kind == "table"]


def test_a_box_whose_right_edge_wanders_is_a_warning() -> None:
    aligned = "┌──────────┐\n│ 📱 Mobile│\n└──────────┘"  # the emoji takes two columns
    drifted = "┌──────────┐\n│ 📱 Mobile │\n└──────────┘"  # counted as one: the edge moves
    for box, warned in ((aligned, False), (drifted, True)):
        doc = parse_document(f"# T\n\n## A\n\n```text\n{box}\n```\n")
        report = validate_document(doc, load_persona("senior").spec)
        assert any(w.kind == "alignment" for w in report.warnings) is warned, box


@pytest.mark.parametrize(("title", "body", "expected"), [
    ("Content Delivery Network", "Behind a CDN; CDNs cache.", ["CDN"]),
    ("Single Point of Failure", "No SPOF anywhere.", ["SPOF"]),
    ("Conflict-free Replicated Data Types", "CRDTs merge.", ["CRDT"]),
    ("Change Data Capture", "Change data capture (CDC) streams the log.", ["CDC"]),
    ("Content Delivery Network (CDN)", "The CDN.", ["CDN"]),
    ("Content Delivery Network", "a cdn, in lower case, is not the note's own acronym", []),
    ("Rate Limiter", "RL is a guess no note writes", []),
    ("Consistent Hashing", "CH: two letters are too few to name anything", []),
])
def test_acronyms_a_note_uses_become_its_names(title: str, body: str,
                                               expected: list[str]) -> None:
    assert acronyms_used(title, body) == expected
