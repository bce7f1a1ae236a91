"""Anthropic's Messages API, streamed by default."""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

import anthropic
import pydantic
from anthropic.types.messages import MessageBatchIndividualResponse

from ..compose import Prompt
from ..errors import MissingKeyError
from ._answers import (
    ErrorAnswerError,
    IncompleteAnswerError,
    MalformedAnswerError,
    NotAnAnswerError,
    check_size,
    error_answer,
    kind_of,
    one_line,
)
from ._base import BatchStatus, Completion, ProviderSettings, TextCallback, Usage
from ._defaults import DEFAULT_MODELS
from ._retry import call_with_retries
from ._sdk import ArrivingAnswer, SdkProvider

__all__ = ["AnthropicProvider"]

# Anthropic's stop reasons, in the names sdgen uses for every provider.
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
           "refusal": "refusal", "tool_use": "stop", "pause_turn": "length"}


def _get(obj: object, name: str) -> Any:
    """A field of an event the SDK built without checking it (an object, or a dict where the
    server's shape was unknown to it); None when absent."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None) if hasattr(obj, "__dict__") else None


def _object(value: object, what: str) -> object:
    if value is None or isinstance(value, str | int | float | bool | list):
        raise MalformedAnswerError(f"{what} is {kind_of(value)}, not an object")
    return value


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise MalformedAnswerError(f"'{name}' is {kind_of(value)}, not text")
    return value


def _not_a_page(content_type: str) -> None:
    if "html" in content_type:
        raise NotAnAnswerError(
            f"the server answered with a web page (content-type {content_type}), not "
            "a Messages answer: check the base URL")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        raise  # malformed JSON: retried like a cut stream
    except ValueError as exc:  # a number of thousands of digits, which Python will not read
        raise MalformedAnswerError("a number too long to read") from exc


class _Answer(ArrivingAnswer):
    """A Messages answer as it arrives, from a whole message or stream events (``finish`` is
    its stop reason, as Anthropic words it)."""

    def block(self, block: object) -> None:
        """One content block: its text, or the tool it calls."""
        block = _object(block, "a content block")
        if _get(block, "type") == "text":
            text = _string(_get(block, "text") or "", "text")
            self.parts.append(text)
            self.received += len(text)
        elif _get(block, "type") in {"tool_use", "server_tool_use"}:
            name = _get(block, "name")
            self.tools.append(name if isinstance(name, str) and name else "a tool")


def _whole_message(body: object) -> _Answer:
    """A whole Messages response, read as plain JSON."""
    if (error := error_answer(body)) is not None:
        raise error
    if not isinstance(body, dict):
        raise MalformedAnswerError(f"the answer is {kind_of(body)}, not an object")
    answer = _Answer()
    content = body.get("content")
    if not isinstance(content, list):
        raise MalformedAnswerError(f"'content' is {kind_of(content)}, not a list")
    for block in content:
        answer.block(block)
    stop = body.get("stop_reason")
    answer.finish = stop if isinstance(stop, str) and stop else None
    usage = body.get("usage")
    if isinstance(usage, dict):
        answer.usage = Usage(usage.get("input_tokens") or 0, usage.get("output_tokens") or 0)
    return answer


class AnthropicProvider(SdkProvider):
    client: anthropic.AsyncAnthropic
    name: ClassVar[str] = "anthropic"
    default_model: ClassVar[str] = DEFAULT_MODELS["anthropic"]
    key_env: ClassVar[str | None] = "ANTHROPIC_API_KEY"
    offline: ClassVar[bool] = False

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.model = settings.model or self.default_model
        key = settings.api_key or os.environ.get(self.key_env or "")
        if not key:
            raise MissingKeyError(
                f"no Anthropic API key: set {self.key_env} (see .env.example)", provider=self.name
            )
        self._key = key
        self.client = anthropic.AsyncAnthropic(
            api_key=key, base_url=settings.base_url, timeout=settings.call.timeout, max_retries=0
        )

    def _params(self, prompt: Prompt) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": prompt.config.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in prompt.chat],
        }
        if prompt.system:
            params["system"] = prompt.system
        if prompt.config.temperature is not None:
            params["temperature"] = prompt.config.temperature
        return params

    async def _streamed(self, prompt: Prompt, params: dict[str, Any],
                        on_text: TextCallback | None) -> Completion:
        stream = await self.client.messages.create(**params, stream=True)
        content_type = stream.response.headers.get("content-type", "")
        if "event-stream" not in content_type and ("json" in content_type or "html" in content_type):
            # No stream at all: an error body with status 200, a web page, a whole message.
            body = await stream.response.aread()
            await stream.close()
            _not_a_page(content_type)
            return self._completion(prompt, _whole_message(_json(body)))
        answer = _Answer()
        finished = False
        try:
            async for event in stream:
                kind = _get(_object(event, "an event"), "type")
                if kind == "message_start":
                    usage = _get(_get(event, "message"), "usage")
                    answer.usage = Usage(_get(usage, "input_tokens") or 0, 0)
                elif kind == "content_block_start":
                    answer.block(_get(event, "content_block"))
                elif kind == "content_block_delta":
                    delta = _object(_get(event, "delta"), "'delta'")
                    if _get(delta, "type") == "text_delta":
                        piece = _string(_get(delta, "text"), "text")
                        answer.parts.append(piece)
                        answer.received += len(piece)
                        check_size(answer.received, prompt)
                        if on_text and piece:
                            on_text(piece)
                elif kind == "message_delta":
                    stop = _get(_get(event, "delta"), "stop_reason")
                    answer.finish = stop if isinstance(stop, str) and stop else answer.finish
                    output = _get(_get(event, "usage"), "output_tokens")
                    answer.usage = Usage(answer.usage.input_tokens, output or 0)
                elif kind == "message_stop":
                    finished = True
        except anthropic.APIStatusError as exc:
            if exc.status_code >= 400:
                raise
            # An `error` event in a stream that began with 200: say what it says.
            raise (error_answer(exc.body) or ErrorAnswerError(one_line(exc.message), True)) from exc
        if not finished:
            raise IncompleteAnswerError("the stream ended before message_stop")
        return self._completion(prompt, answer)

    async def _whole(self, prompt: Prompt, params: dict[str, Any],
                     on_text: TextCallback | None) -> Completion:
        async with self.client.messages.with_streaming_response.create(**params) as response:
            _not_a_page(response.headers.get("content-type", ""))
            body = await response.http_response.aread()
        return self._completion(prompt, _whole_message(_json(body)))

    def _finish(self, answer: ArrivingAnswer) -> str:
        return _FINISH.get(answer.finish or "end_turn", answer.finish or "stop")

    # Message Batches: up to 100,000 requests, answered within 24 hours at half price.

    async def submit_batch(self, requests: list[tuple[str, Prompt]]) -> str:
        entries: Any = [{"custom_id": custom_id, "params": self._params(prompt)}
                        for custom_id, prompt in requests]

        async def submit() -> str:
            batch = await self.client.messages.batches.create(requests=entries)
            return batch.id

        return await call_with_retries(submit, self.settings, self._key)

    async def batch_status(self, batch_id: str) -> BatchStatus:
        batch = await call_with_retries(
            lambda: self.client.messages.batches.retrieve(batch_id), self.settings, self._key)
        return BatchStatus(batch_id, batch.processing_status == "ended",
                           batch.processing_status, batch.request_counts.model_dump())

    async def batch_results(self, batch_id: str) -> dict[str, Completion | str]:
        """Each line of the results on its own: an answer, or what is wrong with it; a line that
        names no custom_id is under ``results line N``."""
        async def fetch() -> dict[str, Completion | str]:
            results: dict[str, Completion | str] = {}
            decoder = await self.client.messages.batches.results(batch_id)
            try:
                # The raw lines, not the SDK's decoder: it stops at the first line that is not
                # JSON, and builds the others unchecked.
                number = 0
                async for line in decoder.http_response.aiter_lines():
                    number += 1
                    self._take_line(results, number, line, "results")
            finally:
                await decoder.close()
            return results

        return await call_with_retries(fetch, self.settings, self._key)

    def _batch_entry(self, entry: dict[str, Any]) -> Completion | str:
        result = entry.get("result")
        kind = result.get("type") if isinstance(result, dict) else None
        if kind in {"errored", "canceled", "expired"}:
            error = result.get("error") if isinstance(result, dict) else None
            detail = error.get("error", error) if isinstance(error, dict) else error
            message = detail.get("message") if isinstance(detail, dict) else detail
            return f"{kind}: {one_line(message or '')}".rstrip(": ")
        try:
            parsed = MessageBatchIndividualResponse.model_validate(entry)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            return f"not a batch result ({one_line(where, 120)}: {first['msg']})"
        if parsed.result.type != "succeeded":
            return parsed.result.type
        return self._completion(None, _whole_message(parsed.result.message.to_dict()))
