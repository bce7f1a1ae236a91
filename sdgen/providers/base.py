"""The provider protocol, the Completion every provider returns, and the shared retry policy."""

from __future__ import annotations

import email.utils
import json
import os
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar, runtime_checkable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ..compose import CallConfig, Prompt
from ..errors import AuthenticationError, ProviderCallError, ProviderError
from ..limits import RateLimiter

__all__ = [
    "BatchProvider",
    "BatchStatus",
    "Completion",
    "IncompleteAnswerError",
    "Provider",
    "ProviderSettings",
    "TextCallback",
    "Usage",
    "call_with_retries",
    "known_secrets",
    "redact",
    "register_key_variable",
    "reservation",
]

T = TypeVar("T")
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
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Completion:
    """One answer from a provider, whatever the provider."""

    text: str
    finish_reason: str  # "stop", "length", "content_filter", "refusal", ...
    usage: Usage
    provider: str
    model: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

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


class IncompleteAnswerError(Exception):
    """The stream ended before the provider said it was finished (worth another try)."""


class EmptyAnswerError(Exception):
    """The provider answered with no text (worth another try)."""


_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_*-]{6,}|[A-Za-z0-9_-]*key[-_][A-Za-z0-9_*-]{8,})", re.I)

# Read whatever provider is in use: sdgen's own variable, and both SDKs' (a base URL's proxy
# may forward them). Each registered provider adds its own ``key_env``.
KEY_VARIABLES = ("SDGEN_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")
_key_variables: list[str] = list(KEY_VARIABLES)


def register_key_variable(name: str | None) -> None:
    """Keep the key read from ``name`` out of everything sdgen writes and logs."""
    if name and name not in _key_variables:
        _key_variables.append(name)


def known_secrets() -> tuple[str, ...]:
    """The API keys in this process's environment, to be kept out of everything sdgen writes."""
    return tuple(v for k in _key_variables if len(v := os.environ.get(k, "")) >= 8)


def redact(text: str, *secrets: str | None) -> str:
    """Remove API keys (given ones, and anything shaped like one) from a message."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEYLIKE.sub("[redacted]", text)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def is_retryable(exc: BaseException) -> bool:
    """429, 408, 5xx (529 overloaded too), timeouts, dropped connections and cut streams."""
    if isinstance(exc, IncompleteAnswerError | EmptyAnswerError | json.JSONDecodeError):
        return True  # a cut or garbled stream: the next attempt is usually whole
    status = _status(exc)
    if status is not None:
        return status in {408, 409, 429} or status >= 500
    names = {cls.__name__ for cls in type(exc).__mro__}
    connection = {"APIConnectionError", "APITimeoutError", "TransportError", "TimeoutException"}
    return bool(names & connection)


def _wait(config: CallConfig, limiter: RateLimiter | None) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        told = _retry_after(exc) if exc else None
        if told is not None:
            told = min(told, config.max_wait)
            if limiter:
                limiter.pause(told)  # everyone waits, not only the caller told
            return told
        # Exponential backoff with full jitter, from 1 s, capped.
        return random.uniform(0, min(config.max_wait, 2.0 ** (state.attempt_number - 1)))

    return wait


def describe_failure(exc: BaseException, provider: str, secret: str | None) -> ProviderError:
    """Turn an SDK exception into one clear sdgen error line."""
    status = _status(exc)
    body = getattr(exc, "body", None)
    detail = ""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            detail = str(error.get("message", ""))
    if isinstance(exc, json.JSONDecodeError):
        detail = f"malformed data in the response ({exc.msg})"
    detail = redact(detail or str(exc).splitlines()[0] if str(exc) else type(exc).__name__, secret)
    if status in {401, 403}:
        return AuthenticationError(
            f"{provider}: the API key was rejected (HTTP {status}): {detail}", provider=provider
        )
    if status is not None:
        return ProviderCallError(f"{provider}: HTTP {status}: {detail}", provider=provider)
    return ProviderCallError(f"{provider}: {detail}", provider=provider)


def reservation(prompt: Prompt) -> int:
    """Tokens a call may use, as providers count them against a per-minute budget."""
    return sum(len(m.content.encode("utf-8")) for m in prompt.messages) // 4 + prompt.config.max_tokens


async def call_with_retries(
    call: Callable[[], Awaitable[T]], settings: ProviderSettings, secret: str | None,
    reserve: int = 0, config: CallConfig | None = None,
) -> T:
    """Run one provider call under the rate limits and retry policy; failures -> ProviderErrors.

    ``config`` is the prompt's (a completion); calls with no prompt use the run's."""
    config = config or settings.call
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, config.calls_per_request)),
        wait=_wait(config, settings.limiter),
        retry=retry_if_exception(is_retryable),
        reraise=True,
    )
    limiter = settings.limiter
    try:
        async for attempt in retrying:
            with attempt:
                if limiter:
                    await limiter.acquire(reserve)
                result = await call()
                if limiter and isinstance(result, Completion):
                    used = result.usage.input_tokens + result.usage.output_tokens
                    limiter.refund(reserve - used if used else 0)
                return result
    except ProviderError:
        raise
    except Exception as exc:
        raise describe_failure(exc, settings.provider, secret) from exc
    raise AssertionError("unreachable")  # pragma: no cover
