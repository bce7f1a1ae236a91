"""Provider batch APIs: submit a whole list at batch prices, then collect it in a later process.

`generate --batch-api` submits one request per topic (skipping notes that are up to date) and
keeps what it sent in ``<out>/.sdgen/batches/<batch id>.json``. `sdgen batch status` asks the
provider how far it is; `sdgen batch collect` takes the answers and validates, repairs (online,
through the same provider) and writes them exactly like an online run.

The state file and the results are both read as hostile input: each note path is confined to its
persona's folder, and each result line is its own outcome. A topic the batch could not finish
stays in the state file, so that collecting again, or a resubmission, can finish it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .._files import atomic_write, inside, safe_segment
from ..budget import CappedProvider, Price, SpendingCap, SpendingCapReached
from ..compose import CallConfig, Topic, load_persona
from ..errors import (
    AnswerRejectedError,
    ConfigError,
    PersonaError,
    ProviderCallError,
    ProviderError,
)
from ..providers import (
    AnswerTooLargeError,
    BatchProvider,
    BatchStatus,
    Completion,
    Provider,
    check_size,
    one_line,
    plausible_usage,
)
from ..repair import AnswerPolicy, NoteDraft, TopicJob, refine, scripted_first_answer
from ..vault import INDEX_NOTE, TopicOutcome, input_hash, recorded_input_hash, save_note
from ._report import RunDisplay, RunResult, finish_run

__all__ = ["BatchState", "batch_status", "collect_batches", "list_batches", "submit_batch"]

STATE_DIR = Path(".sdgen") / "batches"
# Ids name the state file and travel in the provider's URLs: a name, never a path.
_ID = r"^[A-Za-z0-9_-]{1,200}$"
log = logging.getLogger("sdgen")


class BatchTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    custom_id: str = Field(pattern=_ID)
    title: str
    category: str | None = None
    question: str | None = None
    context: str | None = None
    persona: str
    path: str
    input_hash: str
    failed: str | None = None  # why an earlier collect could not finish it

    def topic(self) -> Topic:
        return Topic(self.title, self.category, self.question, self.context, self.persona)


class BatchState(BaseModel):
    """What was submitted, so that a later process can collect it."""

    model_config = ConfigDict(extra="forbid")
    batch_id: str = Field(pattern=_ID)
    provider: str
    model: str
    submitted_at: str
    attempts: int
    max_tokens: int
    temperature: float | None
    continuations: int
    personas_dir: list[str] = []
    topics: list[BatchTopic]  # after a collect, only those it could not finish
    collected_at: str | None = None
    _file: Path | None = PrivateAttr(default=None)  # the file it was read from

    def save(self, out: Path) -> None:
        """Write it back where it was read from (a new state: under its batch id)."""
        atomic_write(self._file or _state_path(out, self.batch_id),
                     self.model_dump_json(indent=2) + "\n")


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
    if not isinstance(batch_id, str) or not re.fullmatch(_ID, batch_id):
        raise ProviderCallError(
            f"{provider.name}: the batch was submitted, but the server named it "
            f"{one_line(repr(batch_id), 80)}, which is no batch id: nothing could be kept to "
            "collect it by; cancel it in the provider's console", provider=provider.name)
    state = BatchState(
        batch_id=batch_id, provider=provider.name, model=provider.model,
        submitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        attempts=policy.answers_per_topic, max_tokens=config.max_tokens,
        temperature=config.temperature, continuations=policy.continuations,
        personas_dir=[str(p) for p in personas_dir], topics=entries)
    state.save(out)
    return state


def list_batches(out: Path) -> list[BatchState]:
    """The batches submitted into ``out``, newest first: a resubmission of what an older
    batch could not finish is collected before it, so the older one finds the note written."""
    folder = out / STATE_DIR
    if not folder.is_dir():
        return []
    states = []
    for path in sorted(folder.glob("*.json")):
        try:
            state = BatchState.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: unreadable batch record: {one_line(exc)}") from exc
        state._file = path
        states.append(state)
    return sorted(states, key=lambda s: (s.submitted_at, s.batch_id), reverse=True)


async def batch_status(state: BatchState, provider: Provider) -> BatchStatus:
    try:
        return await _batchable(provider).batch_status(state.batch_id)
    finally:
        await provider.aclose()


def confined_path(out: Path, entry: BatchTopic) -> Path | str:
    """The note path a state file gives a topic, when it is one a run could have chosen for
    it: relative, in its persona's folder, a note's file name (not the index), with no symlink
    leading out of ``out``; else what is wrong with it."""
    relative = Path(entry.path)
    parts = relative.parts
    if relative.is_absolute() or relative.drive or ".." in parts:
        return "not a path inside the output folder"
    if len(parts) < 2 or parts[0] != safe_segment(entry.persona, "persona"):
        return f"not in the folder of persona {entry.persona!r}"
    if (relative.suffix != ".md" or relative.name == INDEX_NOTE
            or any(part.startswith(".") for part in parts)):
        return "not the file name of a note"
    path = out / relative
    if not inside(out, path):
        return "reached through a symlink that leads out of the output folder"
    return path


def _jobs(state: BatchState, out: Path, config: CallConfig) -> list[tuple[TopicJob, str | None]]:
    """The submitted topics as jobs again, composed with the submitted budget and temperature
    (an online repair asks the way the batch did); each with what is wrong with its note path,
    if anything is (such a job is never written: its path is a stand-in)."""
    config = replace(config, max_tokens=state.max_tokens, temperature=state.temperature)
    dirs = [Path(p) for p in state.personas_dir]
    personas = {name: load_persona(name, dirs) for name in {t.persona for t in state.topics}}
    jobs = []
    for entry in state.topics:
        path = confined_path(out, entry)
        problem = None
        if isinstance(path, str):
            problem = (f"{state._file or _state_path(out, state.batch_id)}: the note path "
                       f"{entry.path!r} is {path}; not written")
            path = out / safe_segment(entry.persona, "persona") / f"{entry.custom_id}.md"
        jobs.append((TopicJob(entry.topic(), personas[entry.persona], config, path), problem))
    return jobs


def _stray(state: BatchState, answers: dict[str, Completion | str]) -> None:
    """Name each result that is for no topic of the batch (a line that is no result, an
    unknown custom_id): one line each."""
    ids = {t.custom_id for t in state.topics}
    for key, answer in answers.items():
        if key in ids:
            continue
        if re.fullmatch(_ID, key):  # a custom_id; the others say which line they are
            key = f"result {key} (for no topic of this batch)"
        problem = answer if isinstance(answer, str) else "an answer"
        log.warning("batch %s, %s: %s", state.batch_id, one_line(key, 120), one_line(problem))


async def collect_batches(state: BatchState, provider: Provider, out: Path, config: CallConfig,
                          policy: AnswerPolicy, display: RunDisplay | None = None,
                          cap: SpendingCap | None = None,
                          prices: Mapping[str, Price] | None = None) -> RunResult | None:
    """Validate, repair and write an ended batch's answers; None while it is still running.
    ``policy`` is the run's (what a valid answer is: its checks, as the settings resolve them);
    how hard it tries is what the batch was submitted with. Online repairs are held against
    the spending cap, when one is set; ``prices`` are the run's, for each note's cost."""
    started = time.monotonic()
    batcher = _batchable(provider)
    repairer = CappedProvider(provider, cap) if cap else provider
    result = RunResult()
    policy = replace(policy, answers_per_topic=state.attempts, continuations=state.continuations)
    try:
        status = await batcher.batch_status(state.batch_id)
        if not status.ended:
            return None
        answers = await batcher.batch_results(state.batch_id)
        _stray(state, answers)
        planned = _jobs(state, out, config)
        if display:
            display.start(len(planned))
        for index, (entry, (job, problem)) in enumerate(zip(state.topics, planned, strict=True)):
            if problem:
                outcome, capped = TopicOutcome(job.topic, "failed", reason=problem), None
            else:
                outcome, capped = await _collect_one(
                    job, entry, answers.get(entry.custom_id), state.batch_id, repairer, out,
                    policy, prices)
            result.capped = result.capped or capped
            result.outcomes.append(outcome)
            entry.failed = outcome.reason if outcome.status == "failed" else None
            if display:
                display.finish(index, outcome)
    finally:
        if display:
            display.close()
        await provider.aclose()
    finish_run(out, [job for job, _ in planned], result, started)
    state.topics = [t for t in state.topics if t.failed]  # kept for a later collect
    if not state.topics:
        state.collected_at = datetime.now(UTC).isoformat(timespec="seconds")
    state.save(out)
    return result


async def _collect_one(job: TopicJob, entry: BatchTopic, answer: Completion | str | None,
                       batch_id: str, provider: Provider, out: Path, policy: AnswerPolicy,
                       prices: Mapping[str, Price] | None) -> tuple[TopicOutcome, str | None]:
    """One topic's batch answer, checked, repaired online if it must be, and written; with the
    spending cap's message when a repair could not be asked for under it."""
    problem = answer if isinstance(answer, str) else None
    if answer is None:
        problem = "the batch returned no result for this topic"
    elif isinstance(answer, Completion):
        try:
            check_size(len(answer.text), job.prompt)  # the cap of an online answer
        except AnswerTooLargeError as exc:
            problem = f"{len(answer.text):,} characters: {exc}"
    if problem is not None:
        if entry.failed and recorded_input_hash(job.path) == entry.input_hash:
            # Kept from an earlier collect, and written since (by a resubmission).
            return TopicOutcome(job.topic, "skipped", job.path, reason="unchanged"), None
        return TopicOutcome(job.topic, "failed", reason=(
            f"batch {batch_id}, result {entry.custom_id}: {one_line(problem)}")), None
    assert isinstance(answer, Completion)
    # The usage a batch reports is counted as an online answer's is: within what the request
    # allows.
    answer = replace(answer, usage=plausible_usage(answer.usage, job.prompt, answer.text,
                                                   answer.provider))
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
    return save_note(out, job.path, draft, entry.input_hash, prices), capped
