"""Every provider end to end through its real SDK, with HTTP mocked by respx (httpx2)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from sdgen.cli import run
from tests.helpers import (
    ANTHROPIC_URL,
    OPENAI_URL,
    answer,
    anthropic_json,
    anthropic_stream,
    openai_json,
    openai_stream,
    sent_json,
)

KEY = "sk-planted-TESTKEY-0000000000"


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDGEN_MAX_WAIT", "0.01")


def _note(topic: str = "rate-limiter", persona: str = "obsidian") -> Path:
    return Path("out") / persona / f"{topic}.md"


def test_openai_streamed(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(answer("obsidian_valid.md")))
    assert run(["generate", "Rate Limiter", "--out", "out", "--model", "gpt-4.1"]) == 0
    body = sent_json(route)
    assert body["stream"] is True and body["model"] == "gpt-4.1"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "Rate Limiter" in body["messages"][0]["content"]
    assert body["max_completion_tokens"] == 16000
    assert route.calls[0].request.headers["authorization"] == f"Bearer {KEY}"
    note = _note().read_text()
    assert "model: gpt-4.1" in note
    assert "input_tokens: 1200" in note and "output_tokens: 3400" in note
    assert KEY not in note


def test_openai_not_streamed(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=openai_json(answer("senior_valid.md")))
    assert run(["generate", "Consistent Hashing", "--persona", "senior", "--out", "out",
                "--no-stream"]) == 0
    assert "stream" not in sent_json(route)
    assert _note("consistent-hashing", "senior").is_file()


def test_anthropic_streamed(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    route = httpx2_mock.post(ANTHROPIC_URL).mock(
        return_value=anthropic_stream(answer("emoji_valid.md")))
    assert run(["generate", "Rate Limiter", "--persona", "emoji", "--provider", "anthropic",
                "--out", "out"]) == 0
    body = sent_json(route)
    assert body["stream"] is True and body["model"] == "claude-sonnet-4-6"
    assert "System Design Expert Mode" in body["system"]
    assert [m["role"] for m in body["messages"]] == ["user"]
    headers = route.calls[0].request.headers
    assert KEY in (headers.get("x-api-key", ""), headers.get("authorization", "").removeprefix("Bearer "))
    assert "anthropic-version" in headers
    note = _note(persona="emoji").read_text()
    assert "provider: anthropic" in note and "input_tokens: 1500" in note
    assert "output_tokens: 4000" in note


def test_anthropic_not_streamed(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    httpx2_mock.post(ANTHROPIC_URL).mock(return_value=anthropic_json(answer("visual_valid.md")))
    assert run(["generate", "Load Balancer", "--persona", "visual", "--provider", "anthropic",
                "--out", "out", "--no-stream"]) == 0
    assert _note("load-balancer", "visual").is_file()


def test_openai_compatible_server_needs_no_key(httpx2_mock: respx.Router) -> None:
    route = httpx2_mock.post("http://localhost:11434/v1/chat/completions").mock(
        return_value=openai_stream(answer("senior_valid.md"), model="llama3.1"))
    code = run(["generate", "Consistent Hashing", "--persona", "senior", "--provider",
                "openai-compatible", "--base-url", "http://localhost:11434/v1",
                "--model", "llama3.1", "--out", "out"])
    assert code == 0
    body = sent_json(route)
    assert body["model"] == "llama3.1" and body["max_tokens"] == 16000
    assert "provider: openai-compatible" in _note("consistent-hashing", "senior").read_text()


def test_sdk_base_url_environment_is_honoured(httpx2_mock: respx.Router,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example/v1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://claude-proxy.example")
    openai_route = httpx2_mock.post("https://proxy.example/v1/chat/completions").mock(
        return_value=openai_stream(answer("visual_valid.md")))
    claude_route = httpx2_mock.post("https://claude-proxy.example/v1/messages").mock(
        return_value=anthropic_stream(answer("visual_valid.md")))
    assert run(["generate", "LB", "--persona", "visual", "--out", "out"]) == 0
    assert run(["generate", "LB", "--persona", "visual", "--provider", "anthropic",
                "--out", "out2"]) == 0
    assert openai_route.call_count == 1 and claude_route.call_count == 1


@pytest.mark.usefixtures("fast_retries")
@pytest.mark.parametrize("failure", [
    httpx.Response(429, headers={"retry-after": "0"}, json={"error": {"message": "slow down"}}),
    httpx.Response(429, json={"error": {"message": "slow down"}}),
    httpx.Response(500, json={"error": {"message": "boom"}}),
    httpx.Response(503, text="unavailable"),
    httpx.ConnectError("connection reset"),
    httpx.ReadTimeout("read timed out"),
])
def test_openai_retries_transient_failures(httpx2_mock: respx.Router,
                                           monkeypatch: pytest.MonkeyPatch,
                                           failure: httpx.Response | Exception) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    route = httpx2_mock.post(OPENAI_URL).mock(
        side_effect=[failure, openai_stream(answer("visual_valid.md"))])
    assert run(["generate", "LB", "--persona", "visual", "--out", "out"]) == 0
    assert route.call_count == 2


@pytest.mark.usefixtures("fast_retries")
def test_anthropic_overloaded_529_is_retried(httpx2_mock: respx.Router,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    overloaded = httpx.Response(529, json={"type": "error", "error": {
        "type": "overloaded_error", "message": "Overloaded"}})
    route = httpx2_mock.post(ANTHROPIC_URL).mock(
        side_effect=[overloaded, anthropic_stream(answer("visual_valid.md"))])
    assert run(["generate", "LB", "--persona", "visual", "--provider", "anthropic",
                "--out", "out"]) == 0
    assert route.call_count == 2


@pytest.mark.usefixtures("fast_retries")
def test_stream_cut_before_the_end_is_retried(httpx2_mock: respx.Router,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    text = answer("visual_valid.md")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(text[:300], finish=None), openai_stream(text)])
    assert run(["generate", "LB", "--persona", "visual", "--out", "out"]) == 0
    assert route.call_count == 2


def test_retry_after_is_honoured(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        httpx.Response(429, headers={"retry-after": "1"}), openai_stream(answer("visual_valid.md"))])
    started = time.monotonic()
    assert run(["generate", "LB", "--persona", "visual", "--out", "out"]) == 0
    assert time.monotonic() - started >= 1.0
    assert route.call_count == 2


@pytest.mark.parametrize("status", [400, 404])
def test_client_errors_are_not_retried(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], status: int) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    route = httpx2_mock.post(OPENAI_URL).mock(
        return_value=httpx.Response(status, json={"error": {"message": "bad model"}}))
    assert run(["generate", "LB", "--persona", "visual", "--out", "out"]) == 1
    assert route.call_count == 1
    assert f"HTTP {status}: bad model" in capsys.readouterr().err


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_is_one_line_and_exit_2(httpx2_mock: respx.Router,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str],
                                             status: int) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=httpx.Response(
        status, json={"error": {"message": f"Incorrect API key provided: {KEY}"}}))
    assert run(["generate", "A", "B", "C", "--persona", "visual", "--out", "out",
                "--concurrency", "1"]) == 2
    err = capsys.readouterr().err
    assert route.call_count == 1  # the run stops instead of failing every topic
    assert "API key was rejected" in err
    assert KEY not in err and "Traceback" not in err


@pytest.mark.parametrize(("provider", "variable"), [("openai", "OPENAI_API_KEY"),
                                                    ("anthropic", "ANTHROPIC_API_KEY")])
def test_missing_key_is_one_line_exit_2_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], provider: str, variable: str) -> None:
    assert run(["generate", "Raft", "--provider", provider, "--out", "out"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and variable in err[0]
    assert not Path("out").exists()


def test_unknown_provider(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "Raft", "--provider", "opneai", "--out", "out"]) == 2
    assert "did you mean 'openai'" in capsys.readouterr().err
    assert not Path("out").exists()


COMPATIBLE = ["--provider", "openai-compatible", "--base-url", "http://127.0.0.1:8080/v1",
              "--model", "local-model"]


def test_compatible_server_answering_whole_to_a_stream_request(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post("http://127.0.0.1:8080/v1/chat/completions").mock(
        return_value=openai_json(answer("visual_valid.md")))
    assert run(["generate", "LB", "--persona", "visual", "--out", "out", *COMPATIBLE]) == 0
    assert "input_tokens: 1200" in _note("lb", "visual").read_text()


def test_compatible_server_without_finish_reason(httpx2_mock: respx.Router) -> None:
    text = answer("visual_valid.md")
    body = openai_stream(text).content.decode()
    body = "".join(e + "\n\n" for e in body.split("\n\n") if e and '"finish_reason": "stop"' not in e)
    route = httpx2_mock.post("http://127.0.0.1:8080/v1/chat/completions").mock(
        return_value=httpx.Response(200, headers={"content-type": "text/event-stream"},
                                    content=body.encode()))
    assert run(["generate", "LB", "--persona", "visual", "--out", "out", *COMPATIBLE]) == 0
    assert route.call_count == 1
