"""A written note's should findings are seen by the user: counted on its line and in the run's
summary, and listed under its line with -v (the demo, replayed through the real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from sdgen.cli import run
from sdgen.compose import Topic, load_persona
from sdgen.markdown import split_front_matter
from sdgen.repair import check_answer
from sdgen.vault import render_note
from tests.helpers import NEW_API, OPENAI_URL, answer, openai_stream

ROOT = Path(__file__).resolve().parents[1]


def _demo(tmp_path: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[str, dict]:
    out = tmp_path / "vault"
    code = run(["generate", *flags, "--index", str(ROOT / "examples" / "topics.yaml"),
                "--replay", str(ROOT / "examples" / "recordings"), "--out", str(out)])
    shown = capsys.readouterr()
    assert code == 0, shown.err
    return shown.out + shown.err, json.loads((out / "run-report.json").read_text("utf-8"))


def test_verbose_lists_each_finding_under_its_topic_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    printed, report = _demo(tmp_path, capsys, "-v")
    lines = printed.splitlines()
    for topic in report["topics"]:
        at = next(i for i, x in enumerate(lines) if f" {topic['topic']}" in x and "] " in x)
        listed = []
        for line in lines[at + 1:]:
            if not line.startswith("    - "):
                break
            listed.append(line)
        assert len(listed) == len(topic["findings"]), (topic["topic"], listed)
        for line, finding in zip(listed, topic["findings"], strict=True):
            assert f"{finding['id']} [should]" in line and finding["message"] in line


def test_the_summary_counts_the_findings_and_only_verbose_lists_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    printed, report = _demo(tmp_path, capsys)
    count = sum(len(t["findings"]) for t in report["topics"])
    notes = sum(1 for t in report["topics"] if t["findings"])
    assert count >= 1
    assert f"findings: {count} should findings in {notes} written note" in printed
    assert not any(line.startswith("    - ") for line in printed.splitlines())


def test_regen_says_how_many_findings_the_note_has_and_lists_them_with_v(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-regen-000000000000")
    monkeypatch.chdir(tmp_path)
    body, _ = check_answer(load_persona("obsidian"), Topic("Rate Limiter"),
                           answer("obsidian_valid.md"))
    path = tmp_path / "rate-limiter.md"
    path.write_text(render_note(body, {"title": "Rate Limiter", "topic": "Rate Limiter",
                                       "persona": "obsidian", "provider": "openai",
                                       "model": "gpt-5.4-mini"}), encoding="utf-8")
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(NEW_API))
    assert run(["regen", "-v", str(path), "--section", "api design"]) == 0
    err = capsys.readouterr().err
    _, _, written = split_front_matter(path.read_text(encoding="utf-8"))
    _, report = check_answer(load_persona("obsidian"), Topic("Rate Limiter"), written,
                             raw_answer=False)
    findings = [r for r in report.requirements if not r.ok]  # type: ignore[attr-defined]
    assert findings, "the demo's obsidian answer has a should finding the regen keeps"
    line = next(x for x in err.splitlines() if x.startswith("regenerated"))
    assert line.endswith(f"({len(findings)} finding{'s' if len(findings) != 1 else ''})")
    listed = [x for x in err.splitlines() if x.startswith("    - ")]
    assert [x.split()[1] for x in listed] == [f.id for f in findings]
