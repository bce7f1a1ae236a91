"""Progress: a live display on a terminal, plain lines elsewhere, and --quiet."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from sdgen.compose import Topic
from sdgen.run import LiveDisplay, PlainDisplay, RunResult, TopicOutcome, make_display, print_summary

DONE = TopicOutcome(Topic("Kafka"), "written", Path("out/kafka.md"), input_tokens=1200,
                    output_tokens=3400, calls=1, cost=0.0071)
FAILED = TopicOutcome(Topic("Raft"), "failed", reason="openai: HTTP 500: boom")


def test_live_display_shows_topics_in_flight_and_totals() -> None:
    screen = io.StringIO()
    display = LiveDisplay(Console(file=screen, force_terminal=True, width=100))
    display.start(2)
    display.update(0, Topic("Kafka"), "streaming", 4000)
    assert "streaming" in _plain(display) and "~1,000 tok" in _plain(display)
    display.finish(0, DONE)
    display.finish(1, FAILED)
    assert "1,200 in / 3,400 out; est. cost $0.0071" in _plain(display)
    display.close()
    assert "Raft: openai: HTTP 500: boom" in screen.getvalue()


def _plain(display: LiveDisplay) -> str:
    capture = io.StringIO()
    Console(file=capture, width=100).print(display._render())
    return capture.getvalue()


def test_plain_lines_and_quiet() -> None:
    stream = io.StringIO()
    display = PlainDisplay(stream)
    display.start(2)
    display.finish(0, DONE)
    display.finish(1, FAILED)
    assert stream.getvalue().splitlines() == [
        "[1/2] ok      Kafka -> out/kafka.md", "[2/2] FAILED  Raft: openai: HTTP 500: boom"]
    quiet = io.StringIO()
    display = PlainDisplay(quiet, quiet=True)
    display.start(2)
    display.finish(0, DONE)
    display.finish(1, FAILED)
    assert quiet.getvalue().splitlines() == ["[2/2] FAILED  Raft: openai: HTTP 500: boom"]
    assert isinstance(make_display(io.StringIO()), PlainDisplay)  # not a terminal


def test_summary_names_each_failure() -> None:
    stream = io.StringIO()
    print_summary(RunResult(outcomes=[DONE, FAILED], wall_time=1.5), stream)
    text = stream.getvalue()
    assert "FAILED Raft: openai: HTTP 500: boom" in text and "1.5 s" in text and "\x1b" not in text


def test_the_display_tells_waiting_from_streaming() -> None:
    """With two request slots, never more than two topics are shown as streaming."""
    from bench.server import TestServer
    from sdgen import generate

    class Recorder:
        def __init__(self) -> None:
            self.states: dict[int, str] = {}
            self.most_streaming = 0
            self.seen: set[str] = set()

        def start(self, total: int) -> None:
            pass

        def update(self, index: int, topic: Topic, state: str, received: int) -> None:
            self.states[index] = state
            self.seen.add(state)
            streaming = sum(1 for s in self.states.values() if s == "streaming")
            self.most_streaming = max(self.most_streaming, streaming)

        def finish(self, index: int, outcome: TopicOutcome) -> None:
            self.states.pop(index, None)

        def close(self) -> None:
            pass

    recorder = Recorder()
    with TestServer(latency=0.6, chunks=6) as server:
        result = generate([f"System {i}" for i in range(6)], provider="openai-compatible",
                          base_url=server.url, model="m", out=Path("out"), concurrency=2,
                          display=recorder)
    assert result.ok
    assert recorder.most_streaming == 2
    assert {"queued", "waiting", "streaming", "validating", "writing"} <= recorder.seen
