"""Builders for the HTTP answers of the OpenAI and Anthropic APIs, streamed and whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

DATA = Path(__file__).parent / "data"
OPENAI_URL = "https://api.openai.com/v1/chat/completions"
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"


# A regenerated "API Design" section of the obsidian persona, as a model answers a regen.
NEW_API = """## 5. 🔌 API Design

Rewritten by the model: the check API is gRPC, the admin API REST.

| Method | Path | Purpose |
|---|---|---|
| POST | `/v1/check` | allow or deny one request |
| PUT | `/v1/rules/{id}` | create or update a rule |
"""


# What each realistic answer is about: validation checks that a note names its topic.
TOPIC_OF = {"emoji": "Rate Limiter", "obsidian": "Rate Limiter", "senior": "Consistent Hashing",
            "visual": "Load Balancer", "interview": "URL Shortener"}


def answer(name: str) -> str:
    return (DATA / "answers" / name).read_text(encoding="utf-8")


def topic_asked(request: httpx.Request) -> str:
    """The topic a request asks about (the `Topic:` line of its first user message)."""
    body = json.loads(request.content)
    for message in body.get("messages", []):
        content = message["content"]
        text = content if isinstance(content, str) else json.dumps(content)
        if message["role"] == "user" and "Topic: " in text:
            return text.split("Topic: ", 1)[1].split("\n", 1)[0]
    raise AssertionError("no topic in the request")


def answer_about(name: str, request: httpx.Request) -> str:
    """A realistic answer, titled for the topic the request asks about."""
    return retitled(answer(name), topic_asked(request))


def retitled(text: str, title: str) -> str:
    """An answer with its level-1 title replaced: the same note, about another topic's name."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("# "):
            lines[i] = f"# {title}"
            break
    return "\n".join(lines)


def _sse(events: list[str]) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"},
                          content="".join(events).encode("utf-8"))


def openai_stream(text: str, finish: str | None = "stop", usage: tuple[int, int] = (1200, 3400),
                  model: str = "gpt-5.4-mini", chunk: int = 120, done: bool = True) -> httpx.Response:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000,
            "model": model}
    events = []
    for i in range(0, len(text), chunk):
        delta = {"index": 0, "delta": {"content": text[i:i + chunk]}, "finish_reason": None}
        events.append({**base, "choices": [delta]})
    if finish is not None:
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        events.append({**base, "choices": [], "usage": {
            "prompt_tokens": usage[0], "completion_tokens": usage[1],
            "total_tokens": sum(usage)}})
    lines = [f"data: {json.dumps(e)}\n\n" for e in events]
    if done and finish is not None:
        lines.append("data: [DONE]\n\n")
    return _sse(lines)


def openai_json(text: str, finish: str = "stop", usage: tuple[int, int] = (1200, 3400),
                model: str = "gpt-5.4-mini") -> httpx.Response:
    return httpx.Response(200, json={
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": finish}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                  "total_tokens": sum(usage)},
    })


def anthropic_stream(text: str, stop: str = "end_turn", usage: tuple[int, int] = (1500, 4000),
                     model: str = "claude-sonnet-4-6", chunk: int = 120,
                     finished: bool = True) -> httpx.Response:
    def event(kind: str, data: dict[str, Any]) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    events = [event("message_start", {"message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": 1}}}),
        event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})]
    for i in range(0, len(text), chunk):
        events.append(event("content_block_delta", {
            "index": 0, "delta": {"type": "text_delta", "text": text[i:i + chunk]}}))
    if finished:
        events += [
            event("content_block_stop", {"index": 0}),
            event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None},
                                    "usage": {"output_tokens": usage[1]}}),
            event("message_stop", {}),
        ]
    return _sse(events)


def anthropic_json(text: str, stop: str = "end_turn", usage: tuple[int, int] = (1500, 4000),
                   model: str = "claude-sonnet-4-6") -> httpx.Response:
    return httpx.Response(200, json={
        "id": "msg_1", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": text}], "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    })


def sent_json(route: Any, call: int = -1) -> dict[str, Any]:
    """The JSON body of a request a respx route received."""
    request = route.calls[call].request
    return json.loads(request.content)
