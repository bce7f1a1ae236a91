"""sdgen benchmarks: print a table of measured figures against their targets.

    python -m bench.run                    # all three
    python -m bench.run latency rpm replay # or some of them

latency  100 topics, 5 s per streamed answer, --concurrency 16: wall time over the ideal 35 s.
rpm      300 topics, the server capping at 600 requests/min, --rpm 600: achieved rate over the cap.
replay   1,000 topics replayed from recordings: peak memory, and the median per-note time of
         parse + validate + format + write over mdformat's own time for the same note.

The server is bench/server.py in its own process, on loopback; sdgen runs as its CLI does.
"""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(**options: float) -> Iterator[str]:
    port = _free_port()
    args = [sys.executable, "-m", "bench.server", "--port", str(port)]
    for name, value in options.items():
        args += [f"--{name}", str(value)]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "listening on URL"
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/stats") as response:
        data: dict[str, Any] = json.load(response)
        return data


def sdgen(*args: str, cwd: Path) -> tuple[float, tuple[int, int], dict[str, Any]]:
    """Run the CLI in a child process: wall time, peak RSS (KB) of it and of its largest worker
    process, and its run report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    env["PYTHONPATH"] = str(ROOT)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bench.child", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"sdgen failed ({done.returncode}): {done.stderr[-2000:]}")
    own, worker = (int(x) for x in done.stdout.strip().splitlines()[-1].split())
    peak = (own, worker)
    report = json.loads((cwd / "out" / "run-report.json").read_text())
    return wall, peak, report


def _topics(folder: Path, count: int) -> Path:
    index = folder / "topics.txt"
    index.write_text("".join(f"System {i:04d}\n" for i in range(count)))
    return index


def bench_latency(rows: list[list[str]]) -> None:
    topics, latency, concurrency = 100, 5.0, 16
    ideal = math.ceil(topics / concurrency) * latency
    with tempfile.TemporaryDirectory() as tmp, server(latency=latency) as url:
        folder = Path(tmp)
        wall, _, report = sdgen("generate", "--index", str(_topics(folder, topics)),
                                "--provider", "openai-compatible", "--base-url", url,
                                "--model", "bench", "--concurrency", str(concurrency),
                                "--out", "out", "--quiet", cwd=folder)
    written = report["counts"]["written"]
    rows.append(["latency: 100 topics x 5 s, concurrency 16",
                 f"wall {wall:.1f} s / ideal {ideal:.0f} s = {wall / ideal:.3f}x "
                 f"({written} written)", "<= 1.10x", "yes" if wall / ideal <= 1.10 else "NO"])


def bench_rpm(rows: list[list[str]]) -> None:
    topics, cap = 300, 600
    with tempfile.TemporaryDirectory() as tmp, server(latency=1.0, rpm=cap) as url:
        folder = Path(tmp)
        wall, _, report = sdgen("generate", "--index", str(_topics(folder, topics)),
                                "--provider", "openai-compatible", "--base-url", url,
                                "--model", "bench", "--concurrency", "32", "--rpm", str(cap),
                                "--out", "out", "--quiet", cwd=folder)
        seen = stats(url)
    span = seen["last_accepted"] - seen["first_accepted"]
    achieved = (seen["answered"] - 1) / span * 60 if span > 0 else 0.0
    limited = seen["limited"] / max(1, seen["requests"])
    failed = report["counts"]["failed"] + report["counts"]["invalid"]
    ok = achieved / cap >= 0.95 and failed == 0 and limited <= 0.01
    rows.append(["rpm: 300 topics, server cap 600/min, --rpm 600",
                 f"{achieved:.0f}/min = {achieved / cap:.3f} of cap; {failed} failed; "
                 f"{seen['limited']} of {seen['requests']} answered 429 ({limited:.1%}); "
                 f"wall {wall:.1f} s", ">= 0.95, 0 failed, <= 1% 429", "yes" if ok else "NO"])


def _recordings(folder: Path, count: int) -> Path:
    from bench.notes import synthetic_note
    from sdgen.compose import Topic, compose, load_persona
    from sdgen.config import Settings
    from sdgen.providers._recording import dump_recording, request_key, request_params
    from sdgen.repair import call_config

    persona, settings = load_persona("obsidian"), Settings()
    target = folder / "recordings" / "obsidian"
    target.mkdir(parents=True)
    for i in range(count):
        topic = Topic(f"System {i:04d}")
        params = request_params(compose(persona, topic, call_config(settings)))
        key = request_key(params)
        text = synthetic_note(topic.title)
        record = {"key": key, "provider": "bench", "model": "synthetic",
                  "produced_by": "bench/notes.py synthetic_note (not a model)",
                  "recorded_at": "2026-11-22T00:00:00+00:00", "topic": topic.title,
                  "persona": "obsidian", "request": params,
                  "response": {"text": text, "finish_reason": "stop",
                               "usage": {"input_tokens": 2400, "output_tokens": len(text) // 4},
                               "created": "2026-11-22T00:00:00+00:00"}}
        (target / f"system-{i:04d}--{key[:12]}.yaml").write_text(dump_recording(record))
    return folder / "recordings"


def _overhead(samples: int = 40) -> tuple[float, float, float]:
    """Median seconds of our per-note work, of mdformat alone, and the median ratio."""
    from bench.notes import synthetic_note
    from sdgen._files import atomic_write
    from sdgen.compose import Topic, load_persona
    from sdgen.markdown import format_markdown
    from sdgen.repair import check_answer
    from sdgen.vault import render_note

    persona = load_persona("obsidian")
    ours, theirs, ratios = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(samples):
            text = synthetic_note(f"System {i:04d}")
            started = time.perf_counter()
            body, report = check_answer(persona, Topic(f"System {i:04d}"), text)
            note = render_note(body, {"title": f"System {i:04d}", "persona": "obsidian"})
            atomic_write(Path(tmp) / f"{i}.md", note)
            mid = time.perf_counter()
            format_markdown(body)
            end = time.perf_counter()
            assert report.valid
            ours.append(mid - started)
            theirs.append(end - mid)
            ratios.append((mid - started) / (end - mid))
    return statistics.median(ours), statistics.median(theirs), statistics.median(ratios)


def bench_replay(rows: list[list[str]]) -> None:
    topics = int(os.environ.get("BENCH_TOPICS", "1000"))  # fewer for a quick look; 1000 is the target
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recordings = _recordings(folder, topics)
        wall, (own_kb, worker_kb), report = sdgen(
            "generate", "--index", str(_topics(folder, topics)), "--replay", str(recordings),
            "--out", "out", "--quiet", *os.environ.get("BENCH_ARGS", "").split(), cwd=folder)
    written = report["counts"]["written"]
    # The whole process tree counts: the main process and every worker at its own peak.
    workers = 0 if worker_kb == 0 else max(1, min(4, (os.cpu_count() or 1) - 1))
    tree_mb = (own_kb + workers * worker_kb) / 1024
    rows.append(["replay: 1,000 topics from recordings",
                 f"peak RSS {tree_mb:.0f} MB in all (main {own_kb / 1024:.0f} MB + {workers} "
                 f"worker(s) x {worker_kb / 1024:.0f} MB); {written} written in {wall:.1f} s "
                 f"({wall / topics * 1000:.0f} ms/note)", "<= 150 MB",
                 "yes" if tree_mb <= 150 else "NO"])


def bench_overhead(rows: list[list[str]]) -> None:
    ours, mdformat_alone, ratio = _overhead()
    rows.append(["per-note parse + validate (4 Mermaid diagrams parsed) + format + write / "
                 "mdformat alone (median of 40, ~53 KB notes)",
                 f"{ours * 1000:.0f} ms / {mdformat_alone * 1000:.0f} ms = {ratio:.2f}x",
                 "<= 2.0x", "yes" if ratio <= 2.0 else "NO"])


BENCHES = {"latency": bench_latency, "rpm": bench_rpm, "replay": bench_replay,
           "overhead": bench_overhead}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHES)
    rows: list[list[str]] = []
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        BENCHES[name](rows)
    header = ["benchmark", "measured", "target", "met"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, ["-" * w for w in widths], *rows]:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0 if all(r[3] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
