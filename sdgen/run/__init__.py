"""Stage 6, whole runs: the plan of jobs, the runner (concurrency, limits, interrupts),
provider batch APIs, regen and chat, and the run's report and progress display."""

from __future__ import annotations

from ._batch import BatchState, batch_status, collect_batches, list_batches, submit_batch
from ._chat import ChatIO, run_chat
from ._plan import load_personas, near_duplicates, plan_jobs
from ._progress import LiveDisplay, PlainDisplay, make_display, print_summary
from ._regen import RegenResult, regenerate, resolve_targets, section_indexes
from ._report import REPORT_FILE, NoDisplay, RunDisplay, RunResult, TopicOutcome, finish_run
from ._runner import RunOptions, run_jobs

__all__ = [
    "REPORT_FILE",
    "BatchState",
    "ChatIO",
    "LiveDisplay",
    "NoDisplay",
    "PlainDisplay",
    "RegenResult",
    "RunDisplay",
    "RunOptions",
    "RunResult",
    "TopicOutcome",
    "batch_status",
    "collect_batches",
    "finish_run",
    "list_batches",
    "load_personas",
    "make_display",
    "near_duplicates",
    "plan_jobs",
    "print_summary",
    "regenerate",
    "resolve_targets",
    "run_chat",
    "run_jobs",
    "section_indexes",
    "submit_batch",
]
