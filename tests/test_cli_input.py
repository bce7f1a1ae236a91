"""Command-line input: an index from a pipe, keys from .env, -q and -v on either side."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import respx

from sdgen.cli import run
from tests.helpers import OPENAI_URL, answer_about, openai_stream

ROOT = Path(__file__).resolve().parents[1]


def test_an_index_from_a_pipe() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    done = subprocess.run(
        [sys.executable, "-m", "sdgen", "generate", "--index", "-", "--persona", "obsidian",
         "--replay", str(ROOT / "examples" / "recordings"), "--out", "out"],
        input="Rate Limiter\n", capture_output=True, text=True, env=env, timeout=120)
    # The recording was made for the demo's category; a plain topic has none: a strict miss,
    # reported for the topic read from the pipe.
    assert "Rate Limiter" in done.stderr and "no such index file" not in done.stderr
    yaml_index = "Scalability Patterns:\n  - topic: Rate Limiter\n    persona: obsidian\n"
    done = subprocess.run(
        [sys.executable, "-m", "sdgen", "generate", "--index", "-",
         "--replay", str(ROOT / "examples" / "recordings"), "--out", "out"],
        input=yaml_index, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path("out/obsidian/scalability-patterns/rate-limiter.md").is_file()


def test_a_key_in_dotenv_is_used_and_never_shown(httpx2_mock: respx.Router,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    key = "sk-proj-DotEnvKey0123456789abcdefXYZ"
    Path(".env").write_text(f"OPENAI_API_KEY={key}\n")
    seen: list[str] = []

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return openai_stream(answer_about("visual_valid.md", request) + f"\n- echo {key}\n")

    httpx2_mock.post(OPENAI_URL).mock(side_effect=reply)
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out", "-v"]) == 0
    assert seen == [f"Bearer {key}"]
    captured = capsys.readouterr()
    assert key not in captured.out + captured.err
    for path in Path("out").rglob("*"):
        if path.is_file():
            assert key not in path.read_text(), path


def test_the_real_environment_wins_over_dotenv(httpx2_mock: respx.Router,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-RealEnvironmentKey0123456789")
    Path(".env").write_text("OPENAI_API_KEY=sk-proj-DotEnvKey0123456789abcdefXYZ\n")
    route = httpx2_mock.post(OPENAI_URL).mock(
        side_effect=lambda r: openai_stream(answer_about("visual_valid.md", r)))
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out"]) == 0
    assert route.calls[0].request.headers["authorization"].endswith("RealEnvironmentKey0123456789")


@pytest.mark.parametrize("argv", [
    ["-q", "generate", "Rate Limiter", "--dry-run"],
    ["generate", "Rate Limiter", "--dry-run", "-q"],
    ["-v", "generate", "Rate Limiter", "--dry-run"],
    ["generate", "Rate Limiter", "--dry-run", "-v"],
])
def test_quiet_and_verbose_on_either_side_of_the_command(argv: list[str]) -> None:
    assert run(argv) == 0
