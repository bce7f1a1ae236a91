"""The provider protocol and the values every provider deals in: its settings, the Completion it
returns (its text cleaned where it enters), the usage reported, and the batch protocol."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from ..compose import CallConfig, Prompt
from ._limits import RateLimiter

__all__ = [
    "BatchProvider",
    "BatchStatus",
    "Completion",
    "Provider",
    "ProviderSettings",
    "TextCallback",
    "Usage",
    "clean_text",
]

TextCallback = Callable[[str], None]  # receives each piece of streamed text as it arrives


@dataclass(frozen=True)
class ProviderSettings:
    """What a provider needs to connect; the key is never printed.

    How each request is sent (budget, temperature, tries, timeouts) travels with its prompt
    (``Prompt.config``); ``call`` is the run's own config, for calls that have no prompt (the
    batch APIs) and for the client's defaults.
    """

    provider: str
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    stream: bool = True
    call: CallConfig = field(default_factory=CallConfig)
    limiter: RateLimiter | None = field(default=None, compare=False)  # shared by a whole run


@dataclass(frozen=True)
class Usage:
    """Tokens a provider says an answer used. A server may send anything here: what is not a
    count of tokens (a string, a negative number, a float that is no whole number) is 0,
    "not reported"."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens"):
            value: object = getattr(self, name)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                value = 0
            object.__setattr__(self, name, value)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> tuple[str, int]:
    """Text fit for a note: no lone surrogates (not valid Unicode: replaced by U+FFFD) and no
    control characters but tab and newline (a carriage return ends a line). The count of
    characters replaced or dropped."""
    surrogates = _SURROGATE.findall(text)
    fixed = _SURROGATE.sub("\ufffd", text) if surrogates else text
    fixed = fixed.replace("\r\n", "\n").replace("\r", "\n")
    controls = _CONTROL.findall(fixed)
    if controls:
        fixed = _CONTROL.sub("", fixed)
    return fixed, len(surrogates) + len(controls)


@dataclass(frozen=True)
class Completion:
    """One answer from a provider, whatever the provider: its text is cleaned where it enters
    (see clean_text), so nothing downstream meets a lone surrogate or a control character."""

    text: str
    finish_reason: str  # "stop", "length", "content_filter", "refusal", ...
    usage: Usage
    provider: str
    model: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        text, changed = clean_text(self.text)
        if changed:
            logging.getLogger("sdgen").warning(
                "%s answer: %d character(s) that are not valid text were replaced or dropped",
                self.provider, changed)
            object.__setattr__(self, "text", text)

    @property
    def truncated(self) -> bool:
        return self.finish_reason in {"length", "max_tokens"}


@runtime_checkable
class Provider(Protocol):
    """What sdgen needs from an LLM provider: one async call and a way to close.

    A plug-in registers a class in the ``sdgen.providers`` entry-point group; the class is
    called with ``ProviderSettings``. ``key_env`` names the environment variable its API key is
    read from (None: it needs none), so the key is redacted wherever sdgen writes or logs.
    ``offline`` is True for a provider that makes no network call (replay): a run does not
    start worker processes to overlap CPU work with streaming it never waits for.
    """

    name: str
    model: str
    key_env: str | None
    offline: bool

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class BatchStatus:
    """Where a provider batch stands."""

    batch_id: str
    ended: bool
    state: str  # the provider's own word for it
    counts: dict[str, int]


@runtime_checkable
class BatchProvider(Protocol):
    """A provider that can also take a whole list at once, at batch prices (a provider has
    these methods only when its service has a batch API)."""

    async def submit_batch(self, requests: list[tuple[str, Prompt]]) -> str: ...

    async def batch_status(self, batch_id: str) -> BatchStatus: ...

    async def batch_results(self, batch_id: str) -> dict[str, Completion | str]: ...
