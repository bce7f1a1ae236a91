"""Mermaid diagrams checked by Mermaid's own parser, in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx
import yaml

import sdgen.check._diagrams as diagrams
from sdgen.check import MERMAID_DIR, check_mermaid, engine_version
from sdgen.cli import run
from sdgen.compose import Topic, load_persona
from sdgen.markdown import split_front_matter
from sdgen.repair import check_answer
from tests.helpers import OPENAI_URL, answer, openai_stream, sent_json

ROOT = Path(__file__).resolve().parents[1]
OBSIDIAN = answer("obsidian_valid.md")
GOOD_HLD = "flowchart LR\n    C[Clients] --> LB[Azure Front Door]"
BROKEN_HLD = "flowchart LR\n    C[Clients] --> LB[Load Balancer (L7)] --> B"
QUOTED_HLD = 'flowchart LR\n    C[Clients] --> LB["Load Balancer (L7)"] --> B'


def _with_hld(diagram: str) -> str:
    return OBSIDIAN.replace(GOOD_HLD, diagram, 1)


def test_the_bundle_is_the_pinned_mermaid() -> None:
    pinned = json.loads((ROOT / "mermaid-bundle" / "package.json").read_text())
    assert engine_version() == pinned["dependencies"]["mermaid"] == "11.13.0"


@pytest.mark.parametrize("source", [
    "flowchart TD\n  A[Client] --> B[Server]",
    "sequenceDiagram\n  Alice->>Bob: Hi\n  box Aqua Group\n  participant C\n  end",
    'C4Context\n  Person(u, "User")\n  System(s, "Shortener")\n  Rel(u, s, "Uses")',
    "erDiagram\n  USER ||--o{ ORDER : places",
    'pie title Pets\n  "Dogs" : 386',
    "gitGraph\n  commit\n  branch dev\n  commit",
    "stateDiagram-v2\n  [*] --> Still",
    "gantt\n  dateFormat YYYY-MM-DD\n  section A\n  Task :a1, 2024-01-05, 3d",
])
def test_diagrams_that_render_pass(source: str) -> None:
    assert check_mermaid(source).ok


@pytest.mark.parametrize(("source", "line", "words"), [
    ("graph TD\n  A[Load Balancer (L7)] --> B", 2, 'found "("'),
    ("this is not a diagram", 1, "not a Mermaid diagram type"),
    ("pie title Pets\n  Dogs : 386", 2, "Parse error"),
    ("gantt\n  dateFormat YYYY-MM-DD\n  section A\n  Task :a1, 2024-13-45, 3d", None, "Invalid date"),
    ("graph TD\n  subgraph A\n    A --> B\n  end", None, "share the id"),
    ("zenuml\n  Alice->John: Hello", 1, "plug-in"),
    # Mermaid numbers lines after dropping front matter and comments; ours are the source's.
    ("---\ntitle: T\n---\n%% note\ngraph TD\n  A-->B[x(y)]", 6, 'found "("'),
])
def test_diagrams_that_do_not_render_fail_with_the_line(source: str, line: int | None,
                                                         words: str) -> None:
    verdict = check_mermaid(source)
    assert not verdict.ok and words in verdict.message
    assert verdict.line == line


def test_a_broken_label_fails_validation_with_section_line_and_message(
        capsys: pytest.CaptureFixture[str]) -> None:
    body, _ = check_answer(load_persona("obsidian"), Topic("Rate Limiter"), _with_hld(BROKEN_HLD))
    Path("note.md").write_text("---\npersona: obsidian\ntopic: Rate Limiter\n---\n" + body)
    assert run(["validate", "note.md"]) == 1
    text = capsys.readouterr().out
    assert "FAIL     High-Level Architecture (HLD)" in text
    line = 4 + body.split("\n").index("    C[Clients] --> LB[Load Balancer (L7)] --> B") + 1
    assert f"line {line}" in text and "Expecting 'SQE'" in text and 'found "("' in text
    assert Path("note.md").read_text().split("\n")[line - 1].strip().startswith("C[Clients]")

    assert run(["validate", "note.md", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    hld = next(s for s in report["sections"] if s["title"] == "High-Level Architecture (HLD)")
    assert hld["problems"] == [{"message": hld["problems"][0]["message"], "kind": "mermaid",
                                "line": line}]


def test_the_same_label_quoted_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    body, report = check_answer(load_persona("obsidian"), Topic("Rate Limiter"),
                                _with_hld(QUOTED_HLD))
    assert report.valid
    Path("note.md").write_text("---\npersona: obsidian\n---\n" + body)
    assert run(["validate", "note.md"]) == 0


def test_no_diagram_check_turns_it_off(capsys: pytest.CaptureFixture[str]) -> None:
    body, _ = check_answer(load_persona("obsidian"), Topic("Rate Limiter"), _with_hld(BROKEN_HLD))
    Path("note.md").write_text("---\npersona: obsidian\n---\n" + body)
    assert run(["validate", "note.md", "--no-diagram-check"]) == 0
    Path("sdgen.toml").write_text("diagram_check = false\n")
    assert run(["validate", "note.md"]) == 0


def test_a_broken_diagram_is_repaired_with_the_parsers_finding(httpx2_mock: respx.Router,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                ) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-diagrams-0000000000000")
    fixed = ("## 6. 🏗️ High-Level Architecture (HLD)\n\n```mermaid\n" + QUOTED_HLD
             + "\n```\n\nClients reach the gateway through an L7 load balancer; the gateway "
             "asks Redis for a token before forwarding each request to the services.\n")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(_with_hld(BROKEN_HLD)), openai_stream(fixed)])
    assert run(["generate", "Rate Limiter", "--out", "out"]) == 0
    repair = sent_json(route, 1)["messages"][-1]["content"]
    assert "High-Level Architecture (HLD)" in repair
    assert "does not parse" in repair and "Expecting 'SQE'" in repair and 'found "("' in repair
    note = Path("out/obsidian/rate-limiter.md").read_text()
    assert 'LB["Load Balancer (L7)"]' in note and "LB[Load Balancer (L7)]" not in note
    assert run(["validate", "out/obsidian/rate-limiter.md"]) == 0


def test_a_diagram_that_never_parses_is_never_a_note(httpx2_mock: respx.Router,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-diagrams-0000000000000")
    httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda r: openai_stream(_with_hld(BROKEN_HLD)))
    assert run(["generate", "Rate Limiter", "--out", "out"]) == 1
    assert not Path("out/obsidian/rate-limiter.md").exists()
    report = json.loads(Path("out/_drafts/obsidian/rate-limiter.report.json").read_text())
    assert any(p["kind"] == "mermaid" for s in report["report"]["sections"] for p in s["problems"])


def test_interview_designs_must_be_c4() -> None:
    persona = load_persona("interview")
    text = answer("interview_valid.md")
    assert check_answer(persona, Topic("URL Shortener"), text)[1].valid
    flowcharts = text.replace("C4Context", "flowchart TD\n%%", 1)
    _, report = check_answer(persona, Topic("URL Shortener"), flowcharts)
    kinds = {p.kind for s in report.sections for p in s.problems}
    assert not report.valid and "diagram-kind" in kinds
    assert any("C4" in str(p) for s in report.sections for p in s.problems)


def test_a_parser_that_cannot_start_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(diagrams, "_engine", None)
    monkeypatch.setattr(diagrams, "BUNDLE", tmp_path / "missing.js")
    Path("note.md").write_text("---\npersona: obsidian\n---\n" + OBSIDIAN)
    assert run(["validate", "note.md"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sdgen: error:") and "--no-diagram-check" in err and "\n" not in err
    assert run(["generate", "Rate Limiter", "--replay", str(tmp_path), "--out", "out"]) == 2
    assert not Path("out").exists() or not list(Path("out").rglob("*.md"))


def test_a_hostile_diagram_costs_only_its_own_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diagrams, "TIME_LIMIT", 0.2)
    huge = "graph TD\n" + "\n".join(f"  N{i}[{'word ' * 2000}] --> N{i + 1}" for i in range(450))
    verdict = check_mermaid(huge)
    assert not verdict.ok and "gave up" in verdict.message
    monkeypatch.setattr(diagrams, "TIME_LIMIT", 3.0)
    assert check_mermaid("graph TD\n  A --> Z").ok  # a fresh engine answers the next one


def test_note_front_matter_topic_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    Path("note.md").write_text("---\npersona: obsidian\ntopic: Job Scheduler\n---\n" + OBSIDIAN)
    assert run(["validate", "note.md", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [p["kind"] for p in report["problems"]] == ["topic"]
    meta, _, _ = split_front_matter(Path("note.md").read_text())
    assert meta["topic"] == "Job Scheduler"


def test_click_links_parse_as_in_a_browser() -> None:
    """`click` sanitises its URL with the browser's URL class, which the bundle supplies."""
    assert check_mermaid('graph TD\n  A-->B\n  click A "https://example.com" "tip" _blank').ok
    assert check_mermaid('graph TD\n  A-->B\n  click A href "/local"').ok


def test_the_line_points_into_a_note_as_sdgen_writes_it(capsys: pytest.CaptureFixture[str]) -> None:
    from sdgen.vault import render_note

    body, _ = check_answer(load_persona("obsidian"), Topic("Rate Limiter"), _with_hld(BROKEN_HLD))
    note = render_note(body, {"title": "Rate Limiter", "topic": "Rate Limiter",
                              "persona": "obsidian"})
    Path("note.md").write_text(note)
    assert run(["validate", "note.md", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    (line,) = [p["line"] for s in report["sections"] for p in s["problems"]]
    assert note.split("\n")[line - 1].strip() == "C[Clients] --> LB[Load Balancer (L7)] --> B"


def test_a_diagram_checked_from_async_code_gets_its_verdict() -> None:
    """mini-racer refuses time limits on a thread running an event loop; the check must not
    turn that into "gave up" for every diagram (nor start a new engine for each)."""
    import asyncio

    async def judge() -> tuple[bool, bool]:
        return (check_mermaid("flowchart TD\n  A[async] --> B").ok,
                check_mermaid(BROKEN_HLD + "\n  %% async").ok)

    retired = len(diagrams._retired)
    assert asyncio.run(judge()) == (True, False)
    assert len(diagrams._retired) == retired


def test_verdicts_agree_with_mermaid_drawing_in_a_browser(browser: Any) -> None:
    """Each diagram of the corpus (tests/data/diagrams.yaml: every kind, and the mistakes models
    make) gets from sdgen the verdict Mermaid gives when it draws it in Chromium."""
    corpus = yaml.safe_load((ROOT / "tests" / "data" / "diagrams.yaml").read_text())
    sources = [entry["source"] for entry in corpus]
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><html><body></body></html>")
        page.add_script_tag(path=str(MERMAID_DIR / "mermaid.min.js"))
        drawn = page.evaluate("""async (sources) => {
            mermaid.initialize({ startOnLoad: false });
            const errors = [];
            for (const [i, source] of sources.entries()) {
                try { await mermaid.render("d" + i, source); errors.push(null); }
                catch (e) { errors.push(String((e && e.message) || e).slice(0, 200)); }
            }
            return errors;
        }""", sources)
    finally:
        page.close()
    verdicts = [check_mermaid(source) for source in sources]
    disagree = [(entry["kind"], entry.get("note"), "sdgen: " + (v.message or "ok"),
                 "browser: " + (error or "ok"))
                for entry, v, error in zip(corpus, verdicts, drawn, strict=True)
                if v.ok != (error is None)]
    assert disagree == []
    # The corpus is worth its name: many kinds, and many diagrams Mermaid refuses to draw.
    assert len({entry["kind"] for entry in corpus}) >= 20
    assert sum(1 for error in drawn if error) >= 20 and sum(1 for e in drawn if not e) >= 25
