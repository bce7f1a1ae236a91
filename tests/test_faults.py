"""Fault matrix: each row a fault in a batch of several topics, through the real SDKs."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import httpx
import pytest
import respx

from sdgen.cli import run
from tests.helpers import ANTHROPIC_URL, OPENAI_URL, answer, anthropic_stream, openai_stream

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
