"""The one retry policy every provider call runs under: the rate limits, backoff (the server's
``Retry-After`` first), what is worth another try, the answer timeout, the spending cap's attempt
budget, and the one clear error line a failure becomes."""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ..compose import CallConfig, Prompt
from ..errors import AuthenticationError, ProviderCallError, ProviderError, SdgenError
from ._answers import (
    AnswerTimeoutError,
    EmptyAnswerError,
    ErrorAnswerError,
    IncompleteAnswerError,
    MalformedAnswerError,
)
from ._base import Completion, ProviderSettings
from ._limits import RateLimiter
from ._secrets import redact

__all__ = [
    "ATTEMPT_BUDGET",
    "AttemptBudget",
    "call_with_retries",
    "describe_failure",
    "is_retryable",
    "reservation",
]

T = TypeVar("T")


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
    if isinstance(exc, IncompleteAnswerError | EmptyAnswerError | MalformedAnswerError
                  | json.JSONDecodeError):
        return True  # a cut or garbled stream: the next attempt is usually whole
    if isinstance(exc, ErrorAnswerError):
        return exc.transient
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
            # At least the server's figure; when it says the same again, back off beyond it
            # (a window still full answers "1 s" to everyone who asks).
            repeat = state.attempt_number - 1
            told = min(config.max_wait, told + (random.uniform(0, 2.0 ** repeat) if repeat else 0))
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


class AttemptBudget(Protocol):
    """What each try of one request is held against (the spending cap): a try that failed may
    still have been paid for, and another try must fit in what is left."""

    def attempt_failed(self, billed: bool) -> None:
        """A try failed; ``billed``: the server may have produced output before it did (a cut
        stream, a timeout), rather than answering with an HTTP error, which is free."""

    def again(self) -> None:
        """Before another try of the same request: raises an SdgenError when it could cross
        the budget."""


# The budget of the request being sent, set around one ``Provider.complete`` by whoever holds
# the cap; the shared retry loop below consults it, so a provider needs no code of its own.
ATTEMPT_BUDGET: contextvars.ContextVar[AttemptBudget | None] = contextvars.ContextVar(
    "sdgen_attempt_budget", default=None)


def reservation(prompt: Prompt) -> int:
    """Tokens a call may use, as providers count them against a per-minute budget."""
    return prompt.input_tokens_held + prompt.config.max_tokens


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
    budget = ATTEMPT_BUDGET.get()
    try:
        async for attempt in retrying:
            with attempt:
                if budget and attempt.retry_state.attempt_number > 1:
                    budget.again()
                if limiter:
                    await limiter.acquire(reserve)
                try:  # the whole answer, however slowly its bytes come
                    result = await asyncio.wait_for(call(), config.answer_timeout)
                except TimeoutError as exc:
                    if budget:
                        budget.attempt_failed(billed=True)
                    raise AnswerTimeoutError(
                        f"no whole answer within the answer timeout ({config.answer_timeout:g} s)"
                    ) from exc
                except Exception as exc:
                    if budget:
                        budget.attempt_failed(billed=_status(exc) is None)
                    raise
                if limiter and isinstance(result, Completion):
                    used = result.usage.input_tokens + result.usage.output_tokens
                    limiter.refund(reserve - used if used else 0)
                return result
    except SdgenError:
        raise  # already one of ours (a provider error, the spending cap)
    except Exception as exc:
        raise describe_failure(exc, settings.provider, secret) from exc
    raise AssertionError("unreachable")  # pragma: no cover
