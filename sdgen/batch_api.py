"""Provider batch APIs: submit a whole list at batch prices, then collect it in a later process.

`generate --batch-api` submits one request per topic (skipping notes that are up to date) and
keeps what it sent in ``<out>/.sdgen/batches/<batch id>.json``. `sdgen batch status` asks the
provider how far it is; `sdgen batch collect` takes the answers and validates, repairs (online,
through the same provider) and writes them exactly like an online run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .compose import compose
from .errors import ConfigError, PersonaError, ProviderError
from .markdown import split_front_matter
from .personas import Persona, load_persona
from .pipeline import generate_note
from .providers.base import BatchProvider, BatchStatus, Completion, Provider
from .runner import (
    RunDisplay,
    RunOptions,
    RunResult,
    TopicOutcome,
    conclude,
    finish_note,
    input_hash,
)
from .topics import Topic
from .write import atomic_write, note_path

__all__ = ["BatchState", "collect_batches", "list_batches", "submit_batch"]

STATE_DIR = Path(".sdgen") / "batches"


class BatchTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    custom_id: str
    title: str
    category: str | None = None
    question: str | None = None
    context: str | None = None
    persona: str
    path: str
    input_hash: str

    def topic(self) -> Topic:
        return Topic(self.title, self.category, self.question, self.context, self.persona)


class BatchState(BaseModel):
    """What was submitted, so that a later process can collect it."""

    model_config = ConfigDict(extra="forbid")
    batch_id: str
    provider: str
    model: str
    submitted_at: str
    attempts: int
    max_tokens: int
    temperature: float | None
    continuations: int
    personas_dir: list[str] = []
    topics: list[BatchTopic]
    collected_at: str | None = None


def _state_path(out: Path, batch_id: str) -> Path:
    return out / STATE_DIR / f"{batch_id}.json"


def _up_to_date(path: Path, digest: str) -> bool:
    try:
        meta, _, _ = split_front_matter(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False
    return meta.get("input_hash") == digest


def _batchable(provider: Provider) -> BatchProvider:
    if not isinstance(provider, BatchProvider) or not getattr(provider, "batch_api", True):
        raise ConfigError(f"provider {provider.name!r} has no batch API; use 'openai' or "
                          "'anthropic' with --batch-api")
    return provider


async def submit_batch(topics: Sequence[Topic], personas: Mapping[str, Persona],
                       default_persona: str, provider: Provider, out: Path,
                       options: RunOptions, personas_dir: Sequence[Path] = ()) -> BatchState | None:
    """Submit every topic whose note is missing or out of date; None when all are up to date."""
    batcher = _batchable(provider)
    requests, entries = [], []
    taken: set[Path] = set()
    for number, topic in enumerate(topics):
        persona = personas[topic.persona or default_persona]
        if persona.spec.turns:
            raise PersonaError(f"persona {persona.name!r} holds a conversation, which a batch "
                               "cannot; run it online")
        prompt = compose(persona, topic)
        digest = input_hash(prompt, persona, provider, options)
        path = note_path(out, persona.name, topic.category, topic.title, taken)
        if not options.force and _up_to_date(path, digest):
            continue
        custom_id = f"t{number:05d}-{digest[:12]}"  # both providers: [A-Za-z0-9_-]{1,64}
        requests.append((custom_id, prompt))
        entries.append(BatchTopic(custom_id=custom_id, title=topic.title,
                                  category=topic.category, question=topic.question,
                                  context=topic.context, persona=persona.name,
                                  path=str(path.relative_to(out)), input_hash=digest))
    if not requests:
        return None
    try:
        batch_id = await batcher.submit_batch(requests)
    finally:
        await provider.aclose()
    state = BatchState(
        batch_id=batch_id, provider=provider.name, model=provider.model,
        submitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        attempts=options.attempts, max_tokens=options.max_tokens,
        temperature=options.temperature, continuations=options.continuations,
        personas_dir=[str(p) for p in personas_dir], topics=entries)
    atomic_write(_state_path(out, batch_id), state.model_dump_json(indent=2) + "\n")
    return state


def list_batches(out: Path) -> list[BatchState]:
    folder = out / STATE_DIR
    if not folder.is_dir():
        return []
    states = []
    for path in sorted(folder.glob("*.json")):
        try:
            states.append(BatchState.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: unreadable batch record: {exc}") from exc
    return states


async def batch_status(state: BatchState, provider: Provider) -> BatchStatus:
    try:
        return await _batchable(provider).batch_status(state.batch_id)
    finally:
        await provider.aclose()


async def collect_batches(state: BatchState, provider: Provider, out: Path,
                          display: RunDisplay | None = None) -> RunResult | None:
    """Validate, repair and write an ended batch's answers; None while it is still running."""
    started = time.monotonic()
    batcher = _batchable(provider)
    result = RunResult()
    try:
        status = await batcher.batch_status(state.batch_id)
        if not status.ended:
            return None
        answers = await batcher.batch_results(state.batch_id)
        dirs = [Path(p) for p in state.personas_dir]
        personas = {t.persona: load_persona(t.persona, dirs) for t in state.topics}
        if display:
            display.start(len(state.topics))
        for index, entry in enumerate(state.topics):
            outcome = await _collect_one(entry, answers.get(entry.custom_id), personas, provider,
                                         out, state)
            result.outcomes.append(outcome)
            if display:
                display.finish(index, outcome)
    finally:
        if display:
            display.close()
        await provider.aclose()
    topics = [t.topic() for t in state.topics]
    conclude(out, topics, [personas[t.persona] for t in state.topics],
             [out / t.path for t in state.topics], result, started)
    state.collected_at = datetime.now(UTC).isoformat(timespec="seconds")
    atomic_write(_state_path(out, state.batch_id), state.model_dump_json(indent=2) + "\n")
    return result


async def _collect_one(entry: BatchTopic, answer: Completion | str | None,
                       personas: Mapping[str, Persona], provider: Provider, out: Path,
                       state: BatchState) -> TopicOutcome:
    topic = entry.topic()
    if not isinstance(answer, Completion):
        reason = answer or "the batch returned no answer for this topic"
        return TopicOutcome(topic, "failed", reason=f"batch: {reason}")
    persona = personas[entry.persona]
    try:
        draft = await generate_note(persona, topic, provider, state.attempts,
                                    prompt=compose(persona, topic),
                                    continuations=state.continuations, first=answer)
    except ProviderError as exc:  # an online repair that failed
        return TopicOutcome(topic, "failed", reason=str(exc))
    return finish_note(out, out / entry.path, draft, entry.input_hash, {})
