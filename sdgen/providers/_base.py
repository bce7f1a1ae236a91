"""The provider protocol, the Completion every provider returns, and the shared retry policy."""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import functools
import json
import logging
import os
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar, runtime_checkable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ..compose import CallConfig, Prompt, estimate_tokens
from ..errors import AuthenticationError, ProviderCallError, ProviderError, SdgenError
from ._limits import RateLimiter

__all__ = [
    "ATTEMPT_BUDGET",
    "AnswerTimeoutError",
    "AnswerTooLargeError",
    "AttemptBudget",
    "BatchProvider",
    "BatchStatus",
    "Completion",
    "ErrorAnswerError",
    "IncompleteAnswerError",
    "MalformedAnswerError",
    "NotAnAnswerError",
    "Provider",
    "ProviderSettings",
    "TextCallback",
    "Usage",
    "call_with_retries",
    "check_size",
    "clean_text",
    "error_answer",
    "kind_of",
    "known_secrets",
    "one_line",
    "plausible_usage",
    "redact",
    "register_key_variable",
    "register_secret",
    "reservation",
    "url_password",
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


# How far a server's usage figures are believed (see plausible_usage).
_INPUT_SLACK = 4  # a reported input may be this many times the prompt's own estimate,
_INPUT_OVERHEAD = 1_000  # plus what a server adds around it (a chat template, tools)
_UNDER = 4  # a count under a quarter of the text's estimate does not count that text


def _figure(tokens: int) -> str:
    # A 300-digit count is shown by its size (str() of a huge int is slow, and refused past
    # 4,300 digits).
    return f"{tokens:,}" if tokens < 10**12 else f"about 10^{int(tokens.bit_length() * 0.30103)}"


def _believed(reported: int, estimate: int, low: int, high: int) -> int:
    return reported if reported and low <= reported <= high else estimate


def plausible_usage(reported: Usage, prompt: Prompt, text: str, provider: str) -> Usage:
    """One answer's usage as sdgen counts it everywhere (the run's table, the spending cap, the
    run report, the note's front matter): the server's figures where the request allows them,
    else estimated from the text at four UTF-8 bytes a token, as the cap holds it.

    Input is believed between a quarter of the prompt's estimate and four times it (plus 1,000
    tokens); output between a quarter of what the answer's text shows and the call's output
    budget (or the text's estimate, for a server that ran past the budget). A figure missing,
    zero, or outside those bounds (10¹⁵ tokens, 1e300) is replaced by the estimate."""
    held = prompt.input_tokens_held
    shown = estimate_tokens(text)
    counted = Usage(
        _believed(reported.input_tokens, held, held // _UNDER,
                  held * _INPUT_SLACK + _INPUT_OVERHEAD),
        _believed(reported.output_tokens, shown, shown // _UNDER,
                  max(prompt.config.max_tokens, shown)))
    if counted != reported:
        log = logging.getLogger("sdgen")
        said = [f"{_figure(r)} {name} tokens" for name, r, c in (
            ("input", reported.input_tokens, counted.input_tokens),
            ("output", reported.output_tokens, counted.output_tokens)) if r and r != c]
        if said:
            log.warning("%s reported %s, which the request cannot have used: counted %s in / "
                        "%s out from the text instead", provider, " and ".join(said),
                        _figure(counted.input_tokens), _figure(counted.output_tokens))
        else:
            log.debug("%s reported no usage: counted %s in / %s out from the text", provider,
                      _figure(counted.input_tokens), _figure(counted.output_tokens))
    return counted


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


class IncompleteAnswerError(Exception):
    """The stream ended before the provider said it was finished (worth another try)."""


class EmptyAnswerError(Exception):
    """The provider answered with no text (worth another try)."""


class AnswerTimeoutError(IncompleteAnswerError):
    """One answer took longer than its answer timeout (retried like any cut answer)."""


class AnswerTooLargeError(Exception):
    """The answer ran far past what the output budget allows: no other try will be smaller."""


def check_size(received: int, prompt: Prompt) -> None:
    """Stop reading an answer that is clearly past what its output budget allows."""
    if received > prompt.config.max_characters:
        raise AnswerTooLargeError(
            f"the answer passed {prompt.config.max_characters:,} characters, far more than "
            f"{prompt.config.max_tokens:,} output tokens can hold: the server is not answering "
            "within the budget; the topic is skipped")


class NotAnAnswerError(Exception):
    """The server answered with something that is no answer, and no other try will be
    different: no API response at all (a web page), a refusal, a tool call instead of text."""


class MalformedAnswerError(Exception):
    """The response is JSON, but not the shape of an answer (``data: null``, ``choices`` that
    is no list, content that is a number): garbled like malformed JSON, worth another try."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"malformed data in the response ({detail})")


class ErrorAnswerError(Exception):
    """The server answered 200, but with an error where the answer should be. ``transient``:
    it says the server is busy (overloaded, rate limited, timed out), so another try may
    answer."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(f"the server answered with an error: {message}")
        self.transient = transient


def kind_of(value: object) -> str:
    """What a JSON value is, in words (for a message about data of the wrong shape)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def one_line(text: object, limit: int = 300) -> str:
    """A server's words fit for one line of a message: whitespace runs made one space, cut."""
    words = " ".join(clean_text(str(text))[0].split())
    return words if len(words) <= limit else words[:limit - 1] + "…"


# Words of an error body that say the server is busy rather than the request wrong.
_TRANSIENT = re.compile(r"overload|rate.?limit|too many requests|time.?out|timed out|temporar|"
                        r"unavailable|try again|capacity|busy|server.?error|internal|api_error",
                        re.IGNORECASE)


def error_answer(body: object) -> ErrorAnswerError | None:
    """The error a response body carries in place of an answer (OpenAI's ``{"error": {...}}``,
    Anthropic's ``{"type": "error", "error": {...}}``, a bare ``{"error": "..."}``), or None."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if not error and body.get("type") != "error":
        return None
    code: object = None
    if isinstance(error, dict):
        message = error.get("message") or error.get("type") or error.get("code") or "no message"
        code = error.get("code", error.get("status"))
        words = " ".join(str(error.get(k, "")) for k in ("message", "type", "code"))
    else:
        message = words = str(error or body.get("message") or "no message")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    busy = isinstance(code, int) and not isinstance(code, bool) and (
        code in {408, 409, 429} or 500 <= code < 600)
    return ErrorAnswerError(one_line(message), transient=busy or bool(_TRANSIENT.search(words)))


# Strings shaped exactly like a provider's key (OpenAI's sk-…, sk-proj-…, Anthropic's
# sk-ant-…), whoever's they are. Ordinary words ("Key-Generation-Service") never match.
_KEYLIKE = re.compile(r"(?<![\w-])sk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")
_ECHO = 12  # this many characters of a key, echoed anywhere, are redacted (a key shown in part)
_extra_secrets: list[str] = []  # secrets that are not keys (a password in a base URL)

# Read whatever provider is in use: sdgen's own variable, and both SDKs' (a base URL's proxy
# may forward them). Each registered provider adds its own ``key_env``.
KEY_VARIABLES = ("SDGEN_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")
_key_variables: list[str] = list(KEY_VARIABLES)


def register_key_variable(name: str | None) -> None:
    """Keep the key read from ``name`` out of everything sdgen writes and logs."""
    if name and name not in _key_variables:
        _key_variables.append(name)


def register_secret(value: str | None) -> None:
    """Keep a secret that is not an API key (a base URL's password) out of logs and files."""
    if value and len(value) >= 4 and value not in _extra_secrets:
        _extra_secrets.append(value)


def url_password(url: str | None) -> str | None:
    """The password in a URL's ``user:password@`` part, if it has one."""
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def known_secrets() -> tuple[str, ...]:
    """The API keys in this process's environment (every registered provider's variable), and
    the passwords of the base URLs in use: kept out of everything sdgen writes and logs."""
    keys = [v for k in _key_variables if len(v := os.environ.get(k, "")) >= 8]
    urls = [url_password(os.environ.get(k)) for k in
            ("SDGEN_BASE_URL", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")]
    return tuple(dict.fromkeys([*keys, *(p for p in urls if p), *_extra_secrets]))


@functools.lru_cache(maxsize=16)
def _pieces(secret: str) -> re.Pattern[str]:
    """Every ``_ECHO``-character piece of a secret, found at every position (overlapping)."""
    pieces = sorted({secret[i:i + _ECHO] for i in range(len(secret) - _ECHO + 1)})
    return re.compile("(?=(" + "|".join(map(re.escape, pieces)) + "))")


def _echoes(text: str, secret: str) -> list[tuple[int, int]]:
    """Where ``text`` shows any ``_ECHO``-character piece of ``secret`` (a key cut in part)."""
    found: list[tuple[int, int]] = []
    for match in _pieces(secret).finditer(text):
        start = match.start()
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], start + _ECHO)
        else:
            found.append((start, start + _ECHO))
    return found


def redact(text: str, *secrets: str | None) -> str:
    """Remove secrets from a message: the given ones whole, any long piece of them (a key
    echoed in part), and any string shaped exactly like a provider's key."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        text = text.replace(secret, "[redacted]")
        if len(secret) >= _ECHO and len(text) < 1_000_000:
            for start, end in reversed(_echoes(text, secret)):
                text = text[:start] + "[redacted]" + text[end:]
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
