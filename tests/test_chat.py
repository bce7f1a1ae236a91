"""`sdgen chat` driven through a pseudo-terminal, against a real server on loopback."""

from __future__ import annotations

import io
import os
import pty
import select
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import respx

import sdgen
from bench.server import TestServer
from sdgen.cli import run
from sdgen.markdown import split_front_matter
from sdgen.run import ChatIO
from tests.helpers import OPENAI_URL, openai_stream, sent_json
from tests.test_interview import DESIGN, QUESTIONS, SUMMARY

ROOT = Path(__file__).resolve().parents[1]


def _reply(request: dict[str, Any]) -> str:
    users = [m for m in request["messages"] if m["role"] == "user"]
    if len(users) == 1:
        return QUESTIONS
    if "That's all" in users[-1]["content"]:
        return DESIGN
    return SUMMARY


def _read_until(fd: int, marker: bytes, seen: bytearray, times: int = 1,
                timeout: float = 30) -> None:
    """Read the terminal until ``marker`` has appeared ``times`` times in all."""
    deadline = time.monotonic() + timeout
    while seen.count(marker) < times:
        assert time.monotonic() < deadline, seen.decode(errors="replace")[-500:]
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                return


def test_chat_in_a_terminal_writes_a_valid_note() -> None:
    with TestServer(answer=_reply, chunks=10) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
        args = [sys.executable, "-m", "sdgen", "chat", "URL Shortener", "--provider",
                "openai-compatible", "--base-url", server.url, "--model", "local", "--out", "out"]
        pid, fd = pty.fork()
        if pid == 0:  # the child: sdgen, with the pseudo-terminal as its terminal
            os.execvpe(sys.executable, args, env)
        seen = bytearray()
        _read_until(fd, b"you> ", seen)
        assert b"Do links expire, or live forever?" in seen  # the questions, as they streamed
        os.write(fd, b"100M new links a month, links never expire.\n")
        _read_until(fd, b"you> ", seen, times=2)
        os.write(fd, b"Analytics can be asynchronous.\n")
        _read_until(fd, b"you> ", seen, times=3)
        os.write(fd, b"That's all\n")
        _read_until(fd, b"note written", seen)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")[-800:]
        assert b"FEATURE EXPECTATIONS" in seen and b"HIGH LEVEL DESIGN" in seen
        assert server.counts["answered"] == 4  # questions, two answers, the design
    note = Path("out/interview/url-shortener.md")
    text = note.read_text()
    assert "100M new links a month" in text and "Analytics can be asynchronous." in text
    assert text.count("```mermaid") == 2
    assert run(["validate", str(note)]) == 0


def _person(*lines: str) -> ChatIO:
    said = iter(lines)
    return ChatIO(lambda prompt: next(said, None), io.StringIO())


def test_chat_continues_an_answer_cut_at_the_output_limit(httpx2_mock: respx.Router,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-chat-000000000000000")
    cut = DESIGN.index("## (4)")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(QUESTIONS), openai_stream(SUMMARY),
        openai_stream(DESIGN[:cut], finish="length"), openai_stream(DESIGN[cut:])])
    outcome = sdgen.chat("URL Shortener", _person("100M links a month.", "That's all"),
                         out=Path("out"))
    assert outcome.status == "written", outcome.reason
    assert route.call_count == 4
    follow = sent_json(route, 3)["messages"]
    assert follow[-2] == {"role": "assistant", "content": DESIGN[:cut]}
    assert "cut off" in follow[-1]["content"]
    note = Path("out/interview/url-shortener.md").read_text()
    assert DESIGN[cut:cut + 200] in note and run(["validate", "out/interview/url-shortener.md"]) == 0


def test_chat_and_generate_give_the_same_input_hash(httpx2_mock: respx.Router,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-chat-000000000000000")
    httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(text) for text in (QUESTIONS, SUMMARY, DESIGN) * 3])
    options = ["--persona", "interview", "--max-tokens", "9000", "--temperature", "0.3"]
    assert run(["generate", "URL Shortener", "--out", "generated", *options]) == 0
    sdgen.chat("URL Shortener", _person("100M links a month.", "That's all"), out=Path("chatted"),
               max_tokens=9000, temperature=0.3)

    def recorded(path: str) -> str:
        return str(split_front_matter(Path(path).read_text())[0]["input_hash"])

    generated = recorded("generated/interview/url-shortener.md")
    assert generated == recorded("chatted/interview/url-shortener.md")
    # ... and it is the hash of these settings, not of the defaults:
    assert run(["generate", "URL Shortener", "--out", "defaults", "--persona", "interview"]) == 0
    assert recorded("defaults/interview/url-shortener.md") != generated
