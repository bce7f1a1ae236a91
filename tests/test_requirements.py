"""The seed as a checklist: each persona's requirements checked in their section, on real answers
edited one instruction at a time, and shown to the user (personas show, validate --json, the
per-topic line, the run report and the note's front matter)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from sdgen.check import CheckedReport, RequirementResult
from sdgen.cli import run
from sdgen.compose import Topic, load_persona, prompts_root
from sdgen.errors import PersonaError
from sdgen.repair import check_answer
from tests.helpers import TOPIC_OF, answer

ROOT = Path(__file__).resolve().parents[1]
PERSONAS = ["emoji", "visual", "interview", "obsidian", "senior"]


def _report(persona: str, text: str) -> CheckedReport:
    _, report = check_answer(load_persona(persona), Topic(TOPIC_OF[persona]), text)
    assert isinstance(report, CheckedReport)
    return report


def _result(report: CheckedReport, rid: str) -> RequirementResult:
    return next(r for r in report.requirements if r.id == rid)


def _edited(name: str, pattern: str, replacement: str, count: int = 1) -> str:
    """A real answer with one instruction of its seed broken (the pattern must be there)."""
    text, done = re.subn(pattern, replacement, answer(name), count=count, flags=re.S | re.M)
    assert done, pattern
    return text


def _failed(report: CheckedReport, rid: str, severity: str, section: str | None) -> None:
    result = _result(report, rid)
    assert (result.ok, result.severity, result.section) == (False, severity, section), result
    findings = [str(p) for s in report.sections if s.title == section
                for p in (s.problems if severity == "must" else s.warnings)] if section else [
        str(p) for p in (report.problems if severity == "must" else report.warnings)]
    assert any(rid in f for f in findings), findings
    assert report.valid is (severity == "should" and not report.summary())


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_real_answer_meets_every_must_requirement(persona: str) -> None:
    report = _report(persona, answer(f"{persona}_valid.md"))
    assert report.valid, report.summary()
    assert report.requirements, "every persona lists its seed's requirements"
    assert [r.id for r in report.requirements if r.severity == "must" and not r.ok] == []


def test_emoji_headings_without_their_emoji_are_a_must_of_their_section() -> None:
    text = _edited("emoji_valid.md", r"^## 4\. ⚖️ ", "## 4. ")
    _failed(_report("emoji", text), "heading-emoji", "must", "Trade-offs & Design Decisions")


def test_emoji_mermaid_instead_of_the_ascii_diagram_is_a_must_of_section_two() -> None:
    mermaid = "```mermaid\nflowchart LR\n    C[Clients] --> G[Gateway] --> R[(Redis)]\n```\n"
    text = _edited("emoji_valid.md", r"(## 2\. 🏗️ Architecture Components\n\n)```text\n.*?```\n",
                   r"\g<1>" + mermaid.replace("\\", "\\\\"))
    report = _report("emoji", text)
    _failed(report, "architecture-ascii-diagram", "must", "Architecture Components")
    assert _result(report, "data-flow-ascii-diagram").ok


def test_emoji_a_question_answered_outside_its_section_is_a_finding_of_that_section() -> None:
    # One keyword elsewhere answered the question before; now it belongs in its own section.
    text = _edited("emoji_valid.md", r"^- 🧩 \*\*Edge cases\*\*: ", "- 🧩 Also: ")
    text = text.replace("Key concepts:\n", "Key concepts (edge cases come later):\n", 1)
    _failed(_report("emoji", text), "edge-cases", "should", "Common Pitfalls & Solutions")


def test_emoji_no_company_examples_is_a_finding_of_the_note() -> None:
    text = re.sub(r"Stripe|GitHub", "some companies", answer("emoji_valid.md"))
    _failed(_report("emoji", text), "company-examples", "should", None)


def test_visual_card_with_no_headings_and_one_bullet_is_named() -> None:
    text = re.sub(r"^## .*\n", "", answer("visual_valid.md"), flags=re.M)
    text = re.sub(r"(^- .*\n)(?:- .*\n)+", r"\1", text, flags=re.M)
    report = _report("visual", text)
    _failed(report, "card-headings", "should", None)
    _failed(report, "key-point-bullets", "should", None)


def test_visual_a_146_column_diagram_is_named_at_its_line() -> None:
    wide = "        └" + "─" * 136 + "┘"
    text = _edited("visual_valid.md", r"^                 🗄️ Database$", wide)
    report = _report("visual", text)
    _failed(report, "diagram-width", "should", None)
    line = _result(report, "diagram-width").line
    assert line is not None and wide in text.split("\n")[line - 1]
    assert "146 columns" in _result(report, "diagram-width").message


def test_obsidian_fifteen_functional_requirements_are_too_many() -> None:
    many = "".join(f"{i}. Feature number {i}.\n" for i in range(1, 16))
    text = _edited("obsidian_valid.md", r"(### Functional Requirements\n)(?:\d+\. .*\n)+",
                   r"\g<1>" + many)
    report = _report("obsidian", text)
    _failed(report, "top-functional-requirements", "should", "Requirements Analysis")
    assert "has 15 list items" in _result(report, "top-functional-requirements").message


def test_obsidian_one_endpoint_without_status_codes_is_named_in_api_design() -> None:
    text = _edited("obsidian_valid.md", r"(## 5\. 🔌 API Design\n\n).*?(?=## 6\.)",
                   r"\g<1>One endpoint: POST `/v1/check` decides allow or deny for a request, "
                   r"internal and gRPC preferred.\n\n")
    report = _report("obsidian", text)
    _failed(report, "critical-apis", "should", "API Design")
    _failed(report, "api-status-codes", "should", "API Design")
    assert _result(_report("obsidian", answer("obsidian_valid.md")), "critical-apis").ok


def test_obsidian_two_sequence_diagrams_hold_and_one_does_not() -> None:
    sequence = ("```mermaid\nsequenceDiagram\n    participant C as Client\n    participant G as "
                "Gateway\n    C->>G: request\n    G-->>C: 429\n```\n\n")
    hld = r"(## 6\. 🏗️ High-Level Architecture \(HLD\)\n\n)"
    one = _edited("obsidian_valid.md", hld, r"\g<1>" + sequence)
    two = _edited("obsidian_valid.md", hld, r"\g<1>" + sequence * 2)
    _failed(_report("obsidian", one), "journey-sequence-diagrams", "should",
            "High-Level Architecture (HLD)")
    assert _result(_report("obsidian", two), "journey-sequence-diagrams").ok


def test_obsidian_one_deep_dive_of_one_paragraph_is_named() -> None:
    text = _edited("obsidian_valid.md", r"(## 8\. 🔍 Deep Dives\n\n).*?(?=## 9\.)",
                   r"\g<1>Token buckets in Redis refill lazily from elapsed time and take one "
                   r"token per request, atomically, in one script on the server side.\n\n")
    report = _report("obsidian", text)
    _failed(report, "deep-dive-topics", "should", "Deep Dives")
    _failed(report, "deep-dive-code", "should", "Deep Dives")


def test_obsidian_no_rto_rpo_dr_or_cap_is_named_in_its_section() -> None:
    text = _edited("obsidian_valid.md", r"^- DR: .*\n", "")
    text = text.replace("- **CAP:** AP. ", "- ")
    report = _report("obsidian", text)
    _failed(report, "rto-rpo-targets", "should", "Scalability & Reliability")
    _failed(report, "cap-positioning", "should", "Requirements Analysis")
    assert _result(report, "disaster-recovery").ok  # multi-region is still there


def test_interview_a_c4_component_diagram_is_no_context_diagram() -> None:
    text = _edited("interview_valid.md", r"^C4Context$", "C4Component")
    text = text.replace("    Person(user, \"User\", \"Creates and follows short links\")\n", "", 1)
    text = re.sub(r"System(_Ext)?\((\w+), ", r"Component\1(\2, ", text)
    report = _report("interview", text)
    _failed(report, "hld-c4-context", "should", "High Level Design")


def test_interview_estimations_without_storage_or_memory_are_named() -> None:
    text = _edited("interview_valid.md", r"^- \*\*Storage:\*\*.*\n- \*\*Memory:\*\*.*\n", "")
    report = _report("interview", text)
    _failed(report, "storage-and-memory-estimates", "should", "Estimations")
    assert "storage" in _result(report, "storage-and-memory-estimates").message


def test_interview_no_replication_in_the_deep_dive_is_named() -> None:
    text = _edited("interview_valid.md", r"replicated 3× across AZs", "spread across AZs")
    text = text.replace("# Design a URL Shortener\n", "# Design a URL Shortener\n\nReplication "
                        "matters here.\n", 1)  # a keyword elsewhere answered it before
    _failed(_report("interview", text), "deep-dive-replication", "should", "Deep Dive")


def test_senior_no_follow_up_questions_is_named() -> None:
    text = _edited("senior_valid.md", r"\*\*Likely follow-ups:\*\*", "**More:**")
    _failed(_report("senior", text), "follow-up-questions", "should",
            "Interview-Oriented Explanation")


def _persona_copy(tmp_path: Path, name: str, extra: str) -> Path:
    root = tmp_path / "personas"
    shutil.copytree(prompts_root() / name, root / "mine")
    spec = root / "mine" / "persona.toml"
    spec.write_text(spec.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return root


def test_a_requirement_added_in_persona_toml_is_checked_with_no_python(tmp_path: Path) -> None:
    root = _persona_copy(tmp_path, "senior", '\n[[requirements]]\nid = "names-a-bloom-filter"\n'
                         'section = "Clear Real-World Examples"\nseverity = "must"\n'
                         'check = "terms"\nany = ["bloom filter*"]\nseed = "my own rule"\n')
    persona = load_persona("mine", [root])
    _, report = check_answer(persona, Topic("Consistent Hashing"), answer("senior_valid.md"))
    assert isinstance(report, CheckedReport) and not report.valid
    assert any("names-a-bloom-filter" in p for p in report.summary())


@pytest.mark.parametrize(("extra", "where"), [
    ('check = "list_items"\nmin = "many"\n', "min"),
    ('check = "countz"\n', "check"),
    ('check = "terms"\n', "terms"),
    ('check = "diagram"\nkind = "excalidraw"\n', "kind"),
])
def test_a_wrong_requirement_is_one_line_naming_persona_toml(tmp_path: Path, extra: str,
                                                             where: str) -> None:
    root = _persona_copy(tmp_path, "senior", '\n[[requirements]]\nid = "broken"\n'
                         f'severity = "should"\nseed = "words"\n{extra}')
    with pytest.raises(PersonaError) as caught:
        load_persona("mine", [root])
    message = str(caught.value)
    listed = len(load_persona("senior").spec.requirements)  # the new one comes after them
    assert "\n" not in message and "persona.toml" in message
    assert f"requirements.{listed}" in message
    assert where in message


def test_a_requirement_of_a_section_the_schema_lacks_is_refused(tmp_path: Path) -> None:
    root = _persona_copy(tmp_path, "senior", '\n[[requirements]]\nid = "x"\nsection = "Nope"\n'
                         'severity = "should"\nseed = "w"\ncheck = "code"\n')
    with pytest.raises(PersonaError, match=r"persona\.toml.*no section titled 'Nope'"):
        load_persona("mine", [root])


def test_personas_show_requirements_prints_the_checklist(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["personas", "show", "obsidian", "--requirements"]) == 0
    lines = capsys.readouterr().out.splitlines()
    spec = load_persona("obsidian").spec
    assert len(lines) == len(spec.requirements)
    for line, rule in zip(lines, spec.requirements, strict=True):
        assert line.startswith(rule.id) and rule.severity in line and rule.seed in line
    assert "API Design: endpoints min=5 max=8" in "\n".join(lines)


def test_validate_json_lists_every_requirement(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    note = tmp_path / "answer.md"
    note.write_text(_edited("emoji_valid.md", r"^## 4\. ⚖️ ", "## 4. "), encoding="utf-8")
    assert run(["validate", str(note), "--persona", "emoji", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    listed = found["requirements"]
    assert [r["id"] for r in listed] == [r.id for r in load_persona("emoji").spec.requirements]
    assert all(set(r) == {"id", "severity", "ok", "section", "line", "message"} for r in listed)
    heading = next(r for r in listed if r["id"] == "heading-emoji")
    assert (heading["ok"], heading["severity"], heading["section"]) == (
        False, "must", "Trade-offs & Design Decisions")
    assert note.read_text(encoding="utf-8").split("\n")[heading["line"] - 1].startswith("## 4.")


def test_the_demo_stays_valid_and_shows_its_findings(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x"
    code = run(["generate", "--index", str(ROOT / "examples" / "topics.yaml"), "--replay",
                str(ROOT / "examples" / "recordings"), "--out", str(out)])
    shown = capsys.readouterr()
    printed = shown.out + shown.err
    assert code == 0
    assert run(["validate", str(out)]) == 0
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    for topic in report["topics"]:
        note = Path(topic["path"])
        meta = yaml.safe_load(note.read_text(encoding="utf-8").split("---\n")[1])
        persona = load_persona(meta["persona"]).spec
        held, total = map(int, meta["checks"].split("/"))
        assert total == len(persona.requirements)
        assert total - held == len(topic["findings"])
        assert all(f["severity"] == "should" and not f["ok"] for f in topic["findings"])
        line = next(x for x in printed.splitlines() if f" {topic['topic']}" in x)
        count = len(topic["findings"])
        assert (f"({count} finding" in line) is (count > 0), line
    counts = {t["topic"]: len(t["findings"]) for t in report["topics"]}
    assert counts["Rate Limiter"] >= 1  # one sequence diagram where the seed asks for 2-3
    assert "ok      Rate Limiter (1 finding) -> " in printed
