"""Anthropic's Messages API, streamed by default."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import anthropic

from ..errors import MissingKeyError
from ..prompt import Prompt
from .base import (
    BatchStatus,
    Completion,
    EmptyAnswerError,
    IncompleteAnswerError,
    ProviderSettings,
    TextCallback,
    Usage,
    call_with_retries,
    check_size,
    reservation,
)
from .defaults import DEFAULT_MODELS

__all__ = ["AnthropicProvider"]

# Anthropic's stop reasons, in the names sdgen uses for every provider.
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
           "refusal": "refusal", "tool_use": "stop", "pause_turn": "length"}


class AnthropicProvider:
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
        parts: list[str] = []
        received = 0
        stop: str | None = None
        input_tokens = output_tokens = 0
        finished = False
        async for event in stream:
            if event.type == "message_start":
                input_tokens = event.message.usage.input_tokens or 0
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                received += len(event.delta.text)
                check_size(received, prompt)
                parts.append(event.delta.text)
                if on_text:
                    on_text(event.delta.text)
            elif event.type == "message_delta":
                stop = event.delta.stop_reason or stop
                output_tokens = event.usage.output_tokens or output_tokens
            elif event.type == "message_stop":
                finished = True
        if not finished:
            raise IncompleteAnswerError("the stream ended before message_stop")
        return self._completion("".join(parts), stop, Usage(input_tokens, output_tokens))

    async def _whole(self, prompt: Prompt, params: dict[str, Any],
                     on_text: TextCallback | None) -> Completion:
        message = await self.client.messages.create(**params)
        text = "".join(b.text for b in message.content if b.type == "text")
        check_size(len(text), prompt)
        usage = Usage(message.usage.input_tokens or 0, message.usage.output_tokens or 0)
        return self._completion(text, message.stop_reason, usage)

    def _completion(self, text: str, stop: str | None, usage: Usage) -> Completion:
        finish = _FINISH.get(stop or "end_turn", stop or "stop")
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
        async def fetch() -> dict[str, Completion | str]:
            results: dict[str, Completion | str] = {}
            async for entry in await self.client.messages.batches.results(batch_id):
                result = entry.result
                if result.type != "succeeded":
                    detail = getattr(getattr(result, "error", None), "error", None)
                    results[entry.custom_id] = f"{result.type}: {getattr(detail, 'message', '')}"
                    continue
                message = result.message
                text = "".join(b.text for b in message.content if b.type == "text")
                usage = Usage(message.usage.input_tokens or 0, message.usage.output_tokens or 0)
                try:
                    results[entry.custom_id] = self._completion(text, message.stop_reason, usage)
                except EmptyAnswerError as exc:
                    results[entry.custom_id] = str(exc)
            return results

        return await call_with_retries(fetch, self.settings, self._key)
