"""Provider batch APIs, mocked at HTTP with their documented request and response formats."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from sdgen.cli import run
from tests.helpers import OPENAI_URL, answer, openai_stream

CARD = answer("visual_valid.md")
# Three topics the card is about (a note must name its topic).
TOPICS = ["Load Balancer Alpha", "Load Balancer Beta", "Load Balancer Gamma"]
NOTES = ["load-balancer-alpha.md", "load-balancer-beta.md", "load-balancer-gamma.md"]
BROKEN = CARD.replace("```text", "").replace("```\n", "\n")  # the diagram is no longer fenced
NOW = 1763800000


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-batch-000000000000000")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-batch-0000000000")
    monkeypatch.setenv("SDGEN_MAX_WAIT", "0.01")


def _openai_batch(status: str, output: str | None = None) -> dict[str, Any]:
    return {"id": "batch_abc", "object": "batch", "endpoint": "/v1/chat/completions",
            "input_file_id": "file-in", "completion_window": "24h", "status": status,
            "created_at": NOW, "output_file_id": output, "error_file_id": None,
            "request_counts": {"total": 3, "completed": 3 if output else 0, "failed": 0}}


def _chat(text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": NOW, "model": "gpt-5.4-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}


def test_openai_batch_submit_status_collect(httpx2_mock: respx.Router,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    uploaded: list[str] = []

    def upload(request: httpx.Request) -> httpx.Response:
        uploaded.extend(re.findall(r'\{"custom_id".*\}', request.content.decode()))
        return httpx.Response(200, json={"id": "file-in", "object": "file", "bytes": 100,
                                         "created_at": NOW, "filename": "sdgen-batch.jsonl",
                                         "purpose": "batch", "status": "processed"})

    httpx2_mock.post("https://api.openai.com/v1/files").mock(side_effect=upload)
    create = httpx2_mock.post("https://api.openai.com/v1/batches").mock(
        return_value=httpx.Response(200, json=_openai_batch("validating")))
    assert run(["generate", *TOPICS, "--persona", "visual", "--out", "out",
                "--batch-api"]) == 0
    assert "submitted batch batch_abc" in capsys.readouterr().err
    lines = [json.loads(x) for x in uploaded]
    assert [x["url"] for x in lines] == ["/v1/chat/completions"] * 3
    assert all("stream" not in x["body"] and x["body"]["messages"][0]["role"] == "system"
               for x in lines)
    assert json.loads(create.calls[0].request.content)["completion_window"] == "24h"
    assert not list(Path("out").rglob("*.md"))  # nothing is written until collected

    # Another process, later: still running.
    status = httpx2_mock.get("https://api.openai.com/v1/batches/batch_abc").mock(
        return_value=httpx.Response(200, json=_openai_batch("in_progress")))
    assert run(["batch", "status", "--out", "out"]) == 0
    assert "batch_abc" in capsys.readouterr().out
    assert run(["batch", "collect", "--out", "out"]) == 0
    assert "still running" in capsys.readouterr().err

    # Ended: Beta's answer is invalid and is repaired online, through the same provider.
    status.mock(return_value=httpx.Response(200, json=_openai_batch("completed", "file-out")))
    results = "\n".join(json.dumps({
        "id": f"req_{i}", "custom_id": line["custom_id"], "error": None,
        "response": {"status_code": 200, "request_id": "r",
                     "body": _chat(BROKEN if "Beta" in json.dumps(line) else CARD)}})
        for i, line in enumerate(lines))
    httpx2_mock.get("https://api.openai.com/v1/files/file-out/content").mock(
        return_value=httpx.Response(200, content=results.encode()))
    repair = httpx2_mock.post("https://api.openai.com/v1/chat/completions").mock(
        return_value=httpx.Response(200, headers={"content-type": "text/event-stream"},
                                    content=_sse_section()))
    assert run(["batch", "collect", "--out", "out"]) == 0
    assert repair.call_count == 1
    assert sorted(p.name for p in Path("out/visual").glob("*.md")) == [
        "index.md", "load-balancer-alpha.md", "load-balancer-beta.md", "load-balancer-gamma.md"]
    for name in ("load-balancer-alpha", "load-balancer-beta", "load-balancer-gamma"):
        assert run(["validate", f"out/visual/{name}.md"]) == 0
    report = json.loads(Path("out/run-report.json").read_text())
    assert report["counts"]["written"] == 3
    # Collected once: a rerun of collect has nothing left, and generate skips every note.
    assert run(["batch", "collect", "--out", "out"]) == 0
    assert run(["generate", *TOPICS, "--persona", "visual", "--out", "out",
                "--batch-api"]) == 0
    assert "nothing to submit" in capsys.readouterr().err


def _sse_section() -> bytes:
    section = CARD[CARD.index("## 🖼️ Diagram"):CARD.index("## 📌 Key Points")]
    events = [{"id": "c", "object": "chat.completion.chunk", "created": NOW, "model": "m",
               "choices": [{"index": 0, "delta": {"content": section}, "finish_reason": None}]},
              {"id": "c", "object": "chat.completion.chunk", "created": NOW, "model": "m",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n"


def _anthropic_batch(ended: bool) -> dict[str, Any]:
    return {"id": "msgbatch_1", "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {"processing": 0 if ended else 2, "succeeded": 1 if ended else 0,
                               "errored": 1 if ended else 0, "canceled": 0, "expired": 0},
            "created_at": "2026-11-22T10:00:00Z", "expires_at": "2026-11-23T10:00:00Z",
            "ended_at": "2026-11-22T11:00:00Z" if ended else None, "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": ("https://api.anthropic.com/v1/messages/batches/msgbatch_1/results"
                            if ended else None)}


def test_anthropic_message_batches(httpx2_mock: respx.Router) -> None:
    create = httpx2_mock.post("https://api.anthropic.com/v1/messages/batches").mock(
        return_value=httpx.Response(200, json=_anthropic_batch(False)))
    assert run(["generate", *TOPICS[:2], "--persona", "visual", "--provider", "anthropic",
                "--out", "out", "--batch-api"]) == 0
    requests = json.loads(create.calls[0].request.content)["requests"]
    assert len(requests) == 2 and requests[0]["params"]["system"]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", r["custom_id"]) for r in requests)
    httpx2_mock.get("https://api.anthropic.com/v1/messages/batches/msgbatch_1").mock(
        return_value=httpx.Response(200, json=_anthropic_batch(True)))
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
               "content": [{"type": "text", "text": CARD}], "stop_reason": "end_turn",
               "stop_sequence": None, "usage": {"input_tokens": 1500, "output_tokens": 600}}
    lines = [{"custom_id": requests[0]["custom_id"],
              "result": {"type": "succeeded", "message": message}},
             {"custom_id": requests[1]["custom_id"],
              "result": {"type": "errored", "error": {"type": "error", "error": {
                  "type": "invalid_request_error", "message": "prompt is too long"}}}}]
    httpx2_mock.get("https://api.anthropic.com/v1/messages/batches/msgbatch_1/results").mock(
        return_value=httpx.Response(200, content="\n".join(json.dumps(x) for x in lines).encode()))
    assert run(["batch", "collect", "--out", "out"]) == 1  # Beta errored in the batch
    report = json.loads(Path("out/run-report.json").read_text())
    assert report["counts"]["written"] == 1 and report["counts"]["failed"] == 1
    beta = next(t for t in report["topics"] if t["topic"] == "Load Balancer Beta")
    assert "prompt is too long" in beta["reason"]
    assert "input_tokens: 1500" in Path("out/visual/load-balancer-alpha.md").read_text()


def test_conversation_personas_cannot_be_batched(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "URL Shortener", "--persona", "interview", "--batch-api",
                "--out", "out"]) == 2
    assert "holds a conversation" in capsys.readouterr().err


def test_compatible_servers_have_no_batch_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "X", "--provider", "openai-compatible", "--base-url",
                "http://127.0.0.1:9/v1", "--model", "m", "--batch-api", "--out", "out"]) == 2
    assert "no batch API" in capsys.readouterr().err


def test_a_batch_the_spending_cap_does_not_cover_is_not_sent(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing is mocked: any request would fail the run otherwise than with the cap.
    # gpt-5.4-mini's list price: three requests of 16,000 output tokens could cost some $0.2.
    code = run(["generate", *TOPICS, "--persona", "visual", "--out", "out", "--batch-api",
                "--model", "gpt-5.4-mini", "--max-cost", "0.01"])
    assert code == 3 and not httpx2_mock.calls
    err = capsys.readouterr().err
    assert "the batch of 3 request(s) could cost up to $" in err and "is sent whole" in err
    assert not list(Path("out").rglob("*.json"))  # no batch record either


def _submit_openai(httpx2_mock: respx.Router, topics: list[str], batch_id: str = "batch_abc",
                   output: str = "file-out", code: int = 0,
                   persona: str = "visual") -> list[dict[str, Any]]:
    """Submit ``topics`` to a mocked OpenAI Batch API that has ended at once; the lines sent."""
    uploaded: list[dict[str, Any]] = []

    def upload(request: httpx.Request) -> httpx.Response:
        uploaded.extend(json.loads(x) for x in re.findall(r'\{"custom_id".*\}',
                                                          request.content.decode()))
        return httpx.Response(200, json={"id": "file-in", "object": "file", "bytes": 100,
                                         "created_at": NOW, "filename": "sdgen-batch.jsonl",
                                         "purpose": "batch", "status": "processed"})

    httpx2_mock.post("https://api.openai.com/v1/files").mock(side_effect=upload)
    httpx2_mock.post("https://api.openai.com/v1/batches").mock(
        return_value=httpx.Response(200, json={**_openai_batch("validating"), "id": batch_id}))
    assert run(["generate", *topics, "--persona", persona, "--out", "out",
                "--batch-api"]) == code
    if code:
        return uploaded
    httpx2_mock.get(f"https://api.openai.com/v1/batches/{batch_id}").mock(
        return_value=httpx.Response(200, json={**_openai_batch("completed", output),
                                               "id": batch_id}))
    return uploaded


def _openai_results(httpx2_mock: respx.Router, lines: list[Any], output: str = "file-out") -> None:
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    httpx2_mock.get(f"https://api.openai.com/v1/files/{output}/content").mock(
        return_value=httpx.Response(200, content=text.encode()))


def _good(line: dict[str, Any]) -> dict[str, Any]:
    return {"id": "req", "custom_id": line["custom_id"], "error": None,
            "response": {"status_code": 200, "request_id": "r", "body": _chat(CARD)}}


def _state(name: str = "batch_abc") -> dict[str, Any]:
    state: dict[str, Any] = json.loads(Path(f"out/.sdgen/batches/{name}.json").read_text())
    return state


@pytest.mark.parametrize("path", [
    "../escape/PWNED.md", "visual/../../escape/PWNED.md", "<absolute>",
    "escape-link/PWNED.md", "visual/escape-link/PWNED.md", "senior/load-balancer-beta.md",
    "visual/load-balancer-beta.txt", "visual/index.md", ".sdgen/load-balancer-beta.md"])
def test_collect_writes_only_inside_the_persona_folder(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str], path: str) -> None:
    lines = _submit_openai(httpx2_mock, TOPICS)
    escape = Path("escape").resolve()
    escape.mkdir()
    Path("out/escape-link").symlink_to(escape)
    Path("out/visual").mkdir(parents=True, exist_ok=True)
    Path("out/visual/escape-link").symlink_to(escape)
    record = Path("out/.sdgen/batches/batch_abc.json")
    state = json.loads(record.read_text())
    path = path.replace("<absolute>", str(escape / "PWNED.md"))
    state["topics"][1]["path"] = path  # Beta's
    record.write_text(json.dumps(state))
    _openai_results(httpx2_mock, [_good(x) for x in lines])
    capsys.readouterr()
    assert run(["batch", "collect", "--out", "out"]) == 1
    assert not list(escape.iterdir())
    assert not Path("out/senior").exists() and not list(Path("out/.sdgen").rglob("*.md"))
    assert "Load Balancer Beta" not in Path("out/visual/index.md").read_text()
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "Load Balancer Beta" in x)
    assert str(record) in line and repr(path) in line
    assert "Traceback" not in err
    for name in ("load-balancer-alpha", "load-balancer-gamma"):  # the others are written
        assert run(["validate", f"out/visual/{name}.md"]) == 0


def test_a_batch_id_that_is_no_name_is_refused(httpx2_mock: respx.Router,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # The id comes from the server, and names the state file: it must not reach outside.
    _submit_openai(httpx2_mock, TOPICS[:1], batch_id="../../../escaped", code=1)
    assert "which is no batch id" in capsys.readouterr().err
    assert not list(Path("..").rglob("escaped*"))
    assert not list(Path("out").rglob("*.json"))


_OPENAI_BAD = {
    "minimal body": {"status_code": 200, "body": {"choices": []}},
    "no choices": {"status_code": 200, "body": {**_chat(CARD), "choices": []}},
    "wrong types": {"status_code": 200, "body": {**_chat(CARD), "choices": [
        {"index": 0, "message": {"role": "assistant", "content": 42}, "finish_reason": "stop"}]}},
    "body not an object": {"status_code": 200, "body": "<html>oops</html>"},
    "http error": {"status_code": 500, "body": "internal error"},
    "http error object": {"status_code": 400, "body": {"error": {"message": "prompt too long"}}},
}


@pytest.mark.parametrize("kind", [*_OPENAI_BAD, "error string", "error object", "no response"])
def test_openai_one_bad_result_line_loses_only_its_topic(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    lines = _submit_openai(httpx2_mock, TOPICS)
    beta = lines[1]["custom_id"]
    bad: dict[str, Any] = {"id": "req", "custom_id": beta, "error": None,
                           "response": _OPENAI_BAD.get(kind)}
    if kind == "error string":
        bad = {"custom_id": beta, "response": None, "error": "server exploded"}
    elif kind == "error object":
        bad = {"custom_id": beta, "response": None,
               "error": {"code": "batch_expired", "message": "not finished in time"}}
    stray = ["{not json", "[1, 2]", {"response": _good(lines[0])["response"]},
             {**_good(lines[0]), "custom_id": "t99999-unknown"}, {"custom_id": 7}]
    _openai_results(httpx2_mock, [_good(lines[0]), bad, *stray, _good(lines[2])])
    capsys.readouterr()
    assert run(["batch", "collect", "--out", "out"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert sorted(p.name for p in Path("out/visual").glob("*.md")) == [
        "index.md", "load-balancer-alpha.md", "load-balancer-gamma.md"]
    line = next(x for x in err.splitlines() if "Load Balancer Beta" in x)
    assert beta in line
    for number in (3, 4, 5, 7):  # every stray line is named, once
        assert sum(f"results line {number}:" in x for x in err.splitlines()) == 1, err
    assert "t99999-unknown" in err
    # Beta is kept for a later collect (or a resubmission); the others are done.
    state = _state()
    assert state["collected_at"] is None
    assert [t["title"] for t in state["topics"]] == ["Load Balancer Beta"]
    assert run(["batch", "status", "--out", "out"]) == 0
    assert "batch_abc" in capsys.readouterr().out


def test_a_topic_kept_from_a_batch_is_finished_by_a_resubmission(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _submit_openai(httpx2_mock, TOPICS)
    bad = {"custom_id": lines[1]["custom_id"], "response": _OPENAI_BAD["minimal body"]}
    _openai_results(httpx2_mock, [_good(lines[0]), bad, _good(lines[2])])
    assert run(["batch", "collect", "--out", "out"]) == 1
    # Collected again, the same result fails the same way, and is still kept.
    assert run(["batch", "collect", "--out", "out"]) == 1
    assert [t["title"] for t in _state()["topics"]] == ["Load Balancer Beta"]
    # Resubmitted: only Beta is sent; its new batch writes it, and the old one is done with.
    again = _submit_openai(httpx2_mock, TOPICS, batch_id="batch_def", output="file-out2")
    assert [x["body"]["messages"][1]["content"].count("Load Balancer Beta") > 0
            for x in again] == [True]
    _openai_results(httpx2_mock, [_good(again[0])], output="file-out2")
    capsys.readouterr()
    assert run(["batch", "collect", "--out", "out"]) == 0, capsys.readouterr().err
    assert run(["validate", "out/visual/load-balancer-beta.md"]) == 0
    assert _state()["collected_at"] and _state("batch_def")["collected_at"]
    capsys.readouterr()
    assert run(["batch", "status", "--out", "out"]) == 0
    assert "no uncollected batches" in capsys.readouterr().out


def test_a_batch_answer_past_the_size_cap_is_not_written(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _submit_openai(httpx2_mock, TOPICS[:2])
    huge = _good(lines[1])
    huge["response"]["body"]["choices"][0]["message"]["content"] = CARD + "x" * 60_000
    _openai_results(httpx2_mock, [_good(lines[0]), huge])
    capsys.readouterr()
    assert run(["batch", "collect", "--out", "out"]) == 1
    err = capsys.readouterr().err
    assert "characters" in next(x for x in err.splitlines() if "Load Balancer Beta" in x)
    assert not Path("out/visual/load-balancer-beta.md").exists()
    assert not list(Path("out").rglob("*beta*"))


_MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
            "content": [{"type": "text", "text": CARD}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 1500, "output_tokens": 600}}
_ANTHROPIC_BAD: dict[str, Any] = {
    "wrong types": {"type": "succeeded", "message": {**_MESSAGE, "content": "not a list"}},
    "no text": {"type": "succeeded", "message": {**_MESSAGE, "content": []}},
    "no message": {"type": "succeeded"},
    "error string": {"type": "errored", "error": "server exploded"},
    "expired": {"type": "expired"},
    "result not an object": 42,
    "unknown type": {"type": "mystery"},
}


@pytest.mark.parametrize("kind", list(_ANTHROPIC_BAD))
def test_anthropic_one_bad_result_line_loses_only_its_topic(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    create = httpx2_mock.post("https://api.anthropic.com/v1/messages/batches").mock(
        return_value=httpx.Response(200, json=_anthropic_batch(False)))
    assert run(["generate", *TOPICS, "--persona", "visual", "--provider", "anthropic",
                "--out", "out", "--batch-api"]) == 0
    ids = [r["custom_id"] for r in json.loads(create.calls[0].request.content)["requests"]]
    httpx2_mock.get("https://api.anthropic.com/v1/messages/batches/msgbatch_1").mock(
        return_value=httpx.Response(200, json=_anthropic_batch(True)))
    good = [{"custom_id": i, "result": {"type": "succeeded", "message": _MESSAGE}} for i in ids]
    stray = ["{not json", json.dumps({"result": good[0]["result"]}),
             json.dumps({**good[0], "custom_id": "t99999-unknown"})]
    lines = [json.dumps(good[0]), json.dumps({"custom_id": ids[1], "result": _ANTHROPIC_BAD[kind]}),
             *stray, json.dumps(good[2])]
    httpx2_mock.get("https://api.anthropic.com/v1/messages/batches/msgbatch_1/results").mock(
        return_value=httpx.Response(200, content="\n".join(lines).encode()))
    capsys.readouterr()
    assert run(["batch", "collect", "--out", "out"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert sorted(p.name for p in Path("out/visual").glob("*.md")) == [
        "index.md", "load-balancer-alpha.md", "load-balancer-gamma.md"]
    assert ids[1] in next(x for x in err.splitlines() if "Load Balancer Beta" in x)
    for number in (3, 4):
        assert sum(f"results line {number}:" in x for x in err.splitlines()) == 1, err
    assert "t99999-unknown" in err
    state = _state("msgbatch_1")
    assert state["collected_at"] is None
    assert [t["title"] for t in state["topics"]] == ["Load Balancer Beta"]


# A Rate Limiter note whose architecture diagram Mermaid's parser refuses (an unquoted "(").
UNPARSED = answer("obsidian_valid.md").replace(
    "flowchart LR\n    C[Clients] --> LB[Azure Front Door]",
    "flowchart LR\n    C[Clients] --> LB[Load Balancer (L7)] --> B", 1)


@pytest.mark.parametrize("check", [False, True], ids=["off", "on"])
def test_collect_checks_diagrams_as_sdgen_toml_says(httpx2_mock: respx.Router,
                                                    check: bool) -> None:
    """batch collect judges answers by the settings every command resolves: with
    `diagram_check = false` in sdgen.toml a diagram Mermaid cannot parse is written as a note,
    as generate would write it; on, it is asked again and, never parsing, kept as a draft."""
    assert answer("obsidian_valid.md") != UNPARSED
    Path("sdgen.toml").write_text(f"diagram_check = {str(check).lower()}\n")
    lines = _submit_openai(httpx2_mock, ["Rate Limiter"], persona="obsidian")
    _openai_results(httpx2_mock, [{"id": "req", "custom_id": lines[0]["custom_id"],
                                   "error": None, "response": {"status_code": 200,
                                                               "request_id": "r",
                                                               "body": _chat(UNPARSED)}}])
    note = Path("out/obsidian/rate-limiter.md")
    if check:  # the repair is asked online, and gets the same diagram again
        repair = httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda r: openai_stream(UNPARSED))
        assert run(["batch", "collect", "--out", "out"]) == 1
        assert not note.exists() and repair.call_count >= 1
        assert Path("out/_drafts/obsidian/rate-limiter.report.json").is_file()
    else:  # nothing is mocked for a repair: one asked for would fail the topic
        assert run(["batch", "collect", "--out", "out"]) == 0
        assert "LB[Load Balancer (L7)]" in note.read_text()
