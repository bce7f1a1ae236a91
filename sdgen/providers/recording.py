"""Record every exchange with a provider to readable YAML files, and replay them with no network.

A recording is keyed by a hash of the normalised request: the messages and the parameters that
change the answer (output budget, temperature). Which provider and model answered is kept as
metadata: the key says what was asked, the file says who answered. No header, key or other secret
is ever written: only the messages and those parameters are.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .._version import __version__
from ..errors import ConfigError, ReplayMissError
from ..files import atomic_write, safe_segment
from ..prompt import Prompt
from .base import Completion, Provider, TextCallback, Usage, redact

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


def _completion(record: dict[str, Any]) -> Completion:
    """A recording's answer; a recording that lacks what an answer needs is one clear line."""
    where = record.get("_path", "a recording")
    response = record.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("text"), str):
        raise ConfigError(f"{where}: corrupt recording: 'response.text' is missing or not text")
    usage = response.get("usage") or {}
    try:
        tokens = Usage(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{where}: corrupt recording: bad 'response.usage' ({exc})") from exc
    return Completion(
        text=response["text"],
        finish_reason=str(response.get("finish_reason") or "stop"),
        usage=tokens,
        provider=str(record.get("provider", "replay")),
        model=str(record.get("model", "unknown")),
        created=str(response.get("created") or record.get("recorded_at", "")),
    )


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
            prefix = match.group(1) if match else self._read(path).get("key", "")[:12]
            self._by_prefix.setdefault(prefix, []).append(path)

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: unreadable recording: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def _find(self, key: str) -> dict[str, Any] | None:
        for path in self._by_prefix.get(key[:12], []):
            record = self._read(path)
            if record.get("key") == key:
                return {**record, "_path": str(path)}
        return None

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        key = request_key(request_params(prompt))
        record = await asyncio.to_thread(self._find, key)
        if record is None:
            raise ReplayMissError(
                f"no recording for topic {prompt.topic.title!r} (persona {prompt.persona}, "
                f"key {key[:12]}): the prompt or its parameters changed since recording; "
                "record again with --record"
            )
        return _completion(record)

    async def aclose(self) -> None:
        return None
