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
    key = "planted-dotenv-test-key-0123456789"
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
    monkeypatch.setenv("OPENAI_API_KEY", "planted-environment-test-key-0123456789")
    Path(".env").write_text("OPENAI_API_KEY=planted-dotenv-test-key-0123456789\n")
    route = httpx2_mock.post(OPENAI_URL).mock(
        side_effect=lambda r: openai_stream(answer_about("visual_valid.md", r)))
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out"]) == 0
    assert route.calls[0].request.headers["authorization"].endswith("environment-test-key-0123456789")


def test_a_bad_value_in_dotenv_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".env").write_text("SDGEN_CONCURRENCY=many\n")
    assert run(["generate", "Rate Limiter", "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sdgen: error: SDGEN_CONCURRENCY (in ") and ".env): invalid" in err
    assert "\n" not in err


@pytest.mark.parametrize("argv", [
    ["-q", "generate", "Rate Limiter", "--dry-run"],
    ["generate", "Rate Limiter", "--dry-run", "-q"],
    ["-v", "generate", "Rate Limiter", "--dry-run"],
    ["generate", "Rate Limiter", "--dry-run", "-v"],
])
def test_quiet_and_verbose_on_either_side_of_the_command(argv: list[str]) -> None:
    assert run(argv) == 0


def _complete(line: str) -> list[str]:
    """What bash completes for ``line``, with the script `sdgen completion bash` prints."""
    script = (
        'source <(sdgen completion bash)\n'
        'COMP_LINE="$LINE"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< "$COMP_LINE"\n'
        '[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")\n'
        'COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _python_argcomplete sdgen\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGEN_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          env={**env, "LINE": line}, timeout=60)
    return [w.strip() for w in done.stdout.split("\n") if w.strip()]


def test_bash_completes_commands_options_and_persona_names() -> None:
    assert _complete("sdgen gen") == ["generate"]
    assert "--persona" in _complete("sdgen generate --pers")
    assert _complete("sdgen generate --persona ") == [
        "emoji", "interview", "obsidian", "senior", "visual"]
    assert "obsidian" in _complete("sdgen personas show ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_for_each_shell(shell: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["completion", shell]) == 0
    assert "sdgen" in capsys.readouterr().out


def test_every_option_has_help_and_commands_show_examples(
        capsys: pytest.CaptureFixture[str]) -> None:
    from sdgen.cli import _parser

    parser = _parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        for action in command._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"sdgen {name} {action.option_strings[0]} has no help"
    for name in ("generate", "regen", "validate", "chat", "personas", "link"):
        assert run([name, "--help"]) == 0
        assert "examples:" in capsys.readouterr().out, name


def test_an_argument_error_is_one_line_and_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "--concurrency", "many"]) == 2
    err = capsys.readouterr().err.strip().split("\n")
    assert err[0].startswith("sdgen generate: error: argument --concurrency")
    assert err[1:] == ["hint: sdgen generate --help"]
