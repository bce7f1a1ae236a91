"""Batch runs against a real OpenAI-compatible server on loopback (bench/server.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.notes import synthetic_note
from bench.server import TestServer
from sdgen.cli import run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer(chunks=5) as running:
        yield running


def _args(server: TestServer, *extra: str) -> list[str]:
    return ["generate", *extra, "--provider", "openai-compatible", "--base-url", server.url,
            "--model", "local", "--out", "out", "--max-wait", "0.05"]


def _index(tmp_path: Path, question: str = "How is ordering kept?") -> Path:
    path = tmp_path / "topics.yaml"
    path.write_text(f"Streaming:\n  - Kafka\n  - topic: Pulsar\n    question: {question}\n"
                    "Storage:\n  - Cassandra\n", encoding="utf-8")
    return path


def test_rerun_skips_unchanged_topics_with_zero_calls(server: TestServer, tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert run(_args(server, "--index", str(index))) == 0
    assert server.counts["requests"] == 3
    assert run(_args(server, "--index", str(index))) == 0
    assert server.counts["requests"] == 3  # nothing asked again
    report = json.loads(Path("out/run-report.json").read_text())
    assert report["counts"]["skipped"] == 3 and report["counts"]["written"] == 0


def test_changed_input_regenerates_only_that_topic(server: TestServer, tmp_path: Path) -> None:
    assert run(_args(server, "--index", str(_index(tmp_path)))) == 0
    assert run(_args(server, "--index", str(_index(tmp_path, "What about geo-replication?")))) == 0
    assert server.counts["requests"] == 4
    assert server.topics[-1] == "Pulsar"


def test_changed_model_or_budget_regenerates(server: TestServer, tmp_path: Path) -> None:
    index = str(_index(tmp_path))
    assert run(_args(server, "--index", index)) == 0
    assert run(_args(server, "--index", index, "--max-tokens", "9000")) == 0
    assert server.counts["requests"] == 6


def test_force_regenerates_everything(server: TestServer, tmp_path: Path) -> None:
    index = str(_index(tmp_path))
    assert run(_args(server, "--index", index)) == 0
    assert run(_args(server, "--index", index, "--force")) == 0
    assert server.counts["requests"] == 6


def test_a_failing_topic_never_stops_the_others(tmp_path: Path) -> None:
    def answer(request: dict[str, Any]) -> str:
        user = request["messages"][1]["content"]
        topic = user.split("Topic: ", 1)[1].split("\n", 1)[0]
        return "Sorry, I can't." if topic == "Broken" else synthetic_note(topic, 8000)

    with TestServer(answer=answer, chunks=3) as server:
        code = run(_args(server, "A", "Broken", "C"))
    assert code == 1
    report = json.loads(Path("out/run-report.json").read_text())
    assert report["counts"] == {"written": 2, "skipped": 0, "invalid": 1, "failed": 0,
                                "unfinished": 0}
    broken = next(t for t in report["topics"] if t["topic"] == "Broken")
    assert broken["status"] == "invalid" and broken["calls"] == 2 and broken["reason"]
    assert report["input_tokens"] > 0 and report["wall_time_seconds"] > 0
    assert sorted(p.name for p in Path("out/obsidian").glob("*.md")) == ["a.md", "c.md", "index.md"]


def _sdgen(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    return subprocess.Popen([sys.executable, "-m", "sdgen", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kwargs)


def test_plain_progress_when_not_a_terminal(server: TestServer) -> None:
    process = _sdgen(*_args(server, "Kafka", "Raft")[0:], cwd=os.getcwd())
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "\x1b" not in err and "\r" not in err
    assert "[1/2] ok" in err and "[2/2] ok" in err and "written" in err


def _notes(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.md") if p.name != "index.md")


def test_sigterm_mid_batch_leaves_no_partial_note_and_resumes(tmp_path: Path) -> None:
    topics = [f"Topic {i}" for i in range(8)]
    with TestServer(latency=1.5, chunks=30) as server:
        process = _sdgen(*_args(server, *topics, "--concurrency", "2"), cwd=os.getcwd())
        deadline = time.monotonic() + 30
        while len(_notes(Path("out"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.4)  # let the next two calls get well into their streams
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 128 + signal.SIGTERM
        finished = _notes(Path("out"))
        assert 2 <= len(finished) < 8
        assert not [p for p in Path("out").rglob("*") if p.name.endswith(".tmp")]
        for note in finished:  # every note on disk is whole and valid
            assert run(["validate", str(note)]) == 0
        index = Path("out/obsidian/index.md").read_text()
        assert index.count("[[") == len(finished)
        assert "unfinished" in err
        asked_before = server.counts["answered"]

        assert run(_args(server, *topics, "--concurrency", "2")) == 0
        assert len(_notes(Path("out"))) == 8
        asked_again = server.counts["answered"] - asked_before
        assert asked_again == 8 - len(finished)  # only the unfinished topics were asked again
