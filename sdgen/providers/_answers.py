"""What a server sent, judged before it counts: the usage figures it reports (believed only
within what the request allows), the size an answer may reach, the error a 200 response carries
in place of an answer, and the exceptions that say what came instead of one."""

from __future__ import annotations

import logging
import re

from ..compose import Prompt, estimate_tokens
from ._base import Usage, clean_text

__all__ = [
    "AnswerTimeoutError",
    "AnswerTooLargeError",
    "EmptyAnswerError",
    "ErrorAnswerError",
    "IncompleteAnswerError",
    "MalformedAnswerError",
    "NotAnAnswerError",
    "check_size",
    "error_answer",
    "kind_of",
    "one_line",
    "plausible_usage",
]

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
