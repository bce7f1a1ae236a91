"""OpenAI Chat Completions, and any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio)."""

from __future__ import annotations

import json
import os
from functools import partial
from typing import Any, ClassVar

import openai

from ..compose import Prompt
from ..errors import ConfigError, MissingKeyError
from ._answers import (
    EmptyAnswerError,
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

__all__ = ["OpenAICompatibleProvider", "OpenAIProvider"]


def _not_a_page(content_type: str) -> None:
    if "html" in content_type:
        raise NotAnAnswerError(
            f"the server answered with a web page (content-type {content_type}), not "
            "a Chat Completions answer: check the base URL")


def _json(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        raise  # malformed JSON: retried like a cut stream
    except ValueError as exc:  # a number of thousands of digits, which Python will not read
        raise MalformedAnswerError("a number too long to read") from exc


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """``obj[name]`` when it is of the kind a Chat Completions answer gives it (None when it
    is absent or null)."""
    value = obj.get(name)
    if value is not None and not isinstance(value, kind):
        first = kind if isinstance(kind, type) else kind[0]
        wanted = "an object" if first is dict else "a list" if first is list else "text"
        raise MalformedAnswerError(f"'{name}' is {kind_of(value)}, not {wanted}")
    return value


def _text(content: object) -> str:
    """A message's or delta's content: text, or a list of text parts (as some compatible
    servers send it)."""
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list) and all(
            isinstance(part, str) or (isinstance(part, dict) and isinstance(part.get("text"), str))
            for part in content):
        return "".join(part if isinstance(part, str) else part["text"] for part in content)
    raise MalformedAnswerError(f"'content' is {kind_of(content)}, not text")


def _object(data: object, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedAnswerError(f"{what} is {kind_of(data)}, not an object")
    return data


def _usage(data: object) -> Usage:
    """The usage a server reported, if any is readable (anything else: not reported)."""
    if not isinstance(data, dict):
        return Usage()
    return Usage(data.get("prompt_tokens") or 0, data.get("completion_tokens") or 0)


class _Answer(ArrivingAnswer):
    """An answer as it arrives, from whole responses or stream chunks read as plain JSON."""

    def _message(self, message: dict[str, Any]) -> str:
        """Take one message or delta; returns the text it adds."""
        text = _text(message.get("content"))
        if text:
            self.parts.append(text)
        refusal = _field(message, "refusal", str)
        if refusal:
            self.refusal.append(refusal)
        self.received += len(text) + len(refusal or "")
        calls = list(_field(message, "tool_calls", list) or [])
        if message.get("function_call"):  # the older form of a tool call
            calls.append({"function": message["function_call"]})
        for call in calls:  # a streamed call names its tool once, in its first piece
            self.tool_called = True
            function = call.get("function") if isinstance(call, dict) else None
            name = function.get("name") if isinstance(function, dict) else None
            if isinstance(name, str) and name:
                self.tools.append(name)
        return text

    def _choice(self, choices: list[Any] | None, key: str) -> str:
        text = ""
        for choice in (choices or [])[:1]:
            choice = _object(choice, "a choice")
            message = _field(choice, key, (dict, str))
            if isinstance(message, str):
                raise MalformedAnswerError(f"'{key}' is text, not an object")
            if message is not None:
                text = self._message(message)
            finish = _field(choice, "finish_reason", str)
            self.finish = finish or self.finish
        return text

    def add(self, chunk: object) -> str:
        """Take one stream chunk; returns the text it adds."""
        chunk = _object(chunk, "an event")
        if (error := error_answer(chunk)) is not None:
            raise error
        text = self._choice(_field(chunk, "choices", list), "delta")
        if chunk.get("usage"):
            self.usage = _usage(chunk["usage"])
        return text


def _whole_answer(body: object) -> _Answer:
    """A whole Chat Completions response, read as plain JSON."""
    if (error := error_answer(body)) is not None:
        raise error
    body = _object(body, "the answer")
    answer = _Answer()
    choices = _field(body, "choices", list)
    if not choices:
        raise EmptyAnswerError("the response had no choices")
    answer._choice(choices, "message")
    answer.usage = _usage(body.get("usage"))
    return answer


class _ChatCompletions(SdkProvider):
    """The Chat Completions protocol, streamed by default: what OpenAI and every compatible
    server share."""

    client: openai.AsyncOpenAI

    name: ClassVar[str] = "openai"
    default_model: ClassVar[str] = DEFAULT_MODELS["openai"]
    key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    offline: ClassVar[bool] = False

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.model = settings.model or self.default_model
        self._key = self._api_key(settings)
        # The SDK's own retries are off: sdgen's policy (tenacity) decides, once, for all providers.
        self.client = openai.AsyncOpenAI(
            api_key=self._key, base_url=self._base_url(settings), timeout=settings.call.timeout,
            max_retries=0,
        )

    def _api_key(self, settings: ProviderSettings) -> str:
        key = settings.api_key or os.environ.get(self.key_env or "")
        if not key:
            raise MissingKeyError(
                f"no OpenAI API key: set {self.key_env} (see .env.example), or use "
                "--provider openai-compatible --base-url URL for a local server",
                provider=self.name,
            )
        return key

    def _base_url(self, settings: ProviderSettings) -> str | None:
        return settings.base_url  # None: the SDK reads OPENAI_BASE_URL itself

    token_limit: ClassVar[str] = "max_completion_tokens"  # the newer name; reasoning models need it

    def _params(self, prompt: Prompt) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in prompt.messages],
            self.token_limit: prompt.config.max_tokens,
        }
        if prompt.config.temperature is not None:
            params["temperature"] = prompt.config.temperature
        return params

    async def _streamed(self, prompt: Prompt, params: dict[str, Any],
                        on_text: TextCallback | None) -> Completion:
        # The raw event lines, not the SDK's chunk iterator: only they show whether the stream
        # reached its `[DONE]`, which tells a finished answer from a cut one. Every event is
        # read as hostile JSON: a shape that is no chunk is named, never met by an attribute.
        answer = _Answer()
        done = False
        async with self.client.chat.completions.with_streaming_response.create(
            **params, stream=True, stream_options={"include_usage": True}
        ) as response:
            content_type = response.headers.get("content-type", "")
            _not_a_page(content_type)
            if "json" in content_type and "event-stream" not in content_type:
                # Some compatible servers ignore `stream` and answer whole (or with an error
                # body, status 200): take it as it is.
                body = _json(await response.http_response.aread())
                return self._completion(prompt, _whole_answer(body))
            async for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                piece = answer.add(_json(data))
                check_size(answer.received, prompt)
                if piece and on_text:
                    on_text(piece)
        if answer.finish is None:
            if not done or not (answer.parts or answer.refusal or answer.tool_called):
                raise IncompleteAnswerError("the stream ended before the answer was finished")
            answer.finish = "stop"  # [DONE] without a finish reason: some servers never send one
        return self._completion(prompt, answer)

    async def _whole(self, prompt: Prompt, params: dict[str, Any],
                     on_text: TextCallback | None) -> Completion:
        async with self.client.chat.completions.with_streaming_response.create(
                **params) as response:
            _not_a_page(response.headers.get("content-type", ""))
            body = _json(await response.http_response.aread())
        return self._completion(prompt, _whole_answer(body))


class OpenAIProvider(_ChatCompletions):
    """OpenAI's Chat Completions API, and its Batch API: one JSONL file of requests, answered
    within 24 hours at about half price."""

    async def submit_batch(self, requests: list[tuple[str, Prompt]]) -> str:
        lines = [json.dumps({"custom_id": custom_id, "method": "POST",
                             "url": "/v1/chat/completions", "body": self._params(prompt)},
                            ensure_ascii=False) for custom_id, prompt in requests]
        payload = ("\n".join(lines) + "\n").encode("utf-8")

        async def submit() -> str:
            upload = await self.client.files.create(
                file=("sdgen-batch.jsonl", payload, "application/jsonl"), purpose="batch")
            batch = await self.client.batches.create(
                input_file_id=upload.id, endpoint="/v1/chat/completions",
                completion_window="24h")
            return batch.id

        return await call_with_retries(submit, self.settings, self._key)

    async def _file_text(self, file_id: str) -> str:
        return (await self.client.files.content(file_id)).text

    async def batch_status(self, batch_id: str) -> BatchStatus:
        batch = await call_with_retries(lambda: self.client.batches.retrieve(batch_id),
                                        self.settings, self._key)
        counts = batch.request_counts.model_dump() if batch.request_counts else {}
        ended = batch.status in {"completed", "failed", "expired", "cancelled"}
        return BatchStatus(batch_id, ended, batch.status, counts)

    async def batch_results(self, batch_id: str) -> dict[str, Completion | str]:
        """Each line of the output and error files on its own: an answer, or what is wrong with
        it; a line that names no custom_id is under ``results line N`` (``errors line N``)."""
        batch = await call_with_retries(lambda: self.client.batches.retrieve(batch_id),
                                        self.settings, self._key)
        results: dict[str, Completion | str] = {}
        for file_id, name in ((batch.output_file_id, "results"), (batch.error_file_id, "errors")):
            if not file_id or not isinstance(file_id, str):
                continue
            text = await call_with_retries(partial(self._file_text, file_id), self.settings,
                                           self._key)
            for number, line in enumerate(text.splitlines(), 1):
                self._take_line(results, number, line, name)
        return results

    def _batch_entry(self, entry: dict[str, Any]) -> Completion | str:
        response = entry.get("response")
        if entry.get("error"):
            return f"error: {_error_text(entry['error'])}"
        if not isinstance(response, dict):
            return "a result with no response"
        body = response.get("body")
        if response.get("status_code") != 200:
            error = body.get("error", body) if isinstance(body, dict) else body
            return f"HTTP {response.get('status_code')}: {_error_text(error)}"
        return self._completion(None, _whole_answer(body))


def _error_text(error: object) -> str:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return one_line(error["message"])
    return one_line(error if isinstance(error, str) else json.dumps(error)[:1_000])


class OpenAICompatibleProvider(_ChatCompletions):
    """Any server that speaks the Chat Completions protocol at a base URL; the key is optional.
    No batch methods: Ollama, vLLM's server and llama.cpp have no Batch API."""

    name: ClassVar[str] = "openai-compatible"
    key_env: ClassVar[str | None] = "SDGEN_API_KEY"

    def __init__(self, settings: ProviderSettings) -> None:
        if not settings.model:
            raise ConfigError("openai-compatible needs a model name: --model NAME (or SDGEN_MODEL)")
        super().__init__(settings)

    def _api_key(self, settings: ProviderSettings) -> str:
        # Local servers take any key; the SDK insists on one.
        return settings.api_key or os.environ.get(self.key_env or "") or "not-needed"

    def _base_url(self, settings: ProviderSettings) -> str | None:
        url = settings.base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise ConfigError(
                "openai-compatible needs the server's URL: --base-url "
                "(e.g. http://localhost:11434/v1 for Ollama) or SDGEN_BASE_URL"
            )
        return url

    token_limit: ClassVar[str] = "max_tokens"  # what Ollama, vLLM and llama.cpp understand
