"""Many topics: run them concurrently, skip what is already done, write each note as it is ready.

A topic's note is skipped when it exists and was made from the same inputs (its ``input_hash``:
composed messages, persona spec, provider, model and output-changing parameters). Ctrl-C or
SIGTERM cancels the calls in flight; notes are written whole or not at all, so the next run
resumes with only the unfinished topics.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._version import __version__
from .compose import Prompt, compose
from .errors import AuthenticationError, OutputError, SdgenError
from .estimate import Price, price_for
from .markdown import split_front_matter
from .personas import Persona
from .pipeline import NoteDraft, generate_note
from .providers.base import Completion, Provider, TextCallback, known_secrets, redact
from .topics import Topic
from .write import (
    DRAFTS,
    NoteRecord,
    atomic_write,
    note_path,
    render_note,
    safe_segment,
    write_index,
)

__all__ = ["RunDisplay", "RunOptions", "RunResult", "TopicOutcome", "input_hash", "run_batch"]

REPORT_FILE = "run-report.json"


@dataclass(frozen=True)
class RunOptions:
    """How a batch runs; the output-changing ones are part of every note's input hash."""

    attempts: int = 2
    concurrency: int = 4
    max_tokens: int = 16000
    temperature: float | None = None
    force: bool = False
    prices: Mapping[str, Price] = field(default_factory=dict)
    workers: int | None = None  # processes for parsing, validating and formatting; None: auto
    continuations: int = 2  # follow-up calls for an answer cut at the output limit


@dataclass(frozen=True)
class TopicOutcome:
    """What happened to one topic."""

    topic: Topic
    status: str  # "written", "skipped", "invalid", "failed"
    path: Path | None = None
    reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    cost: float | None = None


class RunDisplay(Protocol):
    """Where a run reports progress (a terminal display, log lines, or nothing)."""

    def start(self, total: int) -> None: ...

    def update(self, index: int, topic: Topic, state: str, received: int) -> None: ...

    def finish(self, index: int, outcome: TopicOutcome) -> None: ...

    def close(self) -> None: ...


@dataclass
class RunResult:
    outcomes: list[TopicOutcome] = field(default_factory=list)
    index_paths: list[Path] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early (a rejected key), if it did
    interrupted: str | None = None  # the signal that interrupted it, if one did
    unfinished: int = 0
    wall_time: float = 0.0
    report_path: Path | None = None

    @property
    def ok(self) -> bool:
        return (self.stopped is None and self.interrupted is None and self.unfinished == 0
                and all(o.status in {"written", "skipped"} for o in self.outcomes))

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def input_tokens(self) -> int:
        return sum(o.input_tokens for o in self.outcomes)

    @property
    def output_tokens(self) -> int:
        return sum(o.output_tokens for o in self.outcomes)

    @property
    def cost(self) -> float | None:
        costs = [o.cost for o in self.outcomes if o.cost is not None]
        return sum(costs) if costs else None

    def as_json(self) -> dict[str, Any]:
        return {
            "sdgen_version": __version__,
            "ok": self.ok,
            "counts": {s: self.count(s) for s in ("written", "skipped", "invalid", "failed")}
            | {"unfinished": self.unfinished},
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "estimated_cost_usd": round(self.cost, 6) if self.cost is not None else None,
            "wall_time_seconds": round(self.wall_time, 3),
            "stopped": self.stopped,
            "interrupted": self.interrupted,
            "topics": [
                {"topic": o.topic.title, "category": o.topic.category, "status": o.status,
                 "path": str(o.path) if o.path else None, "reason": o.reason or None,
                 "calls": o.calls, "input_tokens": o.input_tokens,
                 "output_tokens": o.output_tokens}
                for o in self.outcomes
            ],
        }


def input_hash(prompt: Prompt, persona: Persona, provider: Provider, options: RunOptions) -> str:
    """What a note depends on; a note whose hash matches is not made again."""
    payload = {
        "messages": [[m.role, m.content] for m in prompt.messages],
        "spec": persona.spec.model_dump(mode="json"),
        "provider": provider.name,
        "model": provider.model,
        "max_tokens": options.max_tokens,
        "temperature": options.temperature,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _recorded_hash(path: Path) -> str | None:
    try:
        meta, _, body = split_front_matter(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    value = meta.get("input_hash")
    return value if isinstance(value, str) and body.strip() else None


def front_matter(draft: NoteDraft, category: str | None, digest: str) -> dict[str, Any]:
    last = draft.completions[-1]
    tags = ["system-design", f"persona/{safe_segment(draft.persona)}"]
    if category:
        tags.append(f"category/{safe_segment(category)}")
    meta: dict[str, Any] = {
        "title": draft.topic.title,
        "topic": draft.topic.title,
        "category": category,
        "question": draft.topic.question,
        "persona": draft.persona,
        "provider": last.provider,
        "model": last.model,
        "created": last.created,
        "input_tokens": sum(c.usage.input_tokens for c in draft.completions),
        "output_tokens": sum(c.usage.output_tokens for c in draft.completions),
        "sdgen_version": __version__,
        "prompt_hash": draft.prompt_hash,
        "input_hash": digest,
        "tags": tags,
    }
    return {k: v for k, v in meta.items() if v is not None}


def _write_draft(out: Path, final_path: Path, draft: NoteDraft) -> Path:
    """Keep a failed answer apart, with its report, so nothing invalid passes as final."""
    path = out / DRAFTS / final_path.relative_to(out)
    atomic_write(path, draft.body or "")
    report = {
        "topic": draft.topic.title,
        "persona": draft.persona,
        "error": draft.error,
        "report": draft.report.as_json() if draft.report else None,
        "calls": len(draft.completions),
        "answered": draft.completions[-1].created if draft.completions else None,
    }
    atomic_write(path.with_suffix(".report.json"),
                 json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


def _cost(completions: list[Completion], prices: Mapping[str, Price]) -> float | None:
    total = 0.0
    for completion in completions:
        price = price_for(completion.model, prices)
        if price is None:
            return None
        total += (completion.usage.input_tokens * price.input
                  + completion.usage.output_tokens * price.output) / 1e6
    return total


def conversation_path(note: Path) -> Path:
    """Where a conversation note's conversation is kept (a dot-file: vaults ignore it)."""
    return note.with_name(f".{note.stem}.conversation.json")


def finish_note(out: Path, path: Path, draft: NoteDraft, digest: str,
            prices: Mapping[str, Price]) -> TopicOutcome:
    # A model can echo anything it was shown; a key must not reach a note or a draft.
    draft.body = redact(draft.body, *known_secrets())
    common: dict[str, Any] = {
        "input_tokens": sum(c.usage.input_tokens for c in draft.completions),
        "output_tokens": sum(c.usage.output_tokens for c in draft.completions),
        "calls": len(draft.completions),
        "cost": _cost(draft.completions, prices),
    }
    if draft.valid:
        note = render_note(draft.body, front_matter(draft, draft.topic.category, digest))
        atomic_write(path, note)
        if draft.conversation:  # kept beside the note, for regenerating a section within it
            atomic_write(conversation_path(path), json.dumps(
                {"topic": draft.topic.title, "persona": draft.persona,
                 "messages": draft.conversation}, indent=1, ensure_ascii=False) + "\n")
        stale = out / DRAFTS / path.relative_to(out)
        for leftover in (stale, stale.with_suffix(".report.json")):
            leftover.unlink(missing_ok=True)
        return TopicOutcome(draft.topic, "written", path, **common)
    draft_path = _write_draft(out, path, draft)
    reason = draft.error or "; ".join(draft.report.summary()[:3] if draft.report else [])
    return TopicOutcome(draft.topic, "invalid", draft_path, reason=reason, **common)


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group; the parent decides what stops, not each worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_pool(workers: int | None, topics: int, offline: bool) -> ProcessPoolExecutor | None:
    """Processes for the CPU work of a large run, so it neither stalls the event loop that
    streams answers nor waits on the GIL. Small runs, offline runs (replay: no stream to keep
    flowing, and each worker costs its own ~70 MB) and workers=0 use a thread."""
    if workers is None:
        # One core stays with the event loop (streams, SSE parsing); the rest do the CPU work.
        big = topics >= 16 and not offline
        workers = min(4, max(1, (os.cpu_count() or 1) - 1)) if big else 0
    if workers < 1:
        return None
    return ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupts,
                               mp_context=multiprocessing.get_context("spawn"))


class _Gated:
    """A provider whose calls wait for a slot: concurrency counts requests in flight, so a
    topic that is validating or writing does not hold a slot another topic could stream in."""

    def __init__(self, inner: Provider, slots: int, stop: asyncio.Event) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model
        self._slots = asyncio.Semaphore(slots)
        self._stop = stop

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        async with self._slots:
            if self._stop.is_set():  # a rejected key: no further call can succeed
                raise SdgenError("the run stopped before this topic's call")
            return await self.inner.complete(prompt, on_text)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Silent:
    def start(self, total: int) -> None:
        pass

    def update(self, index: int, topic: Topic, state: str, received: int) -> None:
        pass

    def finish(self, index: int, outcome: TopicOutcome) -> None:
        pass

    def close(self) -> None:
        pass


async def run_batch(
    topics: Sequence[Topic],
    personas: Mapping[str, Persona],
    default_persona: str,
    provider: Provider,
    out: Path,
    options: RunOptions | None = None,
    display: RunDisplay | None = None,
) -> RunResult:
    """Generate every topic; one topic failing never stops the others (a rejected key does)."""
    options = options or RunOptions()
    display = display or _Silent()
    started = time.monotonic()
    taken: set[Path] = set()
    chosen = [personas[t.persona or default_persona] for t in topics]
    paths = [note_path(out, p.name, t.category, t.title, taken)
             for t, p in zip(topics, chosen, strict=True)]
    result = RunResult()
    outcomes: list[TopicOutcome | None] = [None] * len(topics)
    stop = asyncio.Event()
    gated = _Gated(provider, options.concurrency, stop)

    def settle(i: int, outcome: TopicOutcome) -> None:
        outcomes[i] = outcome
        display.finish(i, outcome)

    # Topics under way at once: enough to keep every request slot busy while others validate
    # and write, few enough that a thousand-topic run does not hold a thousand answers.
    active = asyncio.Semaphore(options.concurrency * 2 + 4)

    async def one(i: int) -> None:
        async with active:
            await _one(i)

    async def _one(i: int) -> None:
        topic, persona = topics[i], chosen[i]
        prompt = compose(persona, topic)
        digest = input_hash(prompt, persona, provider, options)
        if not options.force and _recorded_hash(paths[i]) == digest:
            settle(i, TopicOutcome(topic, "skipped", paths[i], reason="unchanged"))
            return
        if stop.is_set():
            return
        try:
            draft = await generate_note(
                persona, topic, gated, options.attempts, prompt=prompt,
                on_state=lambda state, size: display.update(i, topic, state, size),
                executor=pool, continuations=options.continuations)
            outcome = await loop.run_in_executor(pool, finish_note, out, paths[i], draft, digest,
                                                 dict(options.prices))
        except AuthenticationError as exc:
            result.stopped = str(exc)
            stop.set()
            outcome = TopicOutcome(topic, "failed", reason=str(exc))
        except OutputError:
            raise
        except SdgenError as exc:
            if stop.is_set():
                return  # the run is stopping: this topic stays unfinished, not failed
            outcome = TopicOutcome(topic, "failed", reason=str(exc))
        settle(i, outcome)

    loop = asyncio.get_running_loop()
    pool = _worker_pool(options.workers, len(topics), getattr(provider, "offline", False))
    tasks = [asyncio.create_task(one(i)) for i in range(len(topics))]

    def interrupt(name: str) -> None:
        result.interrupted = name
        for task in tasks:
            task.cancel()

    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, interrupt, sig.name)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            pass
    display.start(len(topics))
    try:
        done = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [d for d in done if isinstance(d, BaseException)
                    and not isinstance(d, asyncio.CancelledError)]
        if failures:
            raise failures[0]
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)  # a started write finishes whole
        display.close()
        await provider.aclose()
        result.outcomes = [o for o in outcomes if o is not None]
        conclude(out, topics, chosen, paths, result, started)
    return result


def conclude(out: Path, topics: Sequence[Topic], chosen: Sequence[Persona],
             paths: Sequence[Path], result: RunResult, started: float) -> None:
    """The end of any run: the persona indexes and the run report."""
    result.unfinished = len(topics) - len(result.outcomes)
    _write_indexes(out, topics, chosen, paths, result)
    result.wall_time = time.monotonic() - started
    result.report_path = out / REPORT_FILE
    atomic_write(result.report_path, json.dumps(result.as_json(), indent=2,
                                                ensure_ascii=False) + "\n")


def _write_indexes(out: Path, topics: Sequence[Topic], chosen: Sequence[Persona],
                   paths: Sequence[Path], result: RunResult) -> None:
    for name in dict.fromkeys(p.name for p in chosen):  # each persona once, in index order
        notes = [NoteRecord(path, t.title, t.category)
                 for t, p, path in zip(topics, chosen, paths, strict=True)
                 if p.name == name and path.is_file()]
        if notes:
            result.index_paths.append(write_index(out / safe_segment(name, "persona"), name,
                                                  notes))
