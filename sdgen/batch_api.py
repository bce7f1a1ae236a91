"""Provider batch APIs: submit a whole list at batch prices, then collect it in a later process.

`generate --batch-api` submits one request per topic (skipping notes that are up to date) and
keeps what it sent in ``<out>/.sdgen/batches/<batch id>.json``. `sdgen batch status` asks the
provider how far it is; `sdgen batch collect` takes the answers and validates, repairs (online,
through the same provider) and writes them exactly like an online run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .errors import AnswerRejectedError, ConfigError, PersonaError, ProviderError
from .files import atomic_write
from .jobs import AnswerPolicy, TopicJob
from .notes import NoteDraft, TopicOutcome, input_hash, recorded_input_hash, save_note
from .personas import load_persona
from .pipeline import refine, scripted_first_answer
from .prompt import CallConfig
from .providers.base import BatchProvider, BatchStatus, Completion, Provider
from .report import RunDisplay, RunResult, finish_run
from .spending import CappedProvider, SpendingCap, SpendingCapReached
from .topics import Topic

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


def _batchable(provider: Provider) -> BatchProvider:
    if not isinstance(provider, BatchProvider):
        raise ConfigError(f"provider {provider.name!r} has no batch API; use 'openai' or "
                          "'anthropic' with --batch-api")
    return provider


async def submit_batch(jobs: Sequence[TopicJob], provider: Provider, out: Path,
                       policy: AnswerPolicy, config: CallConfig, force: bool = False,
                       personas_dir: Sequence[Path] = (),
                       cap: SpendingCap | None = None) -> BatchState | None:
    """Submit every job whose note is missing or out of date; None when all are up to date.
    With a spending cap, a batch whose worst case it does not cover is not sent."""
    batcher = _batchable(provider)
    requests, entries = [], []
    for number, job in enumerate(jobs):
        if job.persona.spec.turns:
            raise PersonaError(f"persona {job.persona.name!r} holds a conversation, which a "
                               "batch cannot; run it online")
        digest = input_hash(job.prompt, job.persona.spec, provider.name, provider.model)
        if not force and recorded_input_hash(job.path) == digest:
            continue
        custom_id = f"t{number:05d}-{digest[:12]}"  # both providers: [A-Za-z0-9_-]{1,64}
        requests.append((custom_id, job.prompt))
        topic = job.topic
        entries.append(BatchTopic(custom_id=custom_id, title=topic.title,
                                  category=topic.category, question=topic.question,
                                  context=topic.context, persona=job.persona.name,
                                  path=str(job.path.relative_to(out)), input_hash=digest))
    if not requests:
        return None
    try:
        if cap is not None:
            cap.cover_whole([prompt for _, prompt in requests], "the batch")
        batch_id = await batcher.submit_batch(requests)
    finally:
        await provider.aclose()
    state = BatchState(
        batch_id=batch_id, provider=provider.name, model=provider.model,
        submitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        attempts=policy.answers_per_topic, max_tokens=config.max_tokens,
        temperature=config.temperature, continuations=policy.continuations,
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


def _jobs(state: BatchState, out: Path, config: CallConfig) -> list[TopicJob]:
    """The submitted topics as jobs again, composed with the submitted budget and temperature
    (an online repair asks the way the batch did)."""
    config = replace(config, max_tokens=state.max_tokens, temperature=state.temperature)
    dirs = [Path(p) for p in state.personas_dir]
    personas = {name: load_persona(name, dirs) for name in {t.persona for t in state.topics}}
    return [TopicJob(t.topic(), personas[t.persona], config, out / t.path) for t in state.topics]


async def collect_batches(state: BatchState, provider: Provider, out: Path, config: CallConfig,
                          display: RunDisplay | None = None,
                          cap: SpendingCap | None = None) -> RunResult | None:
    """Validate, repair and write an ended batch's answers; None while it is still running.
    Online repairs are held against the spending cap, when one is set."""
    started = time.monotonic()
    batcher = _batchable(provider)
    repairer = CappedProvider(provider, cap) if cap else provider
    result = RunResult()
    policy = AnswerPolicy(state.attempts, state.continuations)
    try:
        status = await batcher.batch_status(state.batch_id)
        if not status.ended:
            return None
        answers = await batcher.batch_results(state.batch_id)
        jobs = _jobs(state, out, config)
        if display:
            display.start(len(jobs))
        for index, (entry, job) in enumerate(zip(state.topics, jobs, strict=True)):
            outcome, capped = await _collect_one(job, entry, answers.get(entry.custom_id),
                                                 repairer, out, policy)
            result.capped = result.capped or capped
            result.outcomes.append(outcome)
            if display:
                display.finish(index, outcome)
    finally:
        if display:
            display.close()
        await provider.aclose()
    finish_run(out, jobs, result, started)
    state.collected_at = datetime.now(UTC).isoformat(timespec="seconds")
    atomic_write(_state_path(out, state.batch_id), state.model_dump_json(indent=2) + "\n")
    return result


async def _collect_one(job: TopicJob, entry: BatchTopic, answer: Completion | str | None,
                       provider: Provider, out: Path,
                       policy: AnswerPolicy) -> tuple[TopicOutcome, str | None]:
    """One topic's batch answer, checked, repaired online if it must be, and written; with the
    spending cap's message when a repair could not be asked for under it."""
    if not isinstance(answer, Completion):
        reason = answer or "the batch returned no answer for this topic"
        return TopicOutcome(job.topic, "failed", reason=f"batch: {reason}"), None
    draft = NoteDraft(job.topic, job.persona.name, job.prompt.prompt_hash)
    capped = None
    try:
        await refine(job, provider, policy,
                     scripted_first_answer(job, provider, draft, policy, given=answer), draft)
    except AnswerRejectedError:
        pass  # kept as a draft, with its report
    except SpendingCapReached as exc:
        capped = str(exc)  # the answer paid for is kept as it stands (a draft if invalid)
    except ProviderError as exc:  # an online repair that failed
        return TopicOutcome(job.topic, "failed", reason=str(exc)), None
    return save_note(out, job.path, draft, entry.input_hash), capped
