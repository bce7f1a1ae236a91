from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sdgen.check import match_section, validate_document
from sdgen.cli import run
from sdgen.compose import Topic, load_persona
from sdgen.markdown import parse_document
from sdgen.repair import check_answer
from tests.helpers import TOPIC_OF, answer

PERSONAS = ["obsidian", "emoji", "senior", "visual", "interview"]


def _check(persona: str, text: str) -> tuple[str, list[str]]:
    body, report = check_answer(load_persona(persona), Topic(TOPIC_OF[persona]), text)
    return body, report.summary()


@pytest.mark.parametrize("persona", PERSONAS)
def test_realistic_valid_answer_validates(persona: str) -> None:
    _, problems = _check(persona, answer(f"{persona}_valid.md"))
    assert problems == []


# What breaks each persona's answer, and the problem the report must name.
BREAKAGES = {
    "obsidian": (r"```mermaid\nflowchart LR.*?```\n",
                 "High-Level Architecture (HLD): needs a diagram"),
    "emoji": (r"## 3\. 🔄 Data Flow & Interactions.*?(?=## 4\.)",
              "Data Flow & Interactions: missing section"),
    "senior": (r"### 6\. Why & How Summary.*?(?=Let me know)", "Why & How Summary: missing section"),
    "visual": (r"```text.*?```\n", "Diagram: needs an ASCII/box-drawing diagram"),
    "interview": (r"```mermaid\nC4Container.*?```\n", "Deep Dive: needs a fenced ```mermaid"),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_realistic_invalid_answer_is_reported(persona: str) -> None:
    pattern, expected = BREAKAGES[persona]
    broken, count = re.subn(pattern, "", answer(f"{persona}_valid.md"), flags=re.S)
    assert count == 1
    _, problems = _check(persona, broken)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize("heading", [
    "## 5. 🔌 API Design",
    "## API Design",
    "### 5) API Design",
    "# (5) API Design",
    "## Section 5: API Design",
    "## **5. API Design**",
    "## API Design 🔌",
    "#### 5. **🔌 API design:**",
    "## Part 5 — API Design",
])
def test_headings_match_as_models_write_them(heading: str) -> None:
    sections = load_persona("obsidian").spec.sections
    title = re.sub(r"^#+\s*", "", heading)
    found = match_section(title, sections)
    assert found is not None and sections[found[0]].title == "API Design"


def test_unrelated_heading_matches_nothing() -> None:
    assert match_section("Token bucket in Lua", load_persona("obsidian").spec.sections) is None


def test_whole_answer_headings_one_level_deeper_still_validate() -> None:
    text = answer("obsidian_valid.md").replace("\n## ", "\n### ").replace("\n# ", "\n## ")
    assert _check("obsidian", text)[1] == []


def test_preamble_wrapper_and_sign_off_are_removed() -> None:
    body, problems = _check("obsidian", answer("obsidian_valid.md"))
    assert problems == []
    assert body.startswith("# Distributed Rate Limiter")
    assert "Sure!" not in body and "Let me know" not in body and "```markdown" not in body
    assert body.rstrip().endswith("adaptive limits from backend latency.")


def test_extra_sections_are_allowed() -> None:
    text = answer("emoji_valid.md")
    assert "Control Plane vs Data Plane" in text
    assert _check("emoji", text)[1] == []


def test_out_of_order_section_is_reported() -> None:
    text = answer("senior_valid.md")
    parts = re.split(r"(?m)^(?=─+\n### )", text)
    # Move "3. Clear Real-World Examples" to the end.
    third = next(p for p in parts if "### 3." in p)
    reordered = "".join(p for p in parts if p is not third) + "\n" + third
    persona = load_persona("senior")
    _, report = check_answer(persona, Topic(TOPIC_OF["senior"]), reordered)
    assert report.valid  # by default order is advice: a reordered note is still usable
    warned = [s.title for s in report.sections if any("out of order" in str(w) for w in s.warnings)]
    assert warned == ["Clear Real-World Examples"]
    strict = persona.spec.model_copy(update={"enforce_order": True})
    report = validate_document(parse_document(reordered, raw_answer=True), strict)
    assert not report.valid
    assert any("out of order" in p for p in report.summary())


def test_recommendations_are_warnings_not_failures() -> None:
    text = re.sub(r"\| Decision \|.*?\n\n", "", answer("obsidian_valid.md"), flags=re.S)
    _, report = check_answer(load_persona("obsidian"), Topic(TOPIC_OF["obsidian"]), text)
    assert report.valid
    trade_offs = next(s for s in report.sections if s.title == "Trade-offs & Alternatives")
    assert [str(w) for w in trade_offs.warnings] == ["should have a Markdown table"]


def test_stub_section_is_too_short() -> None:
    text = re.sub(r"(## 5\. 📊 Scalability Considerations\n).*?(?=## 6\.)", r"\1\nTBD.\n\n",
                  answer("emoji_valid.md"), flags=re.S)
    problems = _check("emoji", text)[1]
    assert any(p.startswith("Scalability Considerations: too short") for p in problems)


def test_unclosed_fence_is_reported() -> None:
    text = answer("visual_valid.md").split("## 📌")[0].rstrip().rsplit("```", 1)[0]
    problems = _check("visual", text)[1]
    assert any("never closed" in p for p in problems)


def test_crlf_and_bom_are_handled() -> None:
    text = "\ufeff" + answer("senior_valid.md").replace("\n", "\r\n")
    assert _check("senior", text)[1] == []


def _note(tmp_path: Path, persona: str | None, body: str) -> Path:
    front = f"---\ntitle: X\npersona: {persona}\n---\n\n" if persona else ""
    path = tmp_path / "note.md"
    path.write_text(front + body, encoding="utf-8")
    return path


def test_validate_cli_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body, _ = _check("visual", answer("visual_valid.md"))
    path = _note(tmp_path, "visual", body)
    assert run(["validate", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True and report["persona"] == "visual"
    assert [s["title"] for s in report["sections"]] == ["Diagram", "Key Points", "Pros & Cons"]
    assert set(report["sections"][0]) >= {"title", "found", "problems"}


def test_validate_cli_invalid_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _note(tmp_path, "senior", "# Raft\n\n## 1. High-Level Explanation\n\nShort.\n")
    assert run(["validate", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    missing = [s["title"] for s in report["sections"] if not s["found"]]
    assert "Why & How Summary" in missing


def test_validate_needs_a_persona(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _note(tmp_path, None, "# Raft\n")
    assert run(["validate", str(path)]) == 2
    assert "no persona in the note's front matter" in capsys.readouterr().err
    assert run(["validate", str(path), "--persona", "senior"]) == 1


def test_validate_rejects_binary_and_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "x.md"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    assert run(["validate", str(binary)]) == 2
    assert run(["validate", str(tmp_path / "nope.md")]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "no such note" in err and "Traceback" not in err


def test_parse_keeps_section_line_spans() -> None:
    doc = parse_document("# T\n\n## A\n\none\n\n## B\n\ntwo\n")
    assert [(h.text, h.line) for h in doc.headings] == [("T", 0), ("A", 2), ("B", 6)]
    spec = load_persona("visual").spec
    assert validate_document(doc, spec).valid is False


def test_reasoning_block_before_the_answer_is_dropped() -> None:
    text = "<think>\nThe user wants a card. Let me plan the diagram...\n</think>\n\n" + answer(
        "visual_valid.md")
    body, problems = _check("visual", text)
    assert problems == [] and "<think>" not in body


def test_bold_lines_used_as_headings_are_understood() -> None:
    text = re.sub(r"(?m)^### (\d\. .*)$", r"**\1**", answer("senior_valid.md"))
    assert "### 1." not in text
    assert _check("senior", text)[1] == []


def test_document_written_as_a_python_program_is_extracted() -> None:
    document = answer("visual_valid.md")
    program = ("I'll generate the file with Python to avoid rendering issues:\n\n```python\n"
               f"content = {document!r}\n\nwith open('card.md', 'w') as f:\n    f.write(content)\n```\n")
    body, problems = _check("visual", program)
    assert problems == []
    assert body.startswith("# Load Balancer")


def test_four_backtick_wrapper_and_front_matter_in_the_answer() -> None:
    text = ("Here is your note:\n\n````markdown\n---\ntags: [system-design]\n---\n"
            + answer("visual_valid.md") + "````\n")
    body, problems = _check("visual", text)
    assert problems == [] and not body.startswith("---")


def test_emoji_before_the_number_and_setext_headings() -> None:
    text = answer("emoji_valid.md").replace("## 1. 🔍 Overview", "## 🔍 1. Overview")
    text = text.replace("## 8. 💡 Best Practices & Tips", "💡 Best Practices & Tips\n---------")
    assert _check("emoji", text)[1] == []


def test_validate_accepts_a_raw_answer_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answer.md"
    path.write_text(answer("obsidian_valid.md"), encoding="utf-8")  # preamble + ```markdown fence
    assert run(["validate", str(path), "--persona", "obsidian", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_a_card_in_the_guides_own_style_is_valid() -> None:
    # As the guide draws them: a bold title, the diagram, Pros/Cons, and bullets, no headings.
    card = ("### **Cache-Aside Pattern** 🎯\n```\n┌──────┐    ┌───────┐\n│ 💻 App │ ─▶ │ ⚡ Cache│\n"
            "└──────┘    └───────┘\n     │ miss\n     ▼\n   🗄️ Database\n\nPros: ✅ Simple\n"
            "Cons: ❌ Stale reads\n```\n\n- Read the cache first\n- Load on a miss\n"
            "- Delete the key on writes\n")
    assert _check("visual", card)[1] == []
    assert _check("visual", card.split("\n\n- ")[0])[1] == ["the note needs a bulleted list somewhere"]


def test_validate_a_folder_and_several_notes(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    vault = tmp_path / "vault"
    good, _ = _check("visual", answer("visual_valid.md"))
    for name, persona, body in (("lb", "visual", good),
                                ("raft", "senior", "# Raft\n\n## 1. High-Level Explanation\n\nShort.\n")):
        (vault / persona).mkdir(parents=True)
        (vault / persona / f"{name}.md").write_text(
            f"---\ntitle: {name}\npersona: {persona}\n---\n\n{body}", encoding="utf-8")
    assert run(["validate", str(vault)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^ok +\S+/visual/lb\.md \(visual\)$", out, re.M)
    assert re.search(r"^INVALID +\S+/senior/raft\.md \(senior\)$", out, re.M)
    assert "Deep-Dive Explanation (Senior Level): missing section" in out  # why, under its line
    assert "… and " in out and "more (sdgen validate " in out
    assert out.rstrip().endswith("2 note(s): 1 valid, 1 invalid")
    assert run(["validate", str(vault / "visual" / "lb.md"), str(vault / "visual")]) == 0
    assert capsys.readouterr().out.rstrip().endswith("1 note(s): 1 valid, 0 invalid")
    assert run(["validate", str(vault), "--json"]) == 1
    reports = json.loads(capsys.readouterr().out)
    assert [(Path(r["note"]).name, r["valid"]) for r in reports] == [("raft.md", False), ("lb.md", True)]
