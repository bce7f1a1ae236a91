"""Every provider end to end through its real SDK, with HTTP mocked by respx (httpx2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from sdgen.cli import run
from sdgen.compose import Prompt, Topic, compose, load_persona
from sdgen.markdown import split_front_matter
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


# Answers that are not answers (issue 14, row 14): each says what came back, in one line, and
# never shows Python's own words for a value it did not expect.
INTERNALS = ("NoneType", "object has no attribute", "validation error", "Traceback",
             "TypeError", "KeyError", "not subscriptable", "unhashable")


def _events(*events: object, done: bool = True) -> httpx.Response:
    """A Chat Completions stream of exactly these events, whatever JSON they are."""
    lines = [f"data: {json.dumps(e)}\n\n" for e in events] + (["data: [DONE]\n\n"] if done else [])
    return httpx.Response(200, headers={"content-type": "text/event-stream"},
                          content="".join(lines).encode())


def _chunk(delta: object, finish: str | None = None) -> dict[str, object]:
    return {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-5.4-mini",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _anthropic_events(*events: tuple[str, object]) -> httpx.Response:
    body = "".join(f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"},
                          content=body.encode())


def _anthropic_start() -> tuple[str, object]:
    return ("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 1500, "output_tokens": 1}}})


def _anthropic_end(stop: str) -> list[tuple[str, object]]:
    return [("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop,
                                                                  "stop_sequence": None},
                               "usage": {"output_tokens": 40}}),
            ("message_stop", {"type": "message_stop"})]


def _failed_line(err: str) -> str:
    """The summary's line for the one failed topic."""
    lines = [line for line in err.splitlines() if line.startswith("FAILED LB: ")]
    assert len(lines) == 1, err
    return lines[0]


def _generate_lb(provider: str, *extra: str) -> int:
    return run(["generate", "LB", "--persona", "visual", "--out", "out", "--provider", provider,
                *extra])


OPENAI_OVERLOADED = {"error": {"message": "model overloaded", "type": "server_error"}}
ANTHROPIC_OVERLOADED = {"type": "error", "error": {"type": "overloaded_error",
                                                   "message": "Overloaded"}}


@pytest.mark.usefixtures("fast_retries")
@pytest.mark.parametrize(("provider", "extra", "not_an_answer", "line"), [
    ("openai", (), httpx.Response(200, json=OPENAI_OVERLOADED),
     "openai: the server answered with an error: model overloaded"),
    ("openai", ("--no-stream",), httpx.Response(200, json=OPENAI_OVERLOADED),
     "openai: the server answered with an error: model overloaded"),
    ("openai", (), _events({"error": {"message": "Rate limit reached, try again in 2s"}}),
     "openai: the server answered with an error: Rate limit reached, try again in 2s"),
    ("anthropic", (), httpx.Response(200, json=ANTHROPIC_OVERLOADED),
     "anthropic: the server answered with an error: Overloaded"),
    ("anthropic", ("--no-stream",), httpx.Response(200, json=ANTHROPIC_OVERLOADED),
     "anthropic: the server answered with an error: Overloaded"),
    ("anthropic", (), _anthropic_events(_anthropic_start(), ("error", ANTHROPIC_OVERLOADED)),
     "anthropic: the server answered with an error: Overloaded"),
], ids=["openai JSON body", "openai JSON body, not streamed", "openai error event",
        "anthropic JSON body", "anthropic JSON body, not streamed", "anthropic error event"])
def test_a_transient_error_answered_with_200_is_retried_and_named(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], provider: str, extra: tuple[str, ...],
        not_an_answer: httpx.Response, line: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    url = OPENAI_URL if provider == "openai" else ANTHROPIC_URL
    good = (openai_json if "--no-stream" in extra else openai_stream) if provider == "openai" \
        else (anthropic_json if "--no-stream" in extra else anthropic_stream)
    route = httpx2_mock.post(url).mock(side_effect=[not_an_answer, good(answer("visual_valid.md"))])
    assert _generate_lb(provider, *extra) == 0  # retried, and the second try answered
    assert route.call_count == 2
    # Every try says it: the topic fails with that line once its tries are spent.
    route.side_effect = None
    route.return_value = not_an_answer
    assert _generate_lb(provider, "--out", "again", "--retries", "2", *extra) == 1
    assert route.call_count == 4
    err = capsys.readouterr().err
    assert _failed_line(err) == f"FAILED LB: {line}"
    assert not any(word in err for word in INTERNALS)


@pytest.mark.usefixtures("fast_retries")
@pytest.mark.parametrize(("provider", "extra", "not_an_answer", "line"), [
    ("openai", (), httpx.Response(200, json={"error": {
        "message": "The model `gpt-9` does not exist", "type": "invalid_request_error"}}),
     "openai: the server answered with an error: The model `gpt-9` does not exist"),
    ("openai", (), _events({"error": "content policy violation"}),
     "openai: the server answered with an error: content policy violation"),
    ("anthropic", (), httpx.Response(200, json={"type": "error", "error": {
        "type": "invalid_request_error", "message": "prompt is too long"}}),
     "anthropic: the server answered with an error: prompt is too long"),
    ("anthropic", (), _anthropic_events(_anthropic_start(), ("error", {"type": "error", "error": {
        "type": "invalid_request_error", "message": "prompt is too long"}})),
     "anthropic: the server answered with an error: prompt is too long"),
    # The model answered, but not with text: no other try would differ.
    ("openai", (), _events(_chunk({"role": "assistant", "refusal": ""}),
                           _chunk({"refusal": "I can't help "}), _chunk({"refusal": "with that."}),
                           _chunk({}, "stop")),
     "openai: the model refused: I can't help with that."),
    ("openai", ("--no-stream",), httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": "gpt-5.4-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": None, "refusal": "I can't help with that."}}]}),
     "openai: the model refused: I can't help with that."),
    ("openai", (), _events(
        _chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                     "function": {"name": "web_search",
                                                                  "arguments": ""}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"q": "LB"}'}}]}),
        _chunk({}, "tool_calls")),
     "openai: the model called a tool instead of answering (web_search)"),
    ("openai", ("--no-stream",), httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": "gpt-5.4-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "web_search", "arguments": "{}"}}]}}]}),
     "openai: the model called a tool instead of answering (web_search)"),
    ("anthropic", (), _anthropic_events(
        _anthropic_start(),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
            "type": "tool_use", "id": "toolu_1", "name": "web_search", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {
            "type": "input_json_delta", "partial_json": '{"q": "LB"}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        *_anthropic_end("tool_use")),
     "anthropic: the model called a tool instead of answering (web_search)"),
    ("anthropic", ("--no-stream",), httpx.Response(200, json={
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "web_search", "input": {}}],
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 1500, "output_tokens": 40}}),
     "anthropic: the model called a tool instead of answering (web_search)"),
], ids=["openai JSON body", "openai error event", "anthropic JSON body", "anthropic error event",
        "openai streamed refusal", "openai refusal, not streamed", "openai streamed tool call",
        "openai tool call, not streamed", "anthropic streamed tool call",
        "anthropic tool call, not streamed"])
def test_an_answer_no_retry_would_change_fails_its_topic_in_one_true_line(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], provider: str, extra: tuple[str, ...],
        not_an_answer: httpx.Response, line: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    route = httpx2_mock.post(OPENAI_URL if provider == "openai" else ANTHROPIC_URL).mock(
        return_value=not_an_answer)
    assert _generate_lb(provider, "--retries", "3", *extra) == 1
    assert route.call_count == 1
    err = capsys.readouterr().err
    assert _failed_line(err) == f"FAILED LB: {line}"
    assert not any(word in err for word in INTERNALS)
    assert not list(Path("out").rglob("lb.md"))
    reason = json.loads(Path("out/run-report.json").read_text())["topics"][0]["reason"]
    assert reason == line


@pytest.mark.usefixtures("fast_retries")
@pytest.mark.parametrize(("provider", "garbled", "detail"), [
    ("openai", _events(None, _chunk({}, "stop")), "an event is null, not an object"),
    ("openai", _events({**_chunk({}), "choices": {"0": {"delta": {"content": "x"}}}},
                       _chunk({}, "stop")), "'choices' is an object, not a list"),
    ("openai", _events(_chunk({"content": 42}), _chunk({}, "stop")),
     "'content' is a number, not text"),
    ("openai", _events(_chunk({"content": [1, 2]}), _chunk({}, "stop")),
     "'content' is a list, not text"),
    ("openai", _events(_chunk("words"), _chunk({}, "stop")), "'delta' is text, not an object"),
    ("openai", httpx.Response(200, json={"choices": {"message": "x"}}),
     "'choices' is an object, not a list"),
    ("openai", httpx.Response(200, json=[1, 2, 3]), "the answer is a list, not an object"),
    ("anthropic", _anthropic_events(_anthropic_start(), ("content_block_delta", None),
                                    *_anthropic_end("end_turn")),
     "an event is null, not an object"),
    ("anthropic", _anthropic_events(
        _anthropic_start(),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": 42}}),
        *_anthropic_end("end_turn")), "'text' is a number, not text"),
], ids=["data: null", "choices an object", "numeric content", "list content", "delta as text",
        "whole answer, choices an object", "whole answer a list", "anthropic data: null",
        "anthropic numeric text"])
def test_a_garbled_answer_is_named_and_retried(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], provider: str, garbled: httpx.Response,
        detail: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    route = httpx2_mock.post(OPENAI_URL if provider == "openai" else ANTHROPIC_URL).mock(
        return_value=garbled)
    assert _generate_lb(provider, "--retries", "2") == 1
    assert route.call_count == 2  # garbled like malformed JSON: the next try is usually whole
    err = capsys.readouterr().err
    assert _failed_line(err) == f"FAILED LB: {provider}: malformed data in the response ({detail})"
    assert not any(word in err for word in INTERNALS)


def test_content_given_as_text_parts_is_the_answer(httpx2_mock: respx.Router,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Some compatible servers send content as a list of text parts: that is text."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    text = answer("visual_valid.md")
    half = len(text) // 2
    httpx2_mock.post(OPENAI_URL).mock(return_value=_events(
        _chunk({"content": [{"type": "text", "text": text[:half]}]}),
        _chunk({"content": [{"type": "text", "text": text[half:]}]}), _chunk({}, "stop")))
    assert _generate_lb("openai") == 0
    assert "Load Balancer" in _note("lb", "visual").read_text()


def _visual_lb_prompt() -> Prompt:
    return compose(load_persona("visual"), Topic("LB"))


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize(("reported", "expected"), [
    ((1200, 3999), lambda p, shown: (1200, 3999)),  # reasoning tokens count up to the budget
    ((1200, 4001), lambda p, shown: (1200, shown)),  # past the visual persona's 4,000
    ((10**15, 3400), lambda p, shown: (p.input_tokens_held, 3400)),
    ((1e300, 1e300), lambda p, shown: (p.input_tokens_held, shown)),
    ((0, 0), lambda p, shown: (p.input_tokens_held, shown)),  # not reported
    ((2, 3), lambda p, shown: (p.input_tokens_held, shown)),  # far less than the text shows
], ids=["within the budget", "past the budget", "10**15 in", "1e300", "none", "too little"])
def test_usage_is_believed_within_what_the_request_allows(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch, provider: str,
        reported: tuple[Any, Any], expected: Callable[[Prompt, int], tuple[int, int]]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    text = answer("visual_valid.md")
    if provider == "openai":
        httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(text, usage=reported))
    else:
        httpx2_mock.post(ANTHROPIC_URL).mock(return_value=anthropic_stream(text, usage=reported))
    assert _generate_lb(provider) == 0
    meta = split_front_matter(_note("lb", "visual").read_text())[0]
    shown = -(-len(text.encode("utf-8")) // 4)  # four UTF-8 bytes a token, rounded up
    assert (meta["input_tokens"], meta["output_tokens"]) == expected(_visual_lb_prompt(), shown)
