"""A written note's should findings are seen by the user: counted on its line and in the run's
summary, and listed under its line with -v (the demo, replayed through the real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdgen.cli import run

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
