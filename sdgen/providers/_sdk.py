"""What the two SDK providers share: an answer gathered as it arrives, judged into a Completion
(or the truthful error of what came back instead), and the call under sdgen's retry policy."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol

from ..compose import Prompt
from ._answers import (
    EmptyAnswerError,
    ErrorAnswerError,
    MalformedAnswerError,
    NotAnAnswerError,
    check_size,
    one_line,
    plausible_usage,
)
from ._base import Completion, ProviderSettings, TextCallback, Usage
from ._retry import call_with_retries, reservation

__all__ = ["ArrivingAnswer", "SdkProvider"]

_TOOL_FINISHES = {"tool_calls", "function_call", "tool_use"}


class _Client(Protocol):
    async def close(self) -> None: ...


class ArrivingAnswer:
    """An answer as it arrives, whichever the protocol: its text, a refusal, the tools it called
    instead, why it ended and the usage reported."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.refusal: list[str] = []
        self.tools: list[str] = []  # the names of the tools the model called instead
        self.tool_called = False
        self.finish: str | None = None  # as the protocol says it
        self.usage = Usage()
        self.received = 0  # characters of text and refusal, against the output budget


class SdkProvider:
    """A provider over a vendor SDK: the subclass sends (streamed or whole) and reads the
    protocol into an ArrivingAnswer; this judges it and retries as sdgen's policy says."""

    name: ClassVar[str]
    model: str
    settings: ProviderSettings
    client: _Client  # the SDK's client (each provider names its own type)
    _key: str

    def _finish(self, answer: ArrivingAnswer) -> str:
        """The protocol's reason to stop, in sdgen's words ("stop", "length", ...)."""
        return answer.finish or "stop"

    def _params(self, prompt: Prompt) -> dict[str, Any]:
        raise NotImplementedError

    def _streamed(self, prompt: Prompt, params: dict[str, Any],
                  on_text: TextCallback | None) -> Awaitable[Completion]:
        raise NotImplementedError

    def _whole(self, prompt: Prompt, params: dict[str, Any],
               on_text: TextCallback | None) -> Awaitable[Completion]:
        raise NotImplementedError

    def _completion(self, prompt: Prompt | None, answer: ArrivingAnswer) -> Completion:
        """The answer as a Completion, its usage as sdgen counts it (``prompt`` None: a batch
        result, whose prompt is not at hand); what is no answer raises, saying what it is."""
        text = "".join(answer.parts)
        finish = self._finish(answer)
        if not text.strip():
            if answer.refusal:
                raise NotAnAnswerError(f"the model refused: {one_line(''.join(answer.refusal))}")
            if answer.tool_called or answer.tools or answer.finish in _TOOL_FINISHES:
                names = ", ".join(dict.fromkeys(answer.tools))
                raise NotAnAnswerError("the model called a tool instead of answering"
                                       + (f" ({one_line(names, 120)})" if names else ""))
            if finish == "stop":
                raise EmptyAnswerError("the provider returned an empty answer")
        if prompt is not None:
            check_size(len(text), prompt)
        usage = answer.usage if prompt is None else plausible_usage(answer.usage, prompt, text,
                                                                    self.name)
        return Completion(text=text, finish_reason=finish, usage=usage, provider=self.name,
                          model=self.model)

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        params = {**self._params(prompt), "timeout": prompt.config.timeout}
        call: Callable[..., Awaitable[Completion]] = (
            self._streamed if self.settings.stream else self._whole)
        return await call_with_retries(lambda: call(prompt, params, on_text), self.settings,
                                       self._key, reservation(prompt), prompt.config)

    async def aclose(self) -> None:
        await self.client.close()

    # Batch results: a file from the network, where any line may be anything.

    def _batch_entry(self, entry: dict[str, Any]) -> Completion | str:
        """One result object of the protocol: its answer, or what is wrong with it (answer
        errors may be raised: they are said as what is wrong)."""
        raise NotImplementedError

    def _batch_result(self, line: str) -> tuple[str | None, Completion | str]:
        """One result line: its custom_id (None if it has none) and its answer, or what is
        wrong with it."""
        try:
            entry = json.loads(line)
        except ValueError:
            return None, "not JSON"
        if not isinstance(entry, dict):
            return None, f"not a result object (a JSON {type(entry).__name__})"
        custom_id = entry.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            return None, "a result with no custom_id"
        try:
            return custom_id, self._batch_entry(entry)
        except (EmptyAnswerError, NotAnAnswerError, MalformedAnswerError,
                ErrorAnswerError) as exc:
            return custom_id, str(exc)

    def _take_line(self, results: dict[str, Completion | str], number: int, line: str,
                   name: str) -> None:
        """One line's outcome into ``results``, by custom_id (or by its line, when it has
        none); a repeat of a topic cannot undo its answer."""
        if line.strip():
            custom_id, outcome = self._batch_result(line)
            key = custom_id or f"{name} line {number}"
            if not isinstance(results.get(key), Completion):
                results[key] = outcome
