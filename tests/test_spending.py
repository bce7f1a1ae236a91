"""`--max-cost`: a hard cap on what a run may spend, against a real server on loopback."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from importlib.metadata import EntryPoint
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

import sdgen.providers
from bench.notes import synthetic_note
from bench.server import TestServer
from sdgen.cli import run
from sdgen.markdown import split_front_matter
from tests.hostile import chunk, event, hostile_server, start_stream, topic_of

TOPICS = [f"System {i}" for i in range(5)]
# A price that makes every answer cost dollars: each synthetic answer is about 13,000 output
# tokens (some $15.5 with its input); each request reserves its input and 16,000 output tokens.
PRICE = '[prices."m"]\ninput = 1000.0\noutput = 1000.0\n'


def _run(server: TestServer, cap: str) -> int:
    return run(["generate", *TOPICS, "--provider", "openai-compatible", "--base-url", server.url,
                "--model", "m", "--out", "out", "--concurrency", "1", "--max-cost", cap])


def test_a_run_stops_before_crossing_its_cap_and_a_higher_cap_finishes_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    Path("sdgen.toml").write_text(PRICE)
    with TestServer(chunks=4) as server:
        assert _run(server, "40") == 3
        assert "unfinished at the spending cap: spending cap $40.0000 reached" in capsys.readouterr().err
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


def test_retries_of_cut_streams_are_paid_for_and_cannot_cross_the_cap() -> None:
    """A stream cut after the server produced output may be billed: each try is held against
    the cap, so retries stop where the cap does, not after --retries tries."""
    Path("sdgen.toml").write_text(PRICE)

    def cut_after_output(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        start_stream(handler)
        handler.wfile.write(chunk("# System 0\n\n" + "words " * 2000))
        handler.wfile.flush()  # and the connection closes with no finish_reason

    with hostile_server(cut_after_output) as (url, requests):
        code = run(["generate", "System 0", "--provider", "openai-compatible", "--base-url", url,
                    "--model", "m", "--out", "out", "--retries", "5", "--max-wait", "0.05",
                    "--max-cost", "40"])
    # Each try's worst case is some $18.5 (its input and 16,000 output tokens): two fit under
    # $40 and are paid in full, a third could cross the cap.
    assert code == 3 and len(requests) == 2
    report = json.loads(Path("out/run-report.json").read_text())
    held = re.search(r"\$([\d.]+) spent, \$0\.0000 in flight, the next request could cost up "
                     r"to \$([\d.]+)", report["capped"])
    assert held and float(held.group(1)) == pytest.approx(2 * float(held.group(2)))
    assert report["counts"]["unfinished"] == 1


def test_an_http_error_costs_nothing_and_is_retried_within_the_cap() -> None:
    Path("sdgen.toml").write_text(PRICE)
    tries: list[int] = []

    def busy_then_answer(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        tries.append(1)
        if len(tries) < 4:
            data = b'{"error": {"message": "overloaded"}}'
            handler.send_response(503)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        start_stream(handler)
        handler.wfile.write(chunk(synthetic_note("System 0")) + chunk("", "stop") + b"data: [DONE]\n\n")

    with hostile_server(busy_then_answer) as (url, requests):
        code = run(["generate", "System 0", "--provider", "openai-compatible", "--base-url", url,
                    "--model", "m", "--out", "out", "--retries", "5", "--max-wait", "0.05",
                    "--max-cost", "20"])
    # Three 503s and an answer, under a cap that holds one worst case ($16.0x) at a time.
    assert code == 0 and len(requests) == 4
    assert Path("out/obsidian/system-0.md").is_file()


@pytest.mark.parametrize("usage", [
    {"prompt_tokens": 3, "completion_tokens": 1},  # far less than the answer it came with
    {"prompt_tokens": -5, "completion_tokens": "lots"},  # no count at all: not reported
])
def test_a_server_that_reports_too_little_does_not_widen_the_cap(usage: dict[str, Any]) -> None:
    Path("sdgen.toml").write_text(PRICE)

    def answer_with_usage(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        asked = next(line.removeprefix("Topic: ") for m in body["messages"]
                     for line in m["content"].splitlines() if line.startswith("Topic: "))
        start_stream(handler)
        usage_event = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                       "choices": [], "usage": usage}
        handler.wfile.write(chunk(synthetic_note(asked)) + chunk("", "stop")
                            + f"data: {json.dumps(usage_event)}\n\n".encode() + b"data: [DONE]\n\n")

    with hostile_server(answer_with_usage) as (url, requests):
        code = run(["generate", *TOPICS, "--provider", "openai-compatible", "--base-url", url,
                    "--model", "m", "--out", "out", "--concurrency", "1", "--max-cost", "40"])
    # Each answer is some 13,000 tokens ($15.5 with its input) whatever the server says: two
    # fit under $40 with the next request's worst case held; trusted, the lie would let all 5.
    assert code == 3 and len(requests) == 2


def _answer_reporting(usage: object) -> Any:
    """A server whose every answer is whole and valid, with this as its usage (None: none)."""
    def behaviour(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        start_stream(handler)
        handler.wfile.write(chunk(synthetic_note(topic_of(body))) + chunk("", "stop"))
        if usage is not None:
            handler.wfile.write(event({"id": "c", "object": "chat.completion.chunk", "created": 0,
                                       "model": "m", "choices": [], "usage": usage}))
        handler.wfile.write(b"data: [DONE]\n\n")

    return behaviour


REPORTED_BADLY = {
    "none": None,
    "negative": {"prompt_tokens": -5, "completion_tokens": -1},
    "not counts": {"prompt_tokens": "lots", "completion_tokens": [1, 2]},
    "not an object": [1200, 3400],
    "10**15": {"prompt_tokens": 10**15, "completion_tokens": 10**15},
    "1e300": {"prompt_tokens": 1e300, "completion_tokens": 1e300},
}


@pytest.mark.parametrize("usage", REPORTED_BADLY.values(), ids=REPORTED_BADLY.keys())
def test_usage_reported_badly_is_one_figure_everywhere(
        capsys: pytest.CaptureFixture[str], usage: object) -> None:
    """The table, the cap line, run-report.json and each note's front matter say one figure:
    the usage counted from the text wherever the server's cannot be right."""
    Path("sdgen.toml").write_text(PRICE)
    with hostile_server(_answer_reporting(usage)) as (url, requests):
        code = run(["generate", *TOPICS, "--provider", "openai-compatible", "--base-url", url,
                    "--model", "m", "--out", "out", "--concurrency", "1", "--max-cost", "40"])
    err = capsys.readouterr().err
    # Each answer is some $15.5 as its text shows: two fit under $40 with the next one's worst
    # case held, whatever the server says (trusted, 10**15 tokens stopped the run after one).
    assert code == 3 and len(requests) == 2
    cap_line = re.search(r"unfinished at the spending cap: spending cap \$40\.0000 reached: "
                         r"\$([\d.]+) spent", err)
    table = re.findall(r"│\s+\$([\d.]+)\s+│", err)
    report = json.loads(Path("out/run-report.json").read_text())
    notes = [split_front_matter(p.read_text())[0] for p in sorted(Path("out/obsidian").glob("system-*.md"))]
    by_notes = sum(m["input_tokens"] + m["output_tokens"] for m in notes) * 1000.0 / 1e6
    assert cap_line and len(table) == 1 and len(notes) == 2
    figure = cap_line.group(1)
    assert float(figure) > 20  # two answers' worth, not zero and not billions
    assert table[0] == figure
    assert f"{report['estimated_cost_usd']:.4f}" == figure
    assert f"{by_notes:.4f}" == figure
    assert report["input_tokens"] == sum(m["input_tokens"] for m in notes)
    assert report["output_tokens"] == sum(m["output_tokens"] for m in notes)
    assert max(m["output_tokens"] for m in notes) <= 16000  # never past the output budget
    text = Path("out/run-report.json").read_text()
    assert not re.search(r"\d{13}", text) and "inf" not in text.lower()


@pytest.mark.parametrize("usage", [REPORTED_BADLY["10**15"], REPORTED_BADLY["1e300"]],
                         ids=["10**15", "1e300"])
def test_absurd_usage_does_not_stop_the_run_at_its_cap(
        capsys: pytest.CaptureFixture[str], usage: object) -> None:
    Path("sdgen.toml").write_text(PRICE)
    with hostile_server(_answer_reporting(usage)) as (url, requests):
        code = run(["generate", *TOPICS, "--provider", "openai-compatible", "--base-url", url,
                    "--model", "m", "--out", "out", "--concurrency", "1", "--max-cost", "100"])
    err = capsys.readouterr().err
    assert code == 0 and len(requests) == 5, err
    report = json.loads(Path("out/run-report.json").read_text())
    assert report["capped"] is None and report["counts"]["written"] == 5
    assert 60 < report["estimated_cost_usd"] < 100
    assert "which the request cannot have used: counted" in err  # said once per answer


def test_a_plugins_usage_under_the_cap_is_counted_like_any_other(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A plug-in's Completion is built by its own code (the echo plug-in says 10 in, 20 out for
    a whole note): under a cap it is counted as the built-in providers count, so the cap, the
    report and the note agree."""
    registry = dict(sdgen.providers._entry_points())
    registry["echo"] = EntryPoint(name="echo", value="tests.plugin_provider:EchoProvider",
                                  group=sdgen.providers.GROUP)
    monkeypatch.setattr(sdgen.providers, "_registry", MappingProxyType(registry))
    monkeypatch.setenv("ECHO_API_KEY", "echo-planted-0123456789abcdef")
    Path("sdgen.toml").write_text('[prices."echo-1"]\ninput = 1000.0\noutput = 1000.0\n')
    assert run(["generate", "Rate Limiter", "--provider", "echo", "--out", "out",
                "--max-cost", "100"]) == 0
    meta = split_front_matter(Path("out/obsidian/rate-limiter.md").read_text())[0]
    report = json.loads(Path("out/run-report.json").read_text())
    assert meta["input_tokens"] > 10 and meta["output_tokens"] > 20  # what the text shows
    assert (report["input_tokens"], report["output_tokens"]) == (meta["input_tokens"],
                                                                 meta["output_tokens"])
    assert report["estimated_cost_usd"] == pytest.approx(
        (meta["input_tokens"] + meta["output_tokens"]) / 1000)


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_the_dry_run_the_cap_and_the_report_agree_to_the_cent(
        capsys: pytest.CaptureFixture[str]) -> None:
    """One price table, one token estimate and one cost formula: when a server reports the
    tokens a dry run estimated (and the whole output budget), the dry run's figure for each
    request, what the cap holds and settles, and run-report.json's cost are the same figure."""
    # An input token is worth ten cents: one token counted otherwise shows.
    Path("sdgen.toml").write_text('[prices."m"]\ninput = 100000.0\noutput = 1000.0\n')
    topics = ["System 0", "A Distributed Message Queue With Many Words In Its Name"]
    assert run(["generate", *topics, "--model", "m", "--dry-run"]) == 0
    rows = {cells[0]: cells for line in capsys.readouterr().out.splitlines()
            if (cells := _cells(line))[0] in topics}
    tokens = {t: int(rows[t][4].replace(",", "")) for t in topics}
    budget = {t: int(rows[t][5].replace(",", "")) for t in topics}
    dry = {t: float(rows[t][6].removeprefix("$")) for t in topics}
    assert tokens[topics[0]] != tokens[topics[1]]

    def answer_as_estimated(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        topic = topic_of(body)
        start_stream(handler)
        handler.wfile.write(chunk(synthetic_note(topic)) + chunk("", "stop") + event(
            {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
             "choices": [], "usage": {"prompt_tokens": tokens[topic],
                                      "completion_tokens": budget[topic]}}) + b"data: [DONE]\n\n")

    # Room for the first request's worst case, not for the second's on top of it.
    cap = dry[topics[0]] + dry[topics[1]] / 2
    with hostile_server(answer_as_estimated) as (url, requests):
        code = run(["generate", *topics, "--provider", "openai-compatible", "--base-url", url,
                    "--model", "m", "--out", "out", "--concurrency", "1",
                    "--max-cost", f"{cap:.4f}"])
    assert code == 3 and len(requests) == 1
    report = json.loads(Path("out/run-report.json").read_text())
    held = re.search(r"\$([\d.]+) spent, \$0\.0000 in flight, the next request could cost up "
                     r"to \$([\d.]+)", report["capped"])
    assert held, report["capped"]
    written = next(t for t in report["topics"] if t["status"] == "written")
    assert written["topic"] == topics[0]
    meta = split_front_matter(Path(written["path"]).read_text())[0]
    assert (meta["input_tokens"], meta["output_tokens"]) == (tokens[topics[0]], budget[topics[0]])
    first = [dry[topics[0]], float(held.group(1)), written["cost_usd"],
             report["estimated_cost_usd"]]
    assert max(first) - min(first) < 0.005, first
    assert abs(float(held.group(2)) - dry[topics[1]]) < 0.005, (held.group(2), dry[topics[1]])
