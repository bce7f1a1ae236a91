"""OpenAI Chat Completions, and any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio)."""

from __future__ import annotations

import json
import os
from functools import partial
from typing import Any, ClassVar

import openai
from openai.types.chat import ChatCompletion

from ..errors import ConfigError, MissingKeyError
from ..prompt import Prompt
from .base import (
    BatchStatus,
    Completion,
    EmptyAnswerError,
    IncompleteAnswerError,
    NotAnAnswerError,
    ProviderSettings,
    TextCallback,
    Usage,
    call_with_retries,
    check_size,
    reservation,
)
from .defaults import DEFAULT_MODELS

__all__ = ["OpenAICompatibleProvider", "OpenAIProvider"]


class _ChatCompletions:
    """The Chat Completions protocol, streamed by default: what OpenAI and every compatible
    server share."""

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
        # reached its `[DONE]`, which tells a finished answer from a cut one.
        parts: list[str] = []
        received = 0
        finish: str | None = None
        done = False
        usage = Usage()
        async with self.client.chat.completions.with_streaming_response.create(
            **params, stream=True, stream_options={"include_usage": True}
        ) as response:
            content_type = response.headers.get("content-type", "")
            if "html" in content_type:
                raise NotAnAnswerError(
                    f"the server answered with a web page (content-type {content_type}), not "
                    "a Chat Completions stream: check the base URL")
            if "json" in content_type and "event-stream" not in content_type:
                # Some compatible servers ignore `stream` and answer whole: take it as it is.
                body = json.loads(await response.http_response.aread())
                return self._checked(prompt, self._from_response(ChatCompletion.model_validate(body)))
            async for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                chunk = json.loads(data)
                if chunk.get("error"):
                    raise IncompleteAnswerError(f"error event in the stream: {chunk['error']}")
                for choice in (chunk.get("choices") or [])[:1]:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        received += len(piece)
                        check_size(received, prompt)
                        parts.append(piece)
                        if on_text:
                            on_text(piece)
                    finish = choice.get("finish_reason") or finish
                if chunk.get("usage"):
                    usage = Usage(chunk["usage"].get("prompt_tokens") or 0,
                                  chunk["usage"].get("completion_tokens") or 0)
        if finish is None:
            if not done or not parts:
                raise IncompleteAnswerError("the stream ended before the answer was finished")
            finish = "stop"  # [DONE] without a finish reason: some servers never send one
        return self._completion("".join(parts), finish, usage)

    async def _whole(self, prompt: Prompt, params: dict[str, Any],
                     on_text: TextCallback | None) -> Completion:
        return self._checked(prompt, self._from_response(
            await self.client.chat.completions.create(**params)))

    @staticmethod
    def _checked(prompt: Prompt, completion: Completion) -> Completion:
        check_size(len(completion.text), prompt)
        return completion

    def _from_response(self, response: ChatCompletion) -> Completion:
        if not response.choices:
            raise EmptyAnswerError("the response had no choices")
        choice = response.choices[0]
        usage = Usage()
        if response.usage:
            usage = Usage(response.usage.prompt_tokens or 0, response.usage.completion_tokens or 0)
        text = choice.message.content or ""
        refusal = getattr(choice.message, "refusal", None)
        finish = "refusal" if refusal and not text else (choice.finish_reason or "stop")
        return self._completion(text, finish, usage)

    def _completion(self, text: str, finish: str, usage: Usage) -> Completion:
        if not text.strip() and finish == "stop":
            raise EmptyAnswerError("the provider returned an empty answer")
        return Completion(text=text, finish_reason=finish, usage=usage, provider=self.name,
                          model=self.model)

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        params = {**self._params(prompt), "timeout": prompt.config.timeout}
        call = self._streamed if self.settings.stream else self._whole
        return await call_with_retries(lambda: call(prompt, params, on_text), self.settings, self._key,
                                       reservation(prompt), prompt.config)

    async def aclose(self) -> None:
        await self.client.close()


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
        batch = await call_with_retries(lambda: self.client.batches.retrieve(batch_id),
                                        self.settings, self._key)
        results: dict[str, Completion | str] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            text = await call_with_retries(partial(self._file_text, file_id), self.settings,
                                           self._key)
            for line in text.splitlines():
                if not line.strip():
                    continue
                entry = json.loads(line)
                response = entry.get("response") or {}
                if entry.get("error") or response.get("status_code") != 200:
                    error = entry.get("error") or response.get("body", {}).get("error", {})
                    results[entry["custom_id"]] = str(error.get("message", error))
                    continue
                try:
                    completion = self._from_response(
                        ChatCompletion.model_validate(response["body"]))
                except EmptyAnswerError as exc:
                    results[entry["custom_id"]] = str(exc)
                    continue
                results[entry["custom_id"]] = completion
        return results


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
