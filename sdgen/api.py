"""The library API: what the CLI calls, and what a user imports to generate notes from Python."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ._files import NoteLock, remove_stale_temp_files
from .budget import CappedProvider, Estimate, Price, SpendingCap, estimate, price_for
from .check import Report, ValidationOptions, ensure_engine, validate_document
from .compose import Prompt, Topic, load_persona
from .config import Settings, load_settings, note_layer, with_overrides
from .errors import ConfigError, NoteError, OutputError
from .markdown import parse_document
from .providers import (
    BatchStatus,
    Provider,
    ProviderSettings,
    RateLimiter,
    RecordingProvider,
    ReplayProvider,
    create_provider,
    default_model,
    key_variable,
    known_secrets,
    provider_names,
    register_secret,
    url_password,
)
from .repair import TopicJob, answer_policy, call_config, validation_options
from .run import (
    BatchState,
    ChatIO,
    RegenResult,
    RunDisplay,
    RunOptions,
    RunResult,
    batch_status,
    collect_batches,
    list_batches,
    load_personas,
    near_duplicates,
    plan_jobs,
    regenerate,
    resolve_targets,
    run_chat,
    run_jobs,
    section_indexes,
    submit_batch,
)
from .site import SiteResult
from .site import build_site as build_static_site
from .vault import (
    INDEX_TAG,
    LinkReport,
    TopicOutcome,
    link_vault,
    public_url,
    read_note,
    read_note_text,
    vault_root,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["batches", "build_site", "cap_covers", "chat", "collect", "generate", "link_notes", "plan",
           "provider_settings",
           "regenerate_sections", "submit", "validate_note"]


def _run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code: on this thread, or, when this thread
    already runs an event loop (a notebook, an async application), on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sdgen") as pool:
        return pool.submit(asyncio.run, main).result()


# The base URL each built-in provider's SDK reads from the environment when none is given.
_SDK_BASE_URL = {"openai": "OPENAI_BASE_URL", "openai-compatible": "OPENAI_BASE_URL",
                 "anthropic": "ANTHROPIC_BASE_URL"}


def provider_settings(settings: Settings) -> ProviderSettings:
    """How to reach the configured provider: its key read from its own variable, in the
    process's environment or else the settings' .env layer (which never enters os.environ)."""
    limiter = RateLimiter(settings.rpm, settings.tpm)
    variable = key_variable(settings.provider)
    key = settings.variable(variable) if variable else None
    base_url = settings.base_url or settings.variable(_SDK_BASE_URL.get(settings.provider, ""))
    for secret in (key, url_password(base_url)):
        register_secret(secret)
    return ProviderSettings(
        provider=settings.provider, model=settings.model, base_url=base_url or None,
        api_key=key or None, stream=settings.stream, call=call_config(settings),
        limiter=limiter if limiter.active else None,
    )


def _check_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create output folder: {exc.strerror}") from exc
    if not out.is_dir():
        raise OutputError(f"{out}: not a folder")
    try:  # a probe of its own: runs into the same folder at once do not race on one name
        fd, probe = tempfile.mkstemp(dir=out, prefix=".sdgen-write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{out}: output folder is not writable: {exc.strerror}") from exc
    remove_stale_temp_files(out)


def _settings(overrides: dict[str, Any], settings: Settings | None) -> Settings:
    if settings is None:
        return load_settings(overrides)[0]
    return with_overrides(settings, overrides) if overrides else settings


def _jobs(topics: Sequence[Topic | str], settings: Settings) -> list[TopicJob]:
    """Every topic resolved once (persona, composed prompt, call config, path): a broken
    template (or a diagram parser that cannot start) fails here, before anything is written."""
    if settings.diagram_check:
        ensure_engine()
    items = [t if isinstance(t, Topic) else Topic(t) for t in topics]
    jobs = plan_jobs(items, load_personas(settings, items), settings.persona,
                     call_config(settings), settings.out)
    for names in near_duplicates(jobs, settings.out):
        log.warning("topics whose names nearly coincide each get a note of their own: %s",
                    ", ".join(repr(n) for n in names))
    return jobs


def _provider(settings: Settings, record: Path | None, replay: Path | None) -> Provider:
    if record and replay:
        raise ConfigError("--record and --replay cannot be used together")
    if replay:
        return ReplayProvider(replay, name=settings.provider,
                              model=settings.model or default_model(settings.provider) or "")
    provider = create_provider(provider_settings(settings))
    if record:
        return RecordingProvider(provider, record, secrets=known_secrets())
    return provider


def _options(settings: Settings, force: bool = False) -> RunOptions:
    return RunOptions(policy=answer_policy(settings), concurrency=settings.concurrency,
                      force=force, prices=settings.prices, workers=settings.workers,
                      base_url=public_url(settings.base_url))


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
    settings = _settings(overrides, settings)
    jobs = _jobs(topics, settings)
    provider = _capped(_provider(settings, record, replay), settings)
    _check_out(settings.out)
    return _run_async(run_jobs(jobs, provider, settings.out, _options(settings, force), display))


def _price(settings: Settings) -> Price:
    """The list price of the configured model; with a spending cap set, an unknown price is an
    error before any call."""
    model = settings.model or default_model(settings.provider) or "unknown"
    price = price_for(model, settings.prices)
    if price is None:
        raise ConfigError(f"--max-cost needs the price of model {model!r}: add it to sdgen.toml "
                          f'as [prices."{model}"] with input = and output = (US dollars per '
                          "million tokens)")
    return price


def _capped(provider: Provider, settings: Settings) -> Provider:
    """The provider under the run's spending cap, when one is set (a replay spends nothing)."""
    if settings.max_cost is None or provider.offline:
        return provider
    return CappedProvider(provider, SpendingCap(settings.max_cost, _price(settings)))


def cap_covers(planned: Sequence[tuple[Prompt, Estimate]], settings: Settings) -> bool | None:
    """Whether the spending cap covers the worst case of a planned run (None: no cap set)."""
    if settings.max_cost is None:
        return None
    _price(settings)  # an unknown price is an error, not a guess
    return sum(e.cost or 0.0 for _, e in planned) <= settings.max_cost


def submit(topics: Sequence[Topic | str], *, settings: Settings | None = None,
           force: bool = False, **overrides: Any) -> BatchState | None:
    """Submit the topics through the provider's batch API (None: every note is up to date)."""
    settings = _settings(overrides, settings)
    jobs = _jobs(topics, settings)
    provider = _provider(settings, None, None)
    cap = SpendingCap(settings.max_cost, _price(settings)) if settings.max_cost else None
    _check_out(settings.out)
    return _run_async(submit_batch(jobs, provider, settings.out, answer_policy(settings),
                                    call_config(settings), force, settings.personas_dir, cap))


def _batch_provider(state: BatchState, settings: Settings) -> Provider:
    return _provider(settings.model_copy(update={"provider": state.provider,
                                                 "model": state.model}), None, None)


def batches(out: Path | None = None, **overrides: Any) -> list[tuple[BatchState, BatchStatus]]:
    """Every batch submitted into an output folder, with where it stands now."""
    settings, _ = load_settings(overrides)
    folder = out or settings.out
    return [(state, _run_async(batch_status(state, _batch_provider(state, settings))))
            for state in list_batches(folder) if not state.collected_at]


def collect(out: Path | None = None, display: RunDisplay | None = None,
            **overrides: Any) -> list[tuple[BatchState, RunResult | None]]:
    """Collect every ended, uncollected batch of an output folder (None: still running)."""
    settings, _ = load_settings(overrides)
    folder = out or settings.out
    collected = []
    for state in list_batches(folder):
        if state.collected_at:
            continue
        its_own = settings.model_copy(update={"provider": state.provider, "model": state.model})
        cap = SpendingCap(settings.max_cost, _price(its_own)) if settings.max_cost else None
        collected.append((state, _run_async(collect_batches(
            state, _batch_provider(state, settings), folder, call_config(settings),
            answer_policy(settings), display, cap, settings.prices))))
    return collected


def plan(topics: Sequence[Topic | str], *, settings: Settings | None = None,
         **overrides: Any) -> list[tuple[Prompt, Estimate]]:
    """What a run would send, per topic, with token and cost estimates; makes no call."""
    settings = _settings(overrides, settings)
    model = settings.model or default_model(settings.provider) or "unknown"
    return [(job.prompt, estimate(job.prompt, model, settings.prices))
            for job in _jobs(topics, settings)]


def validate_note(path: Path, persona: str | None = None, personas_dir: Sequence[Path] = (),
                  *, diagram_check: bool = True, topic: str | None = None) -> Report:
    """Validate a note on disk against its persona (from the front matter when not given), and
    against its topic (``topic``, else the front matter's ``topic``)."""
    # A raw model answer validates as its note would: preamble, wrapper fence and sign-off apart.
    doc = parse_document(read_note_text(path), raw_answer=True)
    meta = doc.front_matter
    if INDEX_TAG in (meta.get("tags") or []):
        return Report(valid=True, persona=str(meta.get("persona") or ""), sections=[],
                      kind="index")
    name = persona or meta.get("persona")
    if not isinstance(name, str) or not name:
        raise NoteError(f"{path}: no persona in the note's front matter; pass --persona NAME")
    if diagram_check:
        ensure_engine()  # a broken install is one line here, not a crash on the first diagram
    title = topic or meta.get("topic")
    aliases = meta.get("aliases")
    aliases = aliases if isinstance(aliases, list) else []
    about = Topic(str(title), aliases=tuple(map(str, aliases))) if title else None
    return validate_document(doc, load_persona(name, personas_dir).spec,
                             ValidationOptions(diagram_check=diagram_check), about)


def link_notes(out: Path | None = None, **overrides: Any) -> LinkReport:
    """Link the notes of an output folder to each other (idempotent: a rerun with nothing new
    changes no byte); hand-edited notes are listed, never rewritten."""
    folder = out or load_settings(overrides)[0].out
    if not folder.is_dir():
        raise OutputError(f"{folder}: {'not a folder' if folder.exists() else 'no such output folder'}")
    return link_vault(folder)


def build_site(out: Path | None = None, site: Path = Path("site"), *, diagram_check: bool = True,
               source: Path | None = None, **overrides: Any) -> SiteResult:
    """Build the static website of an output folder (needs ``sdgen[site]``); see ``sdgen.site``."""
    return build_static_site(out or load_settings(overrides)[0].out, site, diagram_check=diagram_check,
                 source=source)


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

    Provider and model come from the note's front matter unless given (the config loader's
    "note front matter" layer).
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    base = settings or load_settings(given)[0]
    note = read_note(path, None, base.personas_dir)
    section_indexes(note, sections)  # a misspelt section is said before any other setting is
    layer = note_layer(note.meta, provider_names(), given)
    if settings is None:
        settings = load_settings(given, note=layer)[0]
    else:
        settings = with_overrides(with_overrides(settings, layer), given)
    if settings.diagram_check:
        ensure_engine()
    targets = resolve_targets(note, sections, invalid, validation_options(settings))
    topic = note.topic()
    job = TopicJob(topic, note.persona, call_config(settings), note.path)
    provider = _capped(_provider(settings, record, replay), settings)

    root = vault_root(note.path, note.persona.name)

    async def run() -> RegenResult:
        try:
            return await regenerate(note, job, targets, provider, policy=answer_policy(settings),
                                    instructions=instructions, force=force, root=root)
        finally:
            await provider.aclose()

    # The note's lock, as a run holds it while it asks for a note: no run into the same vault
    # replaces it while its sections are asked for.
    lock = NoteLock(root, note.path.resolve()) if root is not None else None
    while lock is not None and not lock.try_acquire():
        time.sleep(0.2)
    try:
        result = _run_async(run())
    finally:
        if lock is not None:
            lock.release()
    if result.written and root is not None:
        link_vault(root, only=note.path)  # new sections link the vault as the rest does
    return result


def chat(topic: str, io: ChatIO, *, settings: Settings | None = None, record: Path | None = None,
         replay: Path | None = None, **overrides: Any) -> TopicOutcome:
    """Hold a conversation persona's interview with a person, then write the note."""
    overrides.setdefault("persona", "interview")
    settings = _settings(overrides, settings)
    job = _jobs([Topic(topic)], settings)[0]
    provider = _provider(settings, record, replay)
    _check_out(settings.out)

    async def run() -> TopicOutcome:
        try:
            return await run_chat(job, provider, settings.out, io, answer_policy(settings))
        finally:
            await provider.aclose()

    return _run_async(run())
