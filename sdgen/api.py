"""The library API: what the CLI calls, and what a user imports to generate notes from Python."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .batch import RunResult, TopicOutcome, run_batch
from .config import Settings, load_settings
from .errors import NoteError, OutputError
from .index import Topic
from .markdown import parse_document
from .personas import Persona, load_persona
from .providers import create_provider
from .providers.base import ProviderSettings
from .validate import Report, validate_document

__all__ = ["generate", "provider_settings", "validate_note"]


def provider_settings(settings: Settings, api_key: str | None = None) -> ProviderSettings:
    return ProviderSettings(
        provider=settings.provider, model=settings.model, base_url=settings.base_url,
        api_key=api_key, temperature=settings.temperature, max_tokens=settings.max_tokens,
        timeout=settings.timeout, attempts=settings.retries, max_wait=settings.max_wait,
        stream=settings.stream,
    )


def _check_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create output folder: {exc.strerror}") from exc
    if not out.is_dir():
        raise OutputError(f"{out}: not a folder")
    probe = out / ".sdgen-write-test"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{out}: output folder is not writable: {exc.strerror}") from exc


def generate(
    topics: Sequence[Topic | str],
    *,
    settings: Settings | None = None,
    on_outcome: Callable[[TopicOutcome], None] | None = None,
    **overrides: Any,
) -> RunResult:
    """Generate one note per topic; keyword overrides win over every other settings source."""
    if settings is None:
        settings, _ = load_settings(overrides)
    elif overrides:
        settings = settings.model_copy(update=overrides)
    items = [t if isinstance(t, Topic) else Topic(t) for t in topics]
    persona: Persona = load_persona(settings.persona, settings.personas_dir)
    provider = create_provider(provider_settings(settings))
    _check_out(settings.out)
    return asyncio.run(
        run_batch(items, persona, provider, settings.out, attempts=settings.attempts,
                  concurrency=settings.concurrency, on_outcome=on_outcome)
    )


def validate_note(path: Path, persona: str | None = None,
                  personas_dir: Sequence[Path] = ()) -> Report:
    """Validate a note on disk against its persona (from the front matter when not given)."""
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError as exc:
        raise NoteError(f"{path}: is a directory, not a note") from exc
    except FileNotFoundError as exc:
        raise NoteError(f"{path}: no such note") from exc
    except UnicodeDecodeError as exc:
        raise NoteError(f"{path}: not UTF-8 text, so not a Markdown note") from exc
    except OSError as exc:
        raise NoteError(f"{path}: cannot read: {exc.strerror}") from exc
    doc = parse_document(text)
    name = persona or doc.front_matter.get("persona")
    if not isinstance(name, str) or not name:
        raise NoteError(f"{path}: no persona in the note's front matter; pass --persona NAME")
    return validate_document(doc, load_persona(name, personas_dir).spec)
