"""Faults and hostile input from the red-team pass: each ends in one line, a bounded run, and no
lost or leaked data (rows of docs/reliability.md)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import yaml

from sdgen.cli import run
from sdgen.markdown import split_front_matter
from tests.helpers import OPENAI_URL, answer, answer_about, openai_stream, retitled
from tests.hostile import chunk, hostile_server, start_stream

CARD = answer("visual_valid.md")


def _card(request: httpx.Request) -> httpx.Response:
    return openai_stream(answer_about("visual_valid.md", request))


def test_redaction_never_damages_ordinary_words(httpx2_mock: respx.Router,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDGEN_API_KEY", "")
    words = "\n- The Key-Generation-Service hands out ids; see `make_cache_key_for_user`.\n"
    httpx2_mock.post("http://llm.test/v1/chat/completions").mock(
        return_value=openai_stream(retitled(CARD, "Load Balancer") + words))
    assert run(["generate", "Load Balancer", "--persona", "visual", "--provider",
                "openai-compatible", "--base-url", "http://llm.test/v1", "--model", "m",
                "--out", "out"]) == 0
    note = Path("out/visual/load-balancer.md").read_text()
    assert "Key-Generation-Service" in note and "make_cache_key_for_user" in note


def test_a_key_echoed_in_part_is_redacted(httpx2_mock: respx.Router,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    key = "planted-partial-echo-test-key-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    httpx2_mock.post(OPENAI_URL).mock(return_value=httpx.Response(401, json={"error": {
        "message": f"Incorrect API key provided: ...{key[9:]}. You can find your key at ..."}}))
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out"]) == 2
    err = capsys.readouterr().err
    report = Path("out/run-report.json").read_text()
    for text in (err, report):
        assert key[9:] not in text and key[-12:] not in text and "[redacted]" in text


def test_a_password_in_the_base_url_is_masked_everywhere(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    httpx2_mock.post("http://user:hunter2-secret@llm.test/v1/chat/completions").mock(
        side_effect=_card)
    assert run(["generate", "Load Balancer", "--persona", "visual", "--provider",
                "openai-compatible", "--base-url", "http://user:hunter2-secret@llm.test/v1",
                "--model", "m", "--out", "out", "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "settings:" in err and "hunter2-secret" not in err
    for path in Path("out").rglob("*"):
        if path.is_file():
            assert "hunter2-secret" not in path.read_text(errors="replace")


def test_a_lone_surrogate_or_control_characters_never_break_the_run(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hardening-0000000000000")

    def reply(request: httpx.Request) -> httpx.Response:
        text = answer_about("visual_valid.md", request)
        if "Load Balancer Beta" in request.content.decode():
            text += "\n- Broken bytes: \ud800 here, a NUL \x00 and an escape \x1b[31m red.\n"
        return openai_stream(text)

    httpx2_mock.post(OPENAI_URL).mock(side_effect=reply)
    assert run(["generate", "Load Balancer Alpha", "Load Balancer Beta", "--persona", "visual",
                "--out", "out"]) == 0
    beta = Path("out/visual/load-balancer-beta.md").read_text()
    assert "Broken bytes: \ufffd here" in beta and "\x00" not in beta and "\x1b" not in beta
    assert Path("out/visual/load-balancer-alpha.md").is_file()


def test_an_alias_bomb_in_an_index_is_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = ('Topics:\n  - topic: URL Shortener\n    context: [&a ["lol","lol","lol","lol","lol",'
            '"lol","lol","lol","lol"], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], '
            '&c [*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c], '
            '[*d,*d,*d,*d,*d,*d,*d,*d,*d]]\n')
    index = tmp_path / "bomb.yaml"
    index.write_text(bomb)
    started = time.monotonic()
    assert run(["generate", "--index", str(index), "--dry-run"]) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err.strip()
    assert "'context' must be text" in err and "\n" not in err


def test_an_oversized_context_is_refused(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "big.yaml"
    index.write_text(yaml.safe_dump({"T": [{"topic": "X", "context": "y" * 30_000}]}))
    assert run(["generate", "--index", str(index), "--dry-run"]) == 2
    assert "'context' is 30,000 characters long" in capsys.readouterr().err


def test_a_seed_outside_the_persona_folder_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    persona = tmp_path / "p" / "evil"
    persona.mkdir(parents=True)
    (persona / "persona.toml").write_text(
        'description = "x"\nseed = "../../../../../etc/passwd"\n'
        '[[sections]]\ntitle = "Overview"\n')
    (persona / "system.md.j2").write_text("{{ seed }}\n")
    code = run(["generate", "X", "--persona", "evil", "--personas-dir", str(tmp_path / "p"),
                "--dry-run", "--show-prompts"])
    captured = capsys.readouterr()
    assert code == 2 and "root:" not in captured.out
    assert "outside the persona's folder" in captured.err


def test_a_corrupt_recording_is_one_line_naming_the_file(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hardening-0000000000000")
    httpx2_mock.post(OPENAI_URL).mock(side_effect=_card)
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "a",
                "--record", "rec"]) == 0
    (recording,) = Path("rec").rglob("*.yaml")
    record = yaml.safe_load(recording.read_text())
    del record["response"]["text"]
    recording.write_text(yaml.safe_dump(record))
    capsys.readouterr()
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "b",
                "--replay", "rec"]) == 1
    err = capsys.readouterr().err
    assert f"{recording}: corrupt recording: 'response.text' is missing" in err
    assert "Traceback" not in err


def test_drafts_through_a_symlink_stay_inside_out(httpx2_mock: respx.Router,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hardening-0000000000000")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    Path("out").mkdir()
    os.symlink(outside, "out/_drafts")
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream("# Load Balancer\n\nToo short."))
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out"]) != 0
    assert not list(outside.rglob("*"))


def test_a_run_removes_stale_temporary_files(httpx2_mock: respx.Router,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hardening-0000000000000")
    folder = Path("out/visual")
    folder.mkdir(parents=True)
    stale = folder / ".load-balancer.md.a1b2c3d4.tmp"
    fresh = folder / ".other.md.zz99yy88.tmp"
    for path in (stale, fresh):
        path.write_text("half a note")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    httpx2_mock.post(OPENAI_URL).mock(side_effect=_card)
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out"]) == 0
    assert not stale.exists() and fresh.exists()  # a running run's own files are left alone


def test_a_web_page_instead_of_an_answer_says_so(httpx2_mock: respx.Router,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    route = httpx2_mock.post("http://llm.test/v1/chat/completions").mock(
        return_value=httpx.Response(200, headers={"content-type": "text/html"},
                                    content=b"<html><body>Sign in</body></html>"))
    assert run(["generate", "Load Balancer", "--persona", "visual", "--provider",
                "openai-compatible", "--base-url", "http://llm.test/v1", "--model", "m",
                "--out", "out"]) == 1
    assert "answered with a web page (content-type text/html)" in capsys.readouterr().err
    assert route.call_count == 1  # not retried: another try gets the same page


def test_a_category_cannot_break_the_index(httpx2_mock: respx.Router,
                                           monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hardening-0000000000000")
    httpx2_mock.post(OPENAI_URL).mock(side_effect=_card)
    index = tmp_path / "i.yaml"
    index.write_text('"Caching [[evil]] #x":\n  - Load Balancer\n')
    assert run(["generate", "--index", str(index), "--persona", "visual", "--out", "out"]) == 0
    text = Path("out/visual/index.md").read_text()
    assert "[[evil]]" not in text and "## Caching evil x" in text
    assert split_front_matter(text)[0]["tags"] == ["sdgen-index"]
    assert json.loads(Path("out/run-report.json").read_text())["ok"] is True


def _sdgen(url: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """sdgen in its own process: the result, its wall time and its peak RSS in MB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    script = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], "
              "capture_output=True, text=True); sys.stdout.write(p.stdout); "
              "sys.stderr.write(p.stderr + '\\nRSS %d' % resource.getrusage("
              "resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(p.returncode)")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script, sys.executable, "-m", "sdgen", "generate",
         "Load Balancer", "--persona", "visual", "--provider", "openai-compatible",
         "--base-url", url, "--model", "m", "--out", "out", "--max-wait", "1", *extra],
        capture_output=True, text=True, env=env, timeout=120)
    rss = int(done.stderr.rsplit("RSS ", 1)[1]) / 1024
    return done, time.monotonic() - started, rss


def test_a_50_mb_answer_fails_its_topic_fast_with_flat_memory() -> None:
    def flood(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        start_stream(handler)
        piece = chunk("lorem ipsum dolor sit amet " * 4000)  # ~108 KB an event
        for _ in range(500):  # ~50 MB
            handler.wfile.write(piece)
        handler.wfile.write(chunk("", "stop") + b"data: [DONE]\n\n")

    with hostile_server(flood) as (url, requests):
        done, wall, rss = _sdgen(url, "--retries", "2")
    assert done.returncode == 1, done.stderr
    assert "far more than" in done.stderr and "output tokens can hold" in done.stderr
    assert wall < 60 and rss < 300, (wall, rss)
    assert len(requests) == 1  # not retried: another try would be as large
    assert not list(Path("out").rglob("load-balancer.md"))


def test_answer_timeout_stops_a_trickle() -> None:
    def trickle(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        start_stream(handler)
        for letter in "one byte a second, for as long as anyone listens " * 100:
            handler.wfile.write(chunk(letter))
            handler.wfile.flush()
            time.sleep(1.0)

    with hostile_server(trickle) as (url, requests):
        done, wall, _ = _sdgen(url, "--answer-timeout", "3", "--retries", "3")
    assert done.returncode == 1 and wall < 60, (done.stderr, wall)
    assert "answer timeout (3 s)" in done.stderr
    assert len(requests) == 3  # retried like a timeout, then the topic failed in one line


def test_retry_after_is_a_floor_and_repeats_back_off() -> None:
    def full(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        data = b'{"error": {"message": "window full"}}'
        handler.send_response(429)
        handler.send_header("retry-after", "1")
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    with hostile_server(full) as (url, requests):
        done, _, _ = _sdgen(url, "--retries", "4", "--max-wait", "10")
    assert done.returncode == 1
    gaps = [b - a for a, b in itertools.pairwise(requests)]
    assert len(requests) == 4 and all(g >= 0.95 for g in gaps), gaps
    assert sum(gaps) > 3.0  # beyond the 1 s told, each repeat backs off further


def test_generate_keeps_a_hand_edited_note(httpx2_mock: respx.Router,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hardening-0000000000000")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=_card)
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out"]) == 0
    note = Path("out/visual/load-balancer.md")
    note.write_text(note.read_text() + "\nMy own notes from the study group.\n")
    edited = note.read_bytes()
    capsys.readouterr()
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out",
                "--model", "gpt-other"]) == 0
    assert note.read_bytes() == edited and route.call_count == 1
    assert "edited by hand since sdgen wrote it: kept (--force replaces it)" in capsys.readouterr().err
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out",
                "--model", "gpt-other", "--force"]) == 0
    assert note.read_bytes() != edited


def test_two_runs_into_one_folder_both_succeed_and_ask_once() -> None:
    from bench.server import TestServer

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    topics = ["System A", "System B", "System C", "System D"]
    with TestServer(latency=1.0, chunks=5) as server:
        runs = [subprocess.Popen(
            [sys.executable, "-m", "sdgen", "generate", *topics, "--provider",
             "openai-compatible", "--base-url", server.url, "--model", "m", "--out", "out",
             "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in runs]
        assert [p.returncode for p in runs] == [0, 0], [err for _, err in outputs]
        assert server.counts["answered"] == 4  # each topic asked for once, by one of the runs
    assert len(list(Path("out/obsidian").glob("system-*.md"))) == 4


def _children(parent: int) -> dict[int, str]:
    """The live processes whose parent is ``parent``, with their command lines (from /proc)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            if int(ppid) == parent and state != "Z":
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(
                    b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue  # gone meanwhile
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _processes_in(folder: Path) -> list[str]:
    """The command lines of running processes (other than this one) working in ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            inside = Path(os.readlink(entry / "cwd")).is_relative_to(folder.resolve())
            if inside and _running(int(entry.name)):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace"))
        except OSError:
            continue  # gone meanwhile, or another user's
    return found


@pytest.mark.parametrize("when", ["starting", "after-its-first-note"])
def test_workers_leave_when_their_parent_is_killed(when: str) -> None:
    """``kill -9`` of a run with worker processes, as soon as its first worker exists (its
    initializer then runs after the parent died) or once that worker has written a note: the
    worker, and multiprocessing's resource tracker, leave within seconds."""
    import signal

    from bench.notes import synthetic_note

    release = threading.Event()

    def behaviour(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        start_stream(handler)
        if "Topic: A topic" in json.dumps(body):  # answered at once: a worker checks it
            handler.wfile.write(chunk(synthetic_note("A topic", 8000)) + chunk("", "stop")
                                + b"data: [DONE]\n\n")
        else:
            release.wait(60)  # the run stays alive, with its workers, until it is killed

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    note = Path("out/obsidian/a-topic.md")
    with hostile_server(behaviour) as (url, _):
        run_ = subprocess.Popen(
            [sys.executable, "-m", "sdgen", "generate", "A topic", "B topic", "--provider",
             "openai-compatible", "--base-url", url, "--model", "m", "--out", "out",
             "--workers", "2", "--quiet"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            seen: dict[int, str] = {}
            worker = None
            deadline = time.monotonic() + 60
            while worker is None and run_.poll() is None and time.monotonic() < deadline:
                seen.update(_children(run_.pid))
                worker = next((pid for pid, cmd in seen.items() if "spawn_main" in cmd), None)
                if when != "starting" and not note.exists():
                    worker = None
                time.sleep(0.005)
            assert worker is not None, f"the run started no worker process: {seen}"
            os.kill(run_.pid, signal.SIGKILL)
            run_.wait()
        finally:
            release.set()
            if run_.poll() is None:
                run_.kill()
                run_.wait()
    alive = list(seen)
    deadline = time.monotonic() + 15
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if _running(pid)]
    for pid in alive:  # leave the machine clean, then say what lingered
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not alive, f"still running after their parent died: {[seen[p] for p in alive]}"


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["threads", "processes"])
@pytest.mark.parametrize("delay", [1.0, 3.0, 4.5], ids=["validating", "formatting", "late"])
def test_an_interrupt_while_a_large_answer_is_checked_exits_at_once_and_writes_nothing(
        workers: list[str], delay: float) -> None:
    """SIGTERM once a large answer has arrived, while it is validated (1 s after) or formatted
    (3.5 s after; 6-7 s uninterrupted): the run exits within seconds, and no note appears
    afterwards that the report calls unfinished."""
    import signal

    sent = threading.Event()
    paragraph = ("The gateway admits a request when its bucket holds a token, and each shard "
                 "of the counter store answers within a millisecond. ") * 8
    # A valid note whose last section runs on for 5 MB: validated, then formatted, for seconds.
    text = answer("senior_valid.md").rstrip() + "\n\n" + (paragraph + "\n\n") * 5000

    def large(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        start_stream(handler)
        for start in range(0, len(text), 65536):
            handler.wfile.write(chunk(text[start:start + 65536]))
        handler.wfile.write(chunk("", "stop") + b"data: [DONE]\n\n")
        handler.wfile.flush()
        sent.set()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    note = Path("out/senior/consistent-hashing.md")
    with hostile_server(large) as (url, _):
        process = subprocess.Popen(
            [sys.executable, "-m", "sdgen", "generate", "Consistent Hashing", "--persona", "senior",
             "--provider", "openai-compatible", "--base-url", url, "--model", "m", "--out", "out",
             "--max-tokens", "4000000", "--attempts", "1", "--quiet", *workers],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert sent.wait(60), "the server never finished its answer"
        time.sleep(delay)
        if note.exists():  # a machine fast enough to finish before the interrupt
            process.communicate(timeout=60)
            pytest.skip(f"the note was written within {delay} s: no interrupt to test")
        interrupted = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        took = time.monotonic() - interrupted
    assert process.returncode == 143, err
    assert took < 5, f"exit took {took:.1f} s after SIGTERM: {err[-2000:]}"
    # Abandoned work could write only from a process of the run's that outlived it (threads
    # end with their process): wait until none is left, then look at the disk.
    left = _processes_in(Path.cwd())
    deadline = time.monotonic() + 15
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = _processes_in(Path.cwd())
    assert not left, f"processes of the run outlived it: {left}"
    counts = json.loads(Path("out/run-report.json").read_text())["counts"]
    if counts["written"] == 1:  # the write itself had begun when the interrupt came
        assert note.exists() and run(["validate", str(note)]) == 0, counts
    else:  # the report and the disk agree: no note appears that the report calls unfinished
        assert counts["unfinished"] == 1, (counts, err[-2000:])
        assert not note.exists()
    assert not list(Path("out").rglob("*.tmp"))
    assert not list(Path("out/.sdgen").glob("stop-*")), "the run's stop flag is left behind"


def test_a_full_disk_keeps_every_answer_received(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """ENOSPC on the output disk: every answer received is kept as a draft on another disk (the
    system's temporary folder), and the run ends in one line that says where."""
    import errno
    import tempfile

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hardening-0000000000000")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=_card)
    other_disk = tmp_path / "tmp"
    other_disk.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(other_disk))
    out = Path("out").resolve()
    real_replace = os.replace

    def full(src: str, dst: str) -> None:
        if Path(dst).resolve().is_relative_to(out):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full)
    topics = [f"Load Balancer {n}" for n in range(6)]
    code = run(["generate", *topics, "--persona", "visual", "--out", "out", "--concurrency", "2"])
    err = capsys.readouterr().err
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert "No space left on device" in last and "the answer is kept in" in last
    kept = sorted(other_disk.rglob("*.md"))
    assert kept and len(kept) == route.call_count  # every answer received, none lost
    assert all("Load Balancer" in p.read_text() for p in kept)
    assert not [p for p in out.rglob("*.md")]


ROOT = Path(__file__).resolve().parents[1]
DEMO = ["--index", str(ROOT / "examples" / "topics.yaml"),
        "--replay", str(ROOT / "examples" / "recordings"), "--out", "output"]


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_notes_permissions_are_kept_and_a_read_only_note_is_never_replaced(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", *DEMO]) == 0
    private = Path("output/obsidian/scalability-patterns/rate-limiter.md")
    locked = Path("output/senior/messaging/idempotent-writes.md")
    private.chmod(0o600)
    locked.chmod(0o444)
    kept = locked.read_bytes()
    # A new note both name in prose ("Redis"): linking rewrites every note that mentions it.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hardening-0000000000000")
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(
        retitled(answer("obsidian_valid.md"), "Redis")))
    assert run(["generate", "Redis", "--persona", "obsidian", "--out", "output"]) == 0
    assert "[[obsidian/redis|Redis]]" in private.read_text() and _mode(private) == 0o600
    assert locked.read_bytes() == kept and _mode(locked) == 0o444
    links = json.loads(Path("output/run-report.json").read_text())["links"]
    assert links["kept_read_only"] == [str(locked)]
    capsys.readouterr()
    assert run(["link", "--out", "output"]) == 0
    assert f"kept as read-only (not linked): {locked}" in capsys.readouterr().out
    # Replayed again with --force: the private note is replaced and stays private; the
    # read-only one is not asked for, and the run says why in one line.
    assert run(["generate", *DEMO, "--force"]) == 0
    err = capsys.readouterr().err
    assert "read-only: kept (make it writable to let sdgen replace it)" in err
    assert _mode(private) == 0o600 and locked.read_bytes() == kept and _mode(locked) == 0o444
    # regen: one line, before any request is made.
    redis = Path("output/obsidian/redis.md")
    redis.chmod(0o444)
    calls = route.call_count
    assert run(["regen", str(redis), "--section", "1"]) == 2
    assert f"{redis}: read-only: not regenerated" in capsys.readouterr().err
    assert route.call_count == calls
    assert not list(Path("output").rglob("*.tmp"))


def test_the_demo_leaves_no_lock_file_and_earlier_ones_are_removed() -> None:
    assert run(["generate", *DEMO]) == 0
    locks = Path("output/.sdgen/locks")
    assert not locks.exists() or not list(locks.iterdir())
    # Lock files an earlier version left, one per note for good: the next run removes them.
    locks.mkdir(parents=True, exist_ok=True)
    for n in range(7):
        (locks / f"{n:024x}.lock").write_text("")
    assert run(["generate", *DEMO, "--force"]) == 0
    assert not locks.exists() or not list(locks.iterdir())
