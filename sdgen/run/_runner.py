"""Many topics: run their jobs concurrently, skip what is already done, write each note as it is ready.

A topic's note is skipped when it exists and was made from the same inputs (its ``input_hash``,
see :mod:`sdgen.notes`). Ctrl-C or SIGTERM cancels the calls in flight; notes are written whole
or not at all, so the next run resumes with only the unfinished topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .._files import NoteLock, StopFlag, is_read_only
from ..budget import Price, SpendingCapReached
from ..compose import Prompt
from ..errors import (
    AnswerRejectedError,
    AuthenticationError,
    OutputError,
    RunStoppedError,
    SdgenError,
)
from ..providers import Completion, Provider, TextCallback
from ..repair import AnswerPolicy, NoteDraft, TopicJob, refine, scripted_first_answer
from ..vault import TopicOutcome, input_hash, on_disk, rescue_answer, save_note
from ._report import NoDisplay, RunDisplay, RunResult, finish_run

__all__ = ["RunOptions", "run_jobs"]

@dataclass(frozen=True)
class RunOptions:
    """How a run goes about its jobs (what each request is lives in the job itself)."""

    policy: AnswerPolicy = field(default_factory=AnswerPolicy)
    concurrency: int = 4  # requests in flight at once
    force: bool = False  # make notes again even when their inputs are unchanged
    prices: Mapping[str, Price] = field(default_factory=dict)
    workers: int | None = None  # processes for parsing, validating and formatting; None: auto
    base_url: str | None = None  # the server asked, credentials apart: kept in each note


def _start_worker(parent: int) -> None:
    """A worker's first act. ``parent`` is the run's pid, passed in: a worker that starts after
    its parent died (an interrupted or killed run) would read its adopter from os.getppid()."""
    # Ctrl-C reaches the whole process group; the parent decides what stops, not each worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker whose parent died (kill -9) has no one to work for: it leaves, not lingers (and
    # multiprocessing's resource tracker, which waits for every worker, leaves with it).
    if os.getppid() != parent:
        os._exit(0)
    signal.signal(signal.SIGTERM, _leave)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="sdgen-parent-watch").start()


def _leave(signum: int, frame: object) -> None:
    """SIGTERM in a worker (an interrupted run ends its workers): raised where the worker is, so
    a note being written removes its temporary file on the way out; the process is gone within
    a moment either way (an exception inside a task would otherwise leave it waiting for more)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Timer(0.5, os._exit, (128 + signum,)).start()
    raise SystemExit(128 + signum)


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
    return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker,
                               initargs=(os.getpid(),),
                               mp_context=multiprocessing.get_context("spawn"))


def _workers_of(pool: Executor | None) -> list[multiprocessing.process.BaseProcess]:
    """The worker processes of a pool, taken before its shutdown (which forgets them)."""
    # ProcessPoolExecutor has no public way to reach its workers: its process table is stable
    # across the Python versions sdgen supports.
    return list((getattr(pool, "_processes", None) or {}).values())


def _end_workers(processes: Sequence[multiprocessing.process.BaseProcess]) -> None:
    """Worker processes of an interrupted run, ended now: each is formatting an answer the run
    will not write (the stop flag says so), and may take seconds to notice. Waited for (a
    moment each), so that once this returns no worker can write and the stop flag can go."""
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.terminate()
    deadline = time.monotonic() + 2.0
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():  # stuck in one long step: it cannot clean up either way
                process.kill()
                process.join(1.0)


class _SlotGate:
    """A provider whose calls wait for a request slot: concurrency counts requests in flight,
    so a topic that is validating or writing does not hold a slot another could stream in."""

    def __init__(self, inner: Provider, slots: int, stop: asyncio.Event) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model
        self.offline, self.key_env = inner.offline, inner.key_env
        self._slots = asyncio.Semaphore(slots)
        self._stop = stop

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        async with self._slots:
            if self._stop.is_set():  # a rejected key: no further call can succeed
                raise RunStoppedError("the run stopped before this topic's call")
            if on_text:
                on_text("")  # the request leaves now: its topic is no longer waiting for a slot
            return await self.inner.complete(prompt, on_text)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class _Run:
    """One run's shared state: its jobs, where it writes, and what each topic came to."""

    jobs: Sequence[TopicJob]
    provider: Provider
    out: Path
    options: RunOptions
    display: RunDisplay
    pool: Executor | None
    result: RunResult = field(default_factory=lambda: RunResult())
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.outcomes: list[TopicOutcome | None] = [None] * len(self.jobs)
        self.digests: dict[int, str] = {}  # the input hash of each topic asked for
        self.gate = _SlotGate(self.provider, self.options.concurrency, self.stop)
        # Set on Ctrl-C or SIGTERM: a note still being checked or formatted, in a thread or a
        # worker process, is then not written.
        self.stopping = StopFlag.for_run(self.out)
        # The CPU work (validating, formatting): worker processes, or threads of the run's own
        # that an interrupted run does not wait for (the default executor would be joined).
        self.cpu: Executor = self.pool or ThreadPoolExecutor(
            max_workers=(os.cpu_count() or 1) + 2, thread_name_prefix="sdgen-cpu")

    def settle_late_writes(self) -> None:
        """An interrupted run's topics whose note was written after all (its last step had begun
        when the run stopped): the report says written, as the disk does."""
        for i, job in enumerate(self.jobs):
            digest = self.digests.get(i)
            if self.outcomes[i] is None and digest and on_disk(job.path).input_hash == digest:
                self.settle(i, TopicOutcome(job.topic, "written", job.path,
                                            reason="written as the run was interrupted"))

    def settle(self, i: int, outcome: TopicOutcome) -> None:
        self.outcomes[i] = outcome
        self.display.finish(i, outcome)

    async def run_topic(self, i: int) -> None:
        lock = NoteLock(self.out, self.jobs[i].path)
        try:
            # Another run into this folder making this note: wait for it, then judge again
            # (its note is most likely up to date by then, and skipped).
            while not lock.try_acquire():
                await asyncio.sleep(0.2)
            await self._make_note(i)
        finally:
            lock.release()
            self.jobs[i].release()  # its prompt is not needed again

    async def _make_note(self, i: int) -> None:
        """One topic: skipped when up to date, else asked for, repaired and written."""
        job = self.jobs[i]
        digest = input_hash(job.prompt, job.persona.spec, self.provider.name, self.provider.model)
        self.digests[i] = digest
        known = on_disk(job.path)
        if not self.options.force and known.input_hash == digest:
            self.settle(i, TopicOutcome(job.topic, "skipped", job.path, reason="unchanged"))
            return
        if not self.options.force and known.edited:
            # Its inputs changed, but a person's edits are worth more than a fresh answer.
            self.settle(i, TopicOutcome(job.topic, "skipped", job.path, reason=(
                f"{known.edited} edited by hand since sdgen wrote it: kept (--force replaces it)")))
            return
        if is_read_only(job.path):
            # Its owner's choice: no answer is asked for that could not be written.
            self.settle(i, TopicOutcome(job.topic, "skipped", job.path, reason=(
                "read-only: kept (make it writable to let sdgen replace it)")))
            return
        if self.stop.is_set():
            return
        draft = NoteDraft(job.topic, job.persona.name, job.prompt.prompt_hash,
                          base_url=self.options.base_url)
        try:
            # A rejected answer is still written: as a draft, with why it failed.
            with contextlib.suppress(AnswerRejectedError):
                await refine(job, self.gate, self.options.policy,
                             scripted_first_answer(job, self.gate, draft, self.options.policy),
                             draft, on_state=lambda state, size: self.display.update(
                                 i, job.topic, state, size), executor=self.cpu)
            self.display.update(i, job.topic, "writing", len(draft.body))
            outcome = await asyncio.get_running_loop().run_in_executor(
                self.cpu, save_note, self.out, job.path, draft, digest, dict(self.options.prices),
                self.stopping, known.fingerprint)
        except AuthenticationError as exc:
            self.result.stopped = str(exc)
            self.stop.set()
            outcome = TopicOutcome(job.topic, "failed", reason=str(exc))
        except SpendingCapReached as exc:
            self.result.capped = self.result.capped or str(exc)
            self.stop.set()  # no new request; the calls in flight finish
            return  # this topic stays unfinished, for a rerun with a higher cap
        except OutputError as exc:
            # A full disk: no new request (its answer could not be written either); this
            # answer, paid for, is kept where it still can be, and the run ends in one line.
            self.stop.set()
            kept = rescue_answer(self.out, job.path, draft)
            self.settle(i, TopicOutcome(
                job.topic, "failed", kept, reason=f"{exc}" + (f"; its answer is kept in {kept}"
                                                              if kept else ""),
                calls=len(draft.completions), input_tokens=draft.input_tokens,
                output_tokens=draft.output_tokens))
            if kept:
                raise OutputError(f"{exc} (the answer is kept in {kept})") from exc
            raise
        except SdgenError as exc:
            if self.stop.is_set():
                return  # the run is stopping: this topic stays unfinished, not failed
            outcome = TopicOutcome(job.topic, "failed", reason=str(exc), calls=len(draft.completions),
                                   input_tokens=draft.input_tokens, output_tokens=draft.output_tokens)
        self.settle(i, outcome)


def _handle_signals(loop: asyncio.AbstractEventLoop, tasks: Sequence[asyncio.Task[None]],
                    run: _Run) -> list[signal.Signals]:
    """Ctrl-C and SIGTERM cancel the topics under way (a note being written finishes whole;
    one still being formatted is not written)."""
    def interrupt(name: str) -> None:
        run.result.interrupted = name
        run.stopping.set()
        for task in tasks:
            task.cancel()

    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, interrupt, sig.name)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            pass
    return handled


async def run_jobs(jobs: Sequence[TopicJob], provider: Provider, out: Path,
                   options: RunOptions | None = None,
                   display: RunDisplay | None = None) -> RunResult:
    """Generate every job's note; one topic failing never stops the others (a rejected key does)."""
    options = options or RunOptions()
    started = time.monotonic()
    run = _Run(jobs, provider, out, options, display or NoDisplay(),
               _worker_pool(options.workers, len(jobs), provider.offline))
    # Topics under way at once: enough to keep every request slot busy while others validate
    # and write, few enough that a thousand-topic run does not hold a thousand answers. With no
    # network (replay) there is no wait to hide: one topic at a time is as fast (reading a
    # recording takes a millisecond) and holds one note's scratch memory, not two.
    under_way = asyncio.Semaphore(1 if provider.offline else options.concurrency * 2 + 4)

    async def bounded(i: int) -> None:
        async with under_way:
            await run.run_topic(i)

    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(bounded(i)) for i in range(len(jobs))]
    handled = _handle_signals(loop, tasks, run)
    run.display.start(len(jobs))
    for i, job in enumerate(jobs):  # every topic waits its turn until a task takes it up
        run.display.update(i, job.topic, "queued", 0)
    failure: BaseException | None = None
    try:
        done = await asyncio.gather(*tasks, return_exceptions=True)
        failure = next((d for d in done if isinstance(d, BaseException)
                        and not isinstance(d, asyncio.CancelledError)), None)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        # A finished run waits for its writes; an interrupted one leaves the CPU work it
        # abandoned (which, seeing the stop flag, writes nothing) and finishes at once.
        workers = _workers_of(run.pool)
        run.cpu.shutdown(wait=run.result.interrupted is None, cancel_futures=True)
        if run.result.interrupted:
            _end_workers(workers)
            run.settle_late_writes()
        run.stopping.remove_file()
        run.display.close()
        await provider.aclose()
        run.result.outcomes = [o for o in run.outcomes if o is not None]
        try:
            finish_run(out, jobs, run.result, started)
        except OutputError:
            if failure is None:
                raise  # else the topic's own failure says more (where its answer is kept)
    if failure is not None:
        raise failure
    return run.result


