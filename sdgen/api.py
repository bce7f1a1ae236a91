"""The library API: what the CLI calls, and what a user imports to generate notes from Python."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .batch_api import BatchState, batch_status, collect_batches, list_batches, submit_batch
from .chat import ChatIO, run_chat
from .compose import Prompt, compose
from .config import Settings, load_settings, with_overrides
from .errors import ConfigError, NoteError, OutputError
from .estimate import Estimate, estimate
from .limits import RateLimiter
from .markdown import parse_document
from .personas import Persona, load_persona
from .providers import create_provider, default_model, provider_names
from .providers.base import BatchStatus, Provider, ProviderSettings, known_secrets
from .providers.recording import RecordingProvider, ReplayProvider
from .regen import RegenResult, read_note, read_note_text, regenerate, resolve_targets
from .runner import RunDisplay, RunOptions, RunResult, TopicOutcome, run_batch
from .topics import Topic
from .validate import Report, validate_document

__all__ = ["batches", "chat", "collect", "generate", "plan", "provider_settings",
           "regenerate_sections", "submit", "validate_note"]


def provider_settings(settings: Settings, api_key: str | None = None) -> ProviderSettings:
    limiter = RateLimiter(settings.rpm, settings.tpm)
    return ProviderSettings(
        provider=settings.provider, model=settings.model, base_url=settings.base_url,
        api_key=api_key, temperature=settings.temperature, max_tokens=settings.max_tokens,
        timeout=settings.timeout, attempts=settings.retries, max_wait=settings.max_wait,
        stream=settings.stream, limiter=limiter if limiter.active else None,
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


def _resolve(topics: Sequence[Topic | str], overrides: dict[str, Any],
             settings: Settings | None) -> tuple[Settings, list[Topic], dict[str, Persona]]:
    if settings is None:
        settings, _ = load_settings(overrides)
    elif overrides:
        settings = with_overrides(settings, overrides)
    items = [t if isinstance(t, Topic) else Topic(t) for t in topics]
    names = dict.fromkeys([settings.persona, *(t.persona for t in items if t.persona)])
    personas = {name: load_persona(name, settings.personas_dir) for name in names if name}
    # A broken template fails here, with its file named, before anything is written.
    for name, persona in personas.items():
        sample = next((t for t in items if (t.persona or settings.persona) == name), None)
        compose(persona, sample or Topic("Preflight"))
    return settings, items, personas


def _provider(settings: Settings, record: Path | None, replay: Path | None) -> Provider:
    if record and replay:
        raise ConfigError("--record and --replay cannot be used together")
    if replay:
        return ReplayProvider(replay, max_tokens=settings.max_tokens,
                              temperature=settings.temperature, name=settings.provider,
                              model=settings.model or default_model(settings.provider) or "")
    provider = create_provider(provider_settings(settings))
    if record:
        return RecordingProvider(provider, record, max_tokens=settings.max_tokens,
                                 temperature=settings.temperature, secrets=known_secrets())
    return provider


def generate(
    topics: Sequence[Topic | str],
    *,
    settings: Settings | None = None,
    display: RunDisplay | None = None,
    record: Path | None = None,
    replay: Path | None = None,
    force: bool = False,
    **overrides: Any,
) -> RunResult:
    """Generate one note per topic; keyword overrides win over every other settings source.

    ``record`` stores every exchange under a folder; ``replay`` answers from such a folder with
    no network and no key (strict: a request with no recording fails its topic). ``force``
    makes every note again, even those whose inputs are unchanged.
    """
    settings, items, personas = _resolve(topics, overrides, settings)
    provider = _provider(settings, record, replay)
    _check_out(settings.out)
    return asyncio.run(run_batch(items, personas, settings.persona, provider, settings.out,
                                 _options(settings, force), display))


def _options(settings: Settings, force: bool = False) -> RunOptions:
    return RunOptions(attempts=settings.attempts, concurrency=settings.concurrency,
                      max_tokens=settings.max_tokens, temperature=settings.temperature,
                      force=force, prices=settings.prices, workers=settings.workers,
                      continuations=settings.continuations)


def submit(topics: Sequence[Topic | str], *, settings: Settings | None = None,
           force: bool = False, **overrides: Any) -> BatchState | None:
    """Submit the topics through the provider's batch API (None: every note is up to date)."""
    settings, items, personas = _resolve(topics, overrides, settings)
    provider = _provider(settings, None, None)
    _check_out(settings.out)
    return asyncio.run(submit_batch(items, personas, settings.persona, provider, settings.out,
                                    _options(settings, force), settings.personas_dir))


def _batch_provider(state: BatchState, settings: Settings) -> Provider:
    return _provider(settings.model_copy(update={"provider": state.provider,
                                                 "model": state.model}), None, None)


def batches(out: Path | None = None, **overrides: Any) -> list[tuple[BatchState, BatchStatus]]:
    """Every batch submitted into an output folder, with where it stands now."""
    settings, _ = load_settings(overrides)
    folder = out or settings.out
    return [(state, asyncio.run(batch_status(state, _batch_provider(state, settings))))
            for state in list_batches(folder) if not state.collected_at]


def collect(out: Path | None = None, display: RunDisplay | None = None,
            **overrides: Any) -> list[tuple[BatchState, RunResult | None]]:
    """Collect every ended, uncollected batch of an output folder (None: still running)."""
    settings, _ = load_settings(overrides)
    folder = out or settings.out
    return [(state, asyncio.run(collect_batches(state, _batch_provider(state, settings), folder,
                                                display)))
            for state in list_batches(folder) if not state.collected_at]


def plan(topics: Sequence[Topic | str], *, settings: Settings | None = None,
         **overrides: Any) -> list[tuple[Prompt, Estimate]]:
    """What a run would send, per topic, with token and cost estimates; makes no call."""
    settings, items, personas = _resolve(topics, overrides, settings)
    model = settings.model or default_model(settings.provider) or "unknown"
    planned = []
    for topic in items:
        prompt = compose(personas[topic.persona or settings.persona], topic)
        planned.append((prompt, estimate(prompt, model, settings.max_tokens, settings.prices)))
    return planned


def validate_note(path: Path, persona: str | None = None,
                  personas_dir: Sequence[Path] = ()) -> Report:
    """Validate a note on disk against its persona (from the front matter when not given)."""
    # A raw model answer validates as its note would: preamble, wrapper fence and sign-off apart.
    doc = parse_document(read_note_text(path), raw_answer=True)
    name = persona or doc.front_matter.get("persona")
    if not isinstance(name, str) or not name:
        raise NoteError(f"{path}: no persona in the note's front matter; pass --persona NAME")
    return validate_document(doc, load_persona(name, personas_dir).spec)


def regenerate_sections(
    path: Path,
    sections: Sequence[str] = (),
    *,
    invalid: bool = False,
    instructions: str | None = None,
    force: bool = False,
    settings: Settings | None = None,
    record: Path | None = None,
    replay: Path | None = None,
    **overrides: Any,
) -> RegenResult:
    """Regenerate sections of a note in place (by loose name or number, or every invalid one).

    Provider and model come from the note's front matter unless given.
    """
    base, _ = load_settings()
    note = read_note(path, None, overrides.get("personas_dir") or (settings or base).personas_dir)
    from_note = {k: note.meta[k] for k in ("provider", "model")
                 if isinstance(note.meta.get(k), str) and overrides.get(k) is None}
    if overrides.get("provider"):
        from_note.pop("model", None)  # the note's model belongs to the note's provider
    if from_note.get("provider") not in provider_names():
        from_note = {}  # written by a replay or a hand-made recording: use the configured one
    settings = with_overrides(with_overrides(settings or base, from_note), overrides)
    targets = resolve_targets(note, sections, invalid)
    provider = _provider(settings, record, replay)

    async def run() -> RegenResult:
        try:
            return await regenerate(note, targets, provider, instructions=instructions,
                                    attempts=settings.attempts, force=force)
        finally:
            await provider.aclose()

    return asyncio.run(run())


def chat(topic: str, io: ChatIO, *, settings: Settings | None = None, record: Path | None = None,
         replay: Path | None = None, **overrides: Any) -> TopicOutcome:
    """Hold a conversation persona's interview with a person, then write the note."""
    overrides.setdefault("persona", "interview")
    settings, _, personas = _resolve([], overrides, settings)
    provider = _provider(settings, record, replay)
    _check_out(settings.out)

    async def run() -> TopicOutcome:
        try:
            return await run_chat(personas[settings.persona], topic, provider, settings.out, io,
                                  settings.attempts)
        finally:
            await provider.aclose()

    return asyncio.run(run())
