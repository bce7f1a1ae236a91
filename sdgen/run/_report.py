"""What a run reports: its progress while it goes, its result, and the report file it ends with.

Shared by every kind of run (generate, batch collect): each ends with :func:`finish_run`, which
brings the persona indexes up to date and writes ``run-report.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .._files import atomic_write, safe_segment
from .._version import __version__
from ..compose import Topic
from ..repair import TopicJob
from ..vault import LinkReport, NoteRecord, TopicOutcome, link_vault, update_index, write_home

__all__ = ["REPORT_FILE", "NoDisplay", "RunDisplay", "RunResult", "TopicOutcome", "finish_run"]

REPORT_FILE = "run-report.json"


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
    capped: str | None = None  # the spending cap it reached, if it did
    interrupted: str | None = None  # the signal that interrupted it, if one did
    unfinished: int = 0
    wall_time: float = 0.0
    report_path: Path | None = None
    out: Path | None = None  # the notes folder
    home_path: Path | None = None  # the vault's home note
    links: LinkReport | None = None  # what linking the vault did at the end of the run

    @property
    def ok(self) -> bool:
        return (self.stopped is None and self.interrupted is None and self.capped is None
                and self.unfinished == 0
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
            "links": {"added": self.links.links, "notes_rewritten": len(self.links.rewritten),
                      "kept_edited_by_hand": [str(p) for p in self.links.edited],
                      "kept_read_only": [str(p) for p in self.links.read_only]}
            if self.links else None,
            "stopped": self.stopped,
            "capped": self.capped,
            "interrupted": self.interrupted,
            "topics": [
                {"topic": o.topic.title, "category": o.topic.category, "status": o.status,
                 "path": str(o.path) if o.path else None, "reason": o.reason or None,
                 "calls": o.calls, "input_tokens": o.input_tokens,
                 "output_tokens": o.output_tokens,
                 "cost_usd": round(o.cost, 6) if o.cost is not None else None,
                 "findings": [f.as_json() for f in o.findings]}
                for o in self.outcomes
            ],
        }


class NoDisplay:
    """A run shown nowhere (library callers that pass no display)."""

    def start(self, total: int) -> None:
        pass

    def update(self, index: int, topic: Topic, state: str, received: int) -> None:
        pass

    def finish(self, index: int, outcome: TopicOutcome) -> None:
        pass

    def close(self) -> None:
        pass



def finish_run(out: Path, jobs: Sequence[TopicJob], result: RunResult, started: float) -> None:
    """The end of any run: the notes linked to each other, every persona index and the home
    note brought up to date, and the run report."""
    result.unfinished = len(jobs) - len(result.outcomes)
    result.out = out
    result.links = link_vault(out)
    for name in dict.fromkeys(j.persona.name for j in jobs):  # each persona once, in run order
        ordered = [NoteRecord(j.path, j.topic.title, j.topic.category)
                   for j in jobs if j.persona.name == name]
        index = update_index(out / safe_segment(name, "persona"), name, ordered)
        if index:
            result.index_paths.append(index)
    result.home_path = write_home(out)
    result.wall_time = time.monotonic() - started
    result.report_path = out / REPORT_FILE
    atomic_write(result.report_path, json.dumps(result.as_json(), indent=2,
                                                ensure_ascii=False) + "\n")
