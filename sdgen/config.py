"""Settings, from one visible precedence:

    command line > a note's front matter (regen only) > SDGEN_* environment (the process's, then
    a .env file in the working directory) > sdgen.toml > defaults

API keys follow the same environment rule: a key in `.env` is used when the process has none.
The `.env` file is a layer read into the settings value (``Settings.variable``), never into
``os.environ``: a library caller's process environment is left exactly as it was.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from .budget import Price
from .errors import ConfigError
from .providers import register_secret, url_password

__all__ = ["CONFIG_FILE", "ENV_FIELDS", "ENV_PREFIX", "Settings", "load_settings", "note_layer",
           "with_overrides"]

CONFIG_FILE = "sdgen.toml"
ENV_FILE = ".env"
ENV_PREFIX = "SDGEN_"


class Settings(BaseModel):
    """Every default a run uses; each field can come from any of the four sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str = "openai"
    model: str | None = None
    base_url: str | None = None
    persona: str = "obsidian"
    out: Path = Path("output")
    # Two counts, named apart past this point (see sdgen.jobs): `attempts` becomes
    # answers_per_topic (the first answer plus repairs), `retries` becomes calls_per_request
    # (tries of one HTTP request on 429/5xx/timeouts, the first included).
    attempts: int = Field(default=2, ge=1, le=10)
    continuations: int = Field(default=2, ge=0, le=10)  # follow-ups for an answer cut at the limit
    retries: int = Field(default=5, ge=1, le=20)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int = Field(default=16000, ge=256)
    timeout: float = Field(default=600.0, gt=0)  # seconds per read of the response
    answer_timeout: float = Field(default=1800.0, gt=0)  # seconds per answer, first to last byte
    max_wait: float = Field(default=60.0, ge=0)  # longest pause between retries, Retry-After too
    concurrency: int = Field(default=4, ge=1, le=256)
    rpm: float | None = Field(default=None, gt=0)  # requests per minute, for the whole run
    tpm: float | None = Field(default=None, gt=0)  # tokens per minute (input + output budget)
    workers: int | None = Field(default=None, ge=0, le=64)  # CPU processes; None: auto
    stream: bool = True
    diagram_check: bool = True  # every Mermaid block through Mermaid's own parser
    personas_dir: list[Path] = []
    max_cost: float | None = Field(default=None, gt=0)  # US dollars: no request past it starts
    prices: dict[str, Price] = {}  # per million tokens, for dry-run cost estimates
    # The working directory's .env, as read when these settings were resolved: below the
    # process's environment, and never written into it.
    _dotenv: dict[str, str] = PrivateAttr(default_factory=dict)

    def variable(self, name: str) -> str | None:
        """An environment variable as these settings see it: the process's, else the .env
        file's (where providers' API keys are looked up)."""
        return os.environ[name] if name in os.environ else self._dotenv.get(name)

    def with_dotenv(self, values: Mapping[str, str]) -> Settings:
        """These settings, with the variables of a .env file to look keys up in."""
        copy = self.model_copy()
        copy._dotenv = dict(values)
        return copy


# Every setting but the price table (a table has no sensible one-variable form) reads SDGEN_<NAME>.
ENV_FIELDS = tuple(name for name in Settings.model_fields if name != "prices")


def with_overrides(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    """Settings with some values replaced (library callers' keyword arguments), validated."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings.model_validate({**settings.model_dump(), **given}).with_dotenv(
            settings._dotenv)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid {key}: {first['msg']}") from exc


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ENV_FIELDS:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        values[name] = raw.split(os.pathsep) if name == "personas_dir" else raw
    return values


def _from_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc
    data = data.get("sdgen", data) if isinstance(data.get("sdgen"), dict) else data
    for key in data:
        if key not in Settings.model_fields:
            import difflib

            near = difflib.get_close_matches(str(key), list(Settings.model_fields), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(f"{path}: unknown key {key!r}{hint}")
    return data


def note_layer(meta: Mapping[str, Any], known_providers: Collection[str],
               cli: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a note's front matter says about regenerating it: the provider, server and model
    that wrote it. A provider given on the command line brings its own model and server; a note
    written by a replay or a hand-made recording (no registered provider) says nothing."""
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    layer = {k: meta[k] for k in ("provider", "model", "base_url") if isinstance(meta.get(k), str)}
    if "provider" in cli:
        layer.pop("model", None)  # the note's model belongs to the note's provider
        layer.pop("base_url", None)
    if layer.get("provider") not in known_providers:
        return {}
    return layer


def load_env_file(path: Path) -> dict[str, str]:
    """The variables a .env file sets ({} when there is none). Nothing is written into the
    environment: they are a layer of the settings, below the process's variables. Every value
    that is a key (a name ending in KEY) or a base URL's password is redacted like any other."""
    if not path.is_file():
        return {}
    try:
        from dotenv import dotenv_values
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        return {}
    try:
        values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    for name, value in values.items():
        register_secret(value if name.endswith("KEY") else url_password(value))
    return values


def load_settings(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    note: Mapping[str, Any] | None = None,
) -> tuple[Settings, dict[str, str]]:
    """The settings and, per key, where its value came from. ``note`` is the layer a note's
    front matter gives (see :func:`note_layer`)."""
    config_path = (cwd or Path.cwd()) / CONFIG_FILE
    env_file = (cwd or Path.cwd()) / ENV_FILE
    dotenv = load_env_file(env_file) if env is None else {}
    from_env_file = {name for name in dotenv if name not in os.environ}
    layers = [
        ("sdgen.toml", _from_file(config_path)),
        ("environment", _from_env({**dotenv, **os.environ} if env is None else env)),
        ("note front matter", dict(note or {})),
        ("command line", {k: v for k, v in (cli or {}).items() if v is not None}),
    ]
    merged: dict[str, Any] = {}
    sources = dict.fromkeys(Settings.model_fields, "default")
    for source, values in layers:
        merged.update(values)
        sources.update(dict.fromkeys(values, source))
    try:
        return Settings.model_validate(merged).with_dotenv(dotenv), sources
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        origin = sources.get(key, "settings")
        variable = ENV_PREFIX + key.upper()
        if variable in from_env_file:
            variable += f" (in {env_file})"
        where = {"environment": variable, "sdgen.toml": str(config_path)}.get(
            origin, f"--{key.replace('_', '-')}"
        )
        raise ConfigError(f"{where}: invalid {key}: {first['msg']}") from exc
