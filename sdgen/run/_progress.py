"""Showing a run: a live rich display on a terminal, plain log lines elsewhere, a final summary."""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from ..compose import Topic
from ._report import RunResult, TopicOutcome

__all__ = ["LiveDisplay", "PlainDisplay", "make_display", "print_summary"]

_MARK = {"written": "ok", "skipped": "skip", "invalid": "INVALID", "failed": "FAILED"}


def _tokens(characters: int) -> int:
    return characters // 4  # a live estimate; usage from the provider replaces it at the end


def _findings(outcome: TopicOutcome) -> str:
    """How many of the persona's requirements a written note does not meet: " (2 findings)"."""
    count = len(outcome.findings) if outcome.status == "written" else 0
    return f" ({count} finding{'s' if count != 1 else ''})" if count else ""


def _finding_lines(outcome: TopicOutcome) -> list[str]:
    """Each finding of a written note, one indented line each (``-v``)."""
    return [f"    - {finding}" for finding in outcome.findings] if outcome.status == "written" \
        else []


class PlainDisplay:
    """One line per finished topic, no control characters: for CI logs and pipes. Verbose, each
    finding of a written note on a line of its own under it."""

    def __init__(self, stream: TextIO, quiet: bool = False, verbose: bool = False) -> None:
        self.stream, self.quiet, self.verbose = stream, quiet, verbose
        self.total = self.done = 0

    def start(self, total: int) -> None:
        self.total = total

    def update(self, index: int, topic: Topic, state: str, received: int) -> None:
        pass  # a line per state change would flood a log; the finish line says what happened

    def finish(self, index: int, outcome: TopicOutcome) -> None:
        self.done += 1
        if self.quiet and outcome.status in {"written", "skipped"}:
            return
        where = f" -> {outcome.path}" if outcome.path else ""
        why = f": {outcome.reason}" if outcome.reason and outcome.reason != "unchanged" else ""
        print(f"[{self.done}/{self.total}] {_MARK[outcome.status]:7} {outcome.topic.title}"
              f"{_findings(outcome)}{where}{why}", file=self.stream, flush=True)
        for line in _finding_lines(outcome) if self.verbose else []:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        pass


class LiveDisplay:
    """An overall bar with ETA, a line per topic in flight, and running token totals."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        self.console, self.verbose = console, verbose
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeRemainingColumn(), console=console)
        self.task = self.progress.add_task("notes", total=0)
        self.flight: dict[int, tuple[str, str, int]] = {}
        self.input_tokens = self.output_tokens = 0
        self.cost = 0.0
        self.live = Live(self._render(), console=console, refresh_per_second=4, transient=False)
        self._last = 0.0

    def _render(self) -> Group:
        table = Table.grid(padding=(0, 2))
        under_way = [f for f in self.flight.values() if f[1] != "queued"]
        queued = len(self.flight) - len(under_way)
        for title, state, received in under_way[:12]:
            detail = f"~{_tokens(received):,} tok" if received else ""
            # Titles are data: Text, so a "[" in a topic is not read as markup.
            table.add_row(Text(state, style="cyan"), Text(title[:60]), detail)
        more = len(under_way) - 12
        if more > 0:
            table.add_row("", f"... and {more} more under way", "")
        if queued:
            table.add_row(Text("queued", style="dim"), f"{queued} topic(s) not started yet", "")
        totals = (f"tokens: {self.input_tokens:,} in / {self.output_tokens:,} out"
                  f"{f'; est. cost ${self.cost:.4f}' if self.cost else ''}")
        return Group(self.progress, table, totals)

    def start(self, total: int) -> None:
        self.progress.update(self.task, total=total)
        self.live.start()

    def update(self, index: int, topic: Topic, state: str, received: int) -> None:
        self.flight[index] = (topic.title, state, received)
        now = time.monotonic()
        if now - self._last > 0.1:  # streamed pieces arrive far faster than a screen refresh
            self._last = now
            self.live.update(self._render())

    def finish(self, index: int, outcome: TopicOutcome) -> None:
        self.flight.pop(index, None)
        self.input_tokens += outcome.input_tokens
        self.output_tokens += outcome.output_tokens
        self.cost += outcome.cost or 0.0
        self.progress.advance(self.task)
        if outcome.status in {"invalid", "failed"}:
            self.console.print(Text.assemble((_MARK[outcome.status], "red"),
                                             f" {outcome.topic.title}: {outcome.reason}"))
        elif self.verbose and outcome.status == "written" and outcome.findings:
            self.console.print(Text(f"ok {outcome.topic.title}{_findings(outcome)}"))
            for line in _finding_lines(outcome):
                self.console.print(Text(line))
        self.live.update(self._render())

    def close(self) -> None:
        self.live.stop()


def make_display(stream: TextIO, quiet: bool = False,
                 verbose: bool = False) -> PlainDisplay | LiveDisplay:
    """A live display on a terminal (unless quiet), plain lines anywhere else; verbose, each
    written note's findings listed under it."""
    if not quiet and stream.isatty():
        return LiveDisplay(Console(file=stream, highlight=False), verbose)
    return PlainDisplay(stream, quiet, verbose)


def print_summary(result: RunResult, stream: TextIO) -> None:
    """The end-of-run table: counts, tokens, cost, wall time, and each failure's reason."""
    console = Console(file=stream, highlight=False,
                      force_terminal=stream.isatty(), no_color=not stream.isatty(), width=110,
                      soft_wrap=True)  # reasons stay one line each, however long
    table = Table(title="sdgen run", show_header=True, header_style="bold")
    for column in ("written", "skipped", "invalid", "failed", "unfinished", "input tokens",
                   "output tokens", "est. cost", "wall time"):
        table.add_column(column, justify="right")
    cost = f"${result.cost:.4f}" if result.cost is not None else "n/a"
    table.add_row(*(str(result.count(s)) for s in ("written", "skipped", "invalid", "failed")),
                  str(result.unfinished), f"{result.input_tokens:,}", f"{result.output_tokens:,}",
                  cost, f"{result.wall_time:.1f} s")
    console.print(table)
    noted = [o for o in result.outcomes if o.status == "written" and o.findings]
    if noted:
        count = sum(len(o.findings) for o in noted)
        console.print(Text(f"findings: {count} should finding{'s' if count != 1 else ''} in "
                           f"{len(noted)} written note{'s' if len(noted) != 1 else ''} "
                           "(-v lists them; sdgen validate shows each note's)"))
    for outcome in result.outcomes:
        if outcome.status in {"invalid", "failed"}:
            console.print(Text(f"{_MARK[outcome.status]} {outcome.topic.title}: {outcome.reason}"))
        elif outcome.status == "skipped" and outcome.reason != "unchanged":
            console.print(Text(f"kept {outcome.path}: {outcome.reason}"))
    if result.stopped:
        console.print(Text(f"stopped early: {result.stopped}"))
    if result.capped:
        console.print(Text(f"unfinished at the spending cap: {result.capped}"))
    if result.interrupted:
        console.print(f"interrupted by {result.interrupted}: {result.unfinished} topics "
                      "unfinished; run the same command again to finish them")
    if result.out:
        console.print(Text(f"notes:  {result.out}"))
    if result.home_path:
        console.print(Text(f"index:  {result.home_path}"))
    if result.report_path:
        console.print(Text(f"report: {result.report_path}"))
