"""The shipped demo: replay examples/ offline, as CI and newcomers do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from sdgen.cli import run
from sdgen.personas import prompts_root

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "examples" / "topics.yaml"
RECORDINGS = ROOT / "examples" / "recordings"


def test_recordings_say_who_produced_them() -> None:
    files = sorted(RECORDINGS.rglob("*.yaml"))
    assert len(files) >= 6
    personas = set()
    answered: dict[tuple[str, str], int] = {}  # a conversation's turns count together
    for path in files:
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert record["produced_by"] and record["model"]
        key = (record["persona"], record["topic"])
        answered[key] = answered.get(key, 0) + len(record["response"]["text"])
        personas.add(record["persona"])
    assert min(answered.values()) > 1000
    assert personas == {"emoji", "visual", "interview", "obsidian", "senior"}  # every persona


def test_demo_replays_offline_into_valid_notes(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["generate", "--index", str(INDEX), "--replay", str(RECORDINGS), "--out", "output"])
    assert code == 0, capsys.readouterr().err
    notes = sorted(p.relative_to("output").as_posix() for p in Path("output").rglob("*.md")
                   if p.name != "index.md")
    assert notes == [
        "emoji/caching/content-delivery-network.md",
        "interview/interview-drills/url-shortener.md",
        "obsidian/scalability-patterns/rate-limiter.md",
        "senior/messaging/idempotent-writes.md",
        "senior/scalability-patterns/consistent-hashing.md",
        "visual/caching/cache-aside-pattern.md",
        "visual/messaging/message-queue.md",
    ]
    for note in notes:
        assert run(["validate", f"output/{note}"]) == 0, note
    assert sorted(p.parent.name for p in Path("output").rglob("index.md")) == [
        "emoji", "interview", "obsidian", "output", "senior", "visual"]  # the home note, then each persona's


def test_changed_template_is_reported_as_stale(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    edited = tmp_path / "personas"
    shutil.copytree(prompts_root() / "senior", edited / "senior")
    template = edited / "senior" / "system.md.j2"
    template.write_text(template.read_text() + "\n- Keep every section under 300 words.\n")
    code = run(["generate", "--index", str(INDEX), "--replay", str(RECORDINGS), "--out", "output",
                "--personas-dir", str(edited)])
    assert code == 1
    err = capsys.readouterr().err
    stale = {line.split("no recording for topic ")[1].split(" (")[0]
             for line in err.splitlines() if "no recording for topic" in line}
    assert stale == {"'Consistent Hashing'", "'Idempotent Writes'"}  # the senior topics only
    assert all("persona senior" in line for line in err.splitlines() if "no recording" in line)
    assert Path("output/visual/caching/cache-aside-pattern.md").is_file()
