"""`--max-cost`: a hard cap on what a run may spend, against a real server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.server import TestServer
from sdgen.cli import run

TOPICS = [f"System {i}" for i in range(5)]
# A price that makes every answer cost dollars: each synthetic answer is about 13,000 output
# tokens (some $15.5 with its input); each request reserves its input and 16,000 output tokens.
PRICE = '[prices."m"]\ninput = 1000.0\noutput = 1000.0\n'


def _run(server: TestServer, cap: str) -> int:
    return run(["generate", *TOPICS, "--provider", "openai-compatible", "--base-url", server.url,
                "--model", "m", "--out", "out", "--concurrency", "1", "--max-cost", cap])


def test_a_run_stops_before_crossing_its_cap_and_a_higher_cap_finishes_it() -> None:
    Path("sdgen.toml").write_text(PRICE)
    with TestServer(chunks=4) as server:
        assert _run(server, "40") == 3
        report = json.loads(Path("out/run-report.json").read_text())
        spent = sum(t["cost_usd"] for t in report["topics"] if t["cost_usd"])
        assert report["counts"]["written"] == 2 and report["counts"]["unfinished"] == 3
        assert report["capped"].startswith("spending cap $40.0000 reached")
        assert 0 < spent <= 40
        assert server.counts["answered"] == 2  # no request started that could cross the cap
        assert _run(server, "100") == 0
        assert server.counts["answered"] == 5  # the finished topics were not asked again
    assert len(list(Path("out/obsidian").glob("system-*.md"))) == 5


def test_dry_run_says_whether_the_cap_covers_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    Path("sdgen.toml").write_text(PRICE)
    assert run(["generate", *TOPICS, "--model", "m", "--dry-run", "--max-cost", "1000"]) == 0
    assert "spending cap $1000.0000: covers the whole run" in capsys.readouterr().out
    assert run(["generate", *TOPICS, "--model", "m", "--dry-run", "--max-cost", "10"]) == 0
    assert "does NOT cover the worst case" in capsys.readouterr().out


def test_a_cap_with_no_known_price_is_refused_before_any_call(
        capsys: pytest.CaptureFixture[str]) -> None:
    with TestServer() as server:
        code = run(["generate", "X", "--provider", "openai-compatible", "--base-url", server.url,
                    "--model", "mystery-9", "--out", "out", "--max-cost", "5"])
        assert code == 2 and server.counts["requests"] == 0
    err = capsys.readouterr().err
    assert "needs the price of model 'mystery-9'" in err and '[prices."mystery-9"]' in err
