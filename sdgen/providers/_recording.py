"""Record every exchange with a provider to readable YAML files, and replay them with no network.

A recording is keyed by a hash of the normalised request: the messages and the parameters that
change the answer (output budget, temperature). Which provider and model answered is kept as
metadata: the key says what was asked, the file says who answered. No header, key or other secret
is ever written: only the messages and those parameters are.

A recording is read as hostile input, like a server's answer: its size is bounded before it is
parsed, every field is checked for type and range, and its answer is held to the size cap of an
online answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._files import atomic_write, safe_segment
from .._version import __version__
from ..compose import Prompt
from ..errors import ConfigError, ReplayMissError
from ._answers import AnswerTooLargeError, check_size, one_line, plausible_usage
from ._base import Completion, Provider, TextCallback, Usage
from ._secrets import redact

__all__ = ["RecordingProvider", "ReplayMissError", "ReplayProvider", "request_key"]


def request_params(prompt: Prompt) -> dict[str, Any]:
    """The normalised request: what the model is asked and what shapes its answer."""
    return {
        "messages": [{"role": m.role, "content": m.content} for m in prompt.messages],
        "max_tokens": prompt.config.max_tokens,
        "temperature": prompt.config.temperature,
    }


def request_key(params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_NAMED = re.compile(r"--([0-9a-f]{12})\.yaml$")
# libyaml's loader when PyYAML was built with it: ten times faster on long answers.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so a recorded answer reads like the note it became."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str)


def dump_recording(record: dict[str, Any]) -> str:
    return yaml.dump(record, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True,
                     width=100_000)


class RecordingProvider:
    """Wraps a real provider and writes each exchange under a folder."""

    def __init__(self, inner: Provider, folder: Path, *, secrets: tuple[str, ...] = ()) -> None:
        self.inner = inner
        self.name = inner.name  # recording does not change who answers
        self.model = inner.model
        self.key_env, self.offline = inner.key_env, inner.offline
        self.folder = folder
        self._secrets = secrets

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        completion = await self.inner.complete(prompt, on_text)
        params = request_params(prompt)
        key = request_key(params)
        record = {
            "key": key,
            "provider": completion.provider,
            "model": completion.model,
            "produced_by": f"{completion.provider} API, model {completion.model}, "
                           f"recorded by sdgen {__version__} --record",
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "topic": prompt.topic.title,
            "persona": prompt.persona,
            "request": params,
            "response": {
                "text": completion.text,
                "finish_reason": completion.finish_reason,
                "usage": {"input_tokens": completion.usage.input_tokens,
                          "output_tokens": completion.usage.output_tokens},
                "created": completion.created,
            },
        }
        text = redact(dump_recording(record), *self._secrets)
        name = f"{safe_segment(prompt.topic.title, 'topic')}--{key[:12]}.yaml"
        atomic_write(self.folder / safe_segment(prompt.persona, "persona") / name, text)
        return completion

    async def aclose(self) -> None:
        await self.inner.aclose()


# A recording holds a request and one answer: the answer is held to ``max_characters`` of its
# request (as online), so a file far larger is no recording. A file whose name gives no key is
# read only for its key, whatever request it is for: it may be this large.
MAX_RECORDING_BYTES = 16 * 1024 * 1024
_MAX_TOKENS = 10**9  # more than any model's context: a count past it is no count


def _text_field(value: object) -> object:
    # YAML reads an unquoted 2026-01-01T10:00:00 as a date: the text it was is kept.
    return value.isoformat() if isinstance(value, date | datetime) else value


class _RecordedUsage(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    input_tokens: int = Field(default=0, ge=0, le=_MAX_TOKENS)
    output_tokens: int = Field(default=0, ge=0, le=_MAX_TOKENS)


class _RecordedResponse(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    text: str
    finish_reason: str | None = Field(default=None, max_length=64)
    usage: _RecordedUsage | None = None
    created: str | None = Field(default=None, max_length=64)

    dates_as_text = field_validator("created", mode="before")(_text_field)


class Recording(BaseModel):
    """What a recording file must hold to be replayed; any other field is not read."""

    model_config = ConfigDict(strict=True, extra="ignore")
    key: str = Field(pattern=r"^[0-9a-f]{64}$")
    provider: str = Field(default="replay", min_length=1, max_length=100)
    model: str = Field(default="unknown", min_length=1, max_length=200)
    recorded_at: str | None = Field(default=None, max_length=64)
    response: _RecordedResponse

    dates_as_text = field_validator("recorded_at", mode="before")(_text_field)


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(x) for x in first["loc"]) or "the file"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    field = f"'{one_line(where, 80)}'"
    if first["type"] == "missing":
        return f"{field} is missing{more}"
    return f"{field}: {one_line(first['msg'], 160)}{more}"


def _completion(record: Recording, path: Path, prompt: Prompt) -> Completion:
    """A recording's answer, held to what its request allows, as an online answer is."""
    response = record.response
    try:
        check_size(len(response.text), prompt)
    except AnswerTooLargeError as exc:
        raise ConfigError(f"{path}: the recorded answer has {len(response.text):,} characters: "
                          f"{exc}") from exc
    usage = response.usage or _RecordedUsage()
    return Completion(
        text=response.text,
        finish_reason=response.finish_reason or "stop",
        usage=plausible_usage(Usage(usage.input_tokens, usage.output_tokens), prompt,
                              response.text, record.provider),
        provider=record.provider,
        model=record.model,
        created=response.created or record.recorded_at or "",
    )


def _request_bound(prompt: Prompt) -> int:
    """The most bytes a recording of this request can be: its messages and its largest answer,
    at four UTF-8 bytes a character, twice over for YAML's quoting and indentation."""
    characters = sum(len(m.content) for m in prompt.messages) + prompt.config.max_characters
    return min(MAX_RECORDING_BYTES, 8 * characters + 64 * 1024)


class ReplayProvider:
    """Serves answers from recordings; never opens a connection.

    It stands in for the provider and model the run is configured with, so a replayed run and
    the recorded one agree on which notes are up to date.
    """

    key_env: str | None = None  # no key: nothing is sent anywhere
    offline = True  # no network: nothing to overlap the CPU work with

    def __init__(self, folder: Path, *, name: str = "replay", model: str = "replay") -> None:
        if not folder.is_dir():
            raise ConfigError(f"{folder}: no recordings folder to replay")
        self.folder = folder
        self.name = name
        self.model = model
        # Files are found by the key prefix in their names and read only when asked for: a
        # thousand 50 KB recordings are not parsed (or held) up front.
        self._by_prefix: dict[str, list[Path]] = {}
        for path in sorted(folder.rglob("*.yaml")):
            match = _NAMED.search(path.name)
            prefix = match.group(1) if match else self._read(path, MAX_RECORDING_BYTES).key[:12]
            self._by_prefix.setdefault(prefix, []).append(path)

    @staticmethod
    def _read(path: Path, limit: int) -> Recording:
        """One recording file, checked; a file that is none is one line naming it."""
        try:
            with path.open("rb") as file:
                raw = file.read(limit + 1)  # never more than the bound, whatever the file says
        except OSError as exc:
            raise ConfigError(f"{path}: unreadable recording: {exc.strerror or exc}") from exc
        if len(raw) > limit:
            raise ConfigError(f"{path}: larger than the {limit:,} bytes a recording of this "
                              "request can be; not read")
        try:
            data = yaml.load(raw.decode("utf-8"), Loader=_Loader)
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: unreadable recording: not UTF-8 text "
                              f"(byte {exc.start:,})") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: unreadable recording: not YAML "
                              f"({one_line(exc, 200)})") from exc
        if not isinstance(data, dict):
            kind = "empty" if data is None else f"a YAML {type(data).__name__}"
            raise ConfigError(f"{path}: not a recording: the file is {kind}, not a mapping")
        try:
            return Recording.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{path}: corrupt recording: {_problem(exc)}") from exc

    def _find(self, key: str, limit: int) -> tuple[Recording, Path] | None:
        for path in self._by_prefix.get(key[:12], []):
            record = self._read(path, limit)
            if record.key == key:
                return record, path
        return None

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        key = request_key(request_params(prompt))
        found = await asyncio.to_thread(self._find, key, _request_bound(prompt))
        if found is None:
            raise ReplayMissError(
                f"no recording for topic {prompt.topic.title!r} (persona {prompt.persona}, "
                f"key {key[:12]}): the prompt or its parameters changed since recording; "
                "record again with --record"
            )
        return _completion(*found, prompt)

    async def aclose(self) -> None:
        return None
