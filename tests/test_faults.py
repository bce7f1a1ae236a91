"""Fault matrix: each row a fault in a batch of several topics, through the real SDKs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from sdgen.cli import run
from tests.helpers import (
    ANTHROPIC_URL,
    OPENAI_URL,
    answer,
    anthropic_stream,
    openai_stream,
    retitled,
)
from tests.hostile import chunk, event, hostile_server, send_json, start_stream, topic_of

CARD = answer("visual_valid.md")
# Three topics the card is about (a note must name its topic).
TOPICS = ["Load Balancer Alpha", "Load Balancer Beta", "Load Balancer Gamma"]
NOTES = ["load-balancer-alpha.md", "load-balancer-beta.md", "load-balancer-gamma.md"]


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-faults-0000000000000")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-faults-00000000000")
    monkeypatch.setenv("SDGEN_MAX_WAIT", "0.01")


def _batch(*extra: str) -> int:
    return run(["generate", *TOPICS, "--persona", "visual", "--out", "out",
                "--concurrency", "1", *extra])


def _report() -> dict[str, object]:
    data: dict[str, object] = json.loads(Path("out/run-report.json").read_text())
    return data


def _notes() -> list[str]:
    return sorted(p.name for p in Path("out/visual").glob("*.md") if p.name != "index.md")


def _rerun_asks_only_for(router: respx.Router, expected_calls: int) -> None:
    """After the fault, a rerun finishes the rest and never repeats a finished topic."""
    router.routes.clear()
    route = router.post(OPENAI_URL).mock(side_effect=lambda request: openai_stream(CARD))
    assert _batch() == 0
    assert route.call_count == expected_calls
    assert _notes() == NOTES


def _sse(body: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def test_malformed_json_in_an_sse_event_is_retried(httpx2_mock: respx.Router) -> None:
    broken = _sse('data: {"id": "x", "choices": [ {"delta": \n\n')
    route = httpx2_mock.post(OPENAI_URL).mock(
        side_effect=[broken, openai_stream(CARD), openai_stream(CARD), openai_stream(CARD)])
    assert _batch() == 0
    assert route.call_count == 4 and _notes() == NOTES


def test_empty_answer_is_retried_then_fails_that_topic(httpx2_mock: respx.Router) -> None:
    empty = openai_stream("")
    httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda request: (
        empty if b"Topic: Load Balancer Beta" in request.content else openai_stream(CARD)))
    assert _batch("--retries", "2") == 1
    assert _notes() == ["load-balancer-alpha.md", "load-balancer-gamma.md"]
    beta = next(t for t in _report()["topics"] if t["topic"] == "Load Balancer Beta")  # type: ignore[attr-defined]
    assert beta["status"] == "failed" and "empty answer" in beta["reason"]
    _rerun_asks_only_for(httpx2_mock, 1)


def test_anthropic_stream_without_message_stop_is_retried(httpx2_mock: respx.Router) -> None:
    route = httpx2_mock.post(ANTHROPIC_URL).mock(side_effect=[
        anthropic_stream(CARD[:400], finished=False), anthropic_stream(CARD),
        anthropic_stream(CARD), anthropic_stream(CARD)])
    assert _batch("--provider", "anthropic") == 0
    assert route.call_count == 4


def test_401_mid_batch_stops_the_run(httpx2_mock: respx.Router,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(CARD), httpx.Response(401, json={"error": {"message": "key revoked"}})])
    assert _batch() == 2
    assert route.call_count == 2
    assert _notes() == ["load-balancer-alpha.md"]
    report = _report()
    assert report["stopped"] and report["counts"]["unfinished"] == 1  # type: ignore[index]
    assert "Traceback" not in capsys.readouterr().err
    # A rerun with a working key finishes the rest without asking for Alpha again.
    route.side_effect = None
    route.return_value = openai_stream(CARD)
    assert _batch() == 0
    assert route.call_count == 4 and _notes() == NOTES


def test_disk_full_leaves_no_partial_note(httpx2_mock: respx.Router,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda request: openai_stream(CARD))
    real_replace = os.replace
    calls = {"n": 0}

    def full_disk(src: str, dst: str) -> None:
        calls["n"] += 1
        if str(dst).endswith("load-balancer-beta.md"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    code = _batch()
    assert code == 2
    assert "No space left on device" in capsys.readouterr().err
    assert "load-balancer-beta.md" not in _notes()
    assert not [p for p in Path("out").rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.setattr(os, "replace", real_replace)  # space was freed
    _rerun_asks_only_for(httpx2_mock, 3 - len(_notes()))


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_transient_status_in_a_batch(httpx2_mock: respx.Router, status: int) -> None:
    failing = httpx.Response(status, json={"error": {"message": "try later"}})
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda request: (
        failing if b"Topic: Load Balancer Beta" in request.content else openai_stream(CARD)))
    assert _batch("--retries", "3") == 1  # Beta fails after its retries; the others finish
    assert route.call_count == 2 + 3
    assert _notes() == ["load-balancer-alpha.md", "load-balancer-gamma.md"]
    _rerun_asks_only_for(httpx2_mock, 1)


def test_answers_that_are_not_answers_say_what_came_back_in_a_real_run() -> None:
    """sdgen in its own process against a loopback server: an error body with status 200 is
    retried when it says the server is busy; a refusal, a tool call and a stream of `null`
    events each fail only their topic, with one line that says what came back."""
    tries: dict[str, int] = {}

    def server(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        topic = topic_of(body)
        tries[topic] = tries.get(topic, 0) + 1
        if topic.endswith("Alpha") and tries[topic] == 1:
            send_json(handler, {"error": {"message": "model overloaded"}})
            return
        start_stream(handler)
        base = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
        if topic.endswith("Beta"):
            handler.wfile.write(event({**base, "choices": [
                {"index": 0, "delta": {"refusal": "I can't help with that."}, "finish_reason": None}]}))
        elif topic.endswith("Gamma"):
            handler.wfile.write(event({**base, "choices": [{"index": 0, "finish_reason": None,
                "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                          "function": {"name": "lookup", "arguments": "{}"}}]}}]}))
        elif topic.endswith("Delta"):
            handler.wfile.write(b"data: null\n\n")
        else:
            handler.wfile.write(chunk(retitled(CARD, topic)))
        finish = "tool_calls" if topic.endswith("Gamma") else "stop"
        handler.wfile.write(chunk("", finish) + b"data: [DONE]\n\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    topics = [*TOPICS, "Load Balancer Delta"]
    with hostile_server(server) as (url, _):
        done = subprocess.run(
            [sys.executable, "-m", "sdgen", "generate", *topics, "--persona", "visual",
             "--provider", "openai-compatible", "--base-url", url, "--model", "m", "--out", "out",
             "--concurrency", "1", "--retries", "3", "--max-wait", "0.01"],
            capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr
    assert tries == {"Load Balancer Alpha": 2, "Load Balancer Beta": 1,
                     "Load Balancer Gamma": 1, "Load Balancer Delta": 3}
    assert _notes() == ["load-balancer-alpha.md"]
    failed = [line for line in done.stderr.splitlines() if line.startswith("FAILED Load")]
    assert failed == [
        "FAILED Load Balancer Beta: openai-compatible: the model refused: I can't help with that.",
        "FAILED Load Balancer Gamma: openai-compatible: the model called a tool instead of "
        "answering (lookup)",
        "FAILED Load Balancer Delta: openai-compatible: malformed data in the response (an "
        "event is null, not an object)"]
    report = Path("out/run-report.json").read_text()
    reasons = [t["reason"] for t in json.loads(report)["topics"] if t["status"] == "failed"]
    assert reasons == [line.split(": ", 1)[1] for line in failed]
    for text in (done.stderr, report):
        assert not any(word in text for word in (
            "NoneType", "object has no attribute", "validation errors for", "Traceback"))
