"""Bad input: one clear line, exit code 2, nothing written, no traceback (unless --verbose)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from sdgen.cli import run
from sdgen.compose import prompts_root


def _index(name: str, content: str | bytes) -> str:
    path = Path(name)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def _persona_with(tmp_path: Path, file: str, text: str) -> str:
    import shutil

    folder = tmp_path / "personas"
    shutil.copytree(prompts_root() / "senior", folder / "senior")
    (folder / "senior" / file).write_text(text, encoding="utf-8")
    return str(folder)


CASES = {
    "empty index": (lambda t: ["--index", _index("e.txt", "# nothing\n")], "no topics"),
    "not UTF-8": (lambda t: ["--index", _index("l.txt", "Caf\xe9\n".encode("latin-1"))],
                  "not UTF-8"),
    "a directory": (lambda t: ["--index", "."], "is a directory"),
    "missing": (lambda t: ["--index", "nope.yaml"], "no such index file"),
    "YAML syntax error": (lambda t: ["--index", _index("b.yaml", "A:\n  - x\n - y\n")],
                          "b.yaml:3:2: YAML syntax error"),
    "duplicate topics": (lambda t: ["--index", _index("d.txt", "Raft\nPaxos\nraft\n")],
                         "duplicate topic 'raft'"),
    "10,000-character topic": (lambda t: ["--index", _index("x.txt", "x" * 10_000 + "\n")],
                               "10000 characters long"),
    "punctuation only": (lambda t: ["?!?"], "is not a topic"),
    "emoji only": (lambda t: ["🚀🔥"], "is not a topic"),
    "unknown persona": (lambda t: ["Raft", "--persona", "senoir"], "did you mean 'senior'"),
    "template error": (lambda t: ["Raft", "--persona", "senior", "--personas-dir",
                                  _persona_with(t, "system.md.j2", "{{ seed }\n")],
                       "system.md.j2:1: template syntax error"),
    "schema that does not load": (lambda t: ["Raft", "--persona", "senior", "--personas-dir",
                                             _persona_with(t, "persona.toml", "seed = [\n")],
                                  "persona.toml: cannot load persona spec"),
    "unwritable --out": (lambda t: ["Raft", "--out", _index("a-file", "x") + "/notes"],
                         "cannot create output folder"),
    "--concurrency 0": (lambda t: ["Raft", "--concurrency", "0"], "--concurrency: invalid"),
    "unknown provider": (lambda t: ["Raft", "--provider", "gemini"], "unknown provider"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-bad-input-0000000000")
    make_args, message = CASES[case]
    args = make_args(tmp_path)  # creates the bad input files first
    before = {p for p in Path(".").rglob("*")}
    assert run(["generate", *args]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sdgen: error:"), err
    assert message in lines[0]
    assert "Traceback" not in err
    assert {p for p in Path(".").rglob("*")} == before  # nothing written


def test_verbose_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "--index", "nope.txt", "--verbose"]) == 2
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(("command", "content", "message"), [
    ("validate", b"\xff\xfe\x00binary", "not UTF-8"),
    ("regen", b"# A note without front matter\n", "no front matter"),
    ("validate", b"# A note without front matter\n", "no persona in the note's front matter"),
])
def test_bad_notes(command: str, content: bytes, message: str,
                   capsys: pytest.CaptureFixture[str]) -> None:
    Path("note.md").write_bytes(content)
    extra = ["--section", "1"] if command == "regen" else []
    assert run([command, "note.md", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _hostile_persona(tmp_path: Path, template: str | None = None,
                     placeholders: str | None = None, seed: str | None = None) -> str:
    """The senior persona, copied, with a hostile system template, [placeholders] or seed."""
    folder = Path(_persona_with(tmp_path, "system.md.j2", template or "{{ seed }}\n"))
    spec = folder / "senior" / "persona.toml"
    text = spec.read_text(encoding="utf-8")
    if placeholders is not None:
        text = text.replace("[[sections]]", f"[placeholders]\n{placeholders}\n\n[[sections]]", 1)
    if seed is not None:
        (folder / "senior" / "seed.txt").write_text(seed, encoding="utf-8")
        text = "\n".join('seed = "seed.txt"' if line.startswith("seed =") else line
                         for line in text.split("\n"))
    spec.write_text(text, encoding="utf-8")
    return str(folder)


HOSTILE_PERSONAS = {
    "recursive macro": (dict(template="{% macro down(n) %}{{ down(n + 1) }}{% endmacro %}"
                             "{{ down(0) }}\n"), "system.md.j2:1: template error: "),
    "nested range(100000) loops": (dict(template=(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        "{{ seed }}\n")), "system.md.j2:1: template error: "),
    "nested loops over the seed": (dict(template=(
        "{% for a in seed %}{% for b in seed %}{% endfor %}{% endfor %}{{ seed }}\n")),
        "system.md.j2:1: template error: "),
    "a 50 MB string": (dict(template="{{ seed }}\n{{ 'x' * 50000000 }}\n"),
                       "system.md.j2:2: template error: "),
    "a string doubled in a loop": (dict(template=(
        "{% set ns = namespace(s='xx') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
        "{% endfor %}{{ ns.s }}\n")), "system.md.j2:1: template error: "),
    "a huge width": (dict(template="{{ seed.ljust(500000000) }}\n"),
                     "system.md.j2:1: template error: "),
    "an empty placeholder": (dict(placeholders='"" = "topic"'),
                             "persona.toml: invalid persona spec at placeholders: "),
    "a placeholder found 100,000 times": (dict(placeholders='"e" = "topic"',
                                               seed="Explain the e " * 50_000),
                                          "persona.toml: placeholder 'e' would make the seed"),
}


def _no_answer(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
    """A server that never answers: these runs must not ask it anything."""


@pytest.mark.parametrize("case", list(HOSTILE_PERSONAS))
def test_a_hostile_persona_is_one_line_and_exit_2_before_any_request(
        case: str, tmp_path: Path) -> None:
    """A persona's templates and persona.toml are input too: a render that would never end,
    recurse without end or make a prompt of millions of characters is refused in one line,
    exit 2, before any request (the real CLI, in its own process: a hang cannot hang the
    suite)."""
    import os
    import subprocess
    import sys
    import time

    from tests.hostile import hostile_server

    changes, message = HOSTILE_PERSONAS[case]
    personas = _hostile_persona(tmp_path, **changes)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDGEN_", "OPENAI_"))}
    with hostile_server(_no_answer) as (url, requests):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "sdgen", "generate", "Consistent Hashing", "--persona",
             "senior", "--personas-dir", personas, "--provider", "openai-compatible",
             "--base-url", url, "--model", "m", "--out", "out"],
            capture_output=True, text=True, env=env, timeout=120)
        took = time.monotonic() - started
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("sdgen: error: ") and message in lines[0], lines[0]
    assert "Traceback" not in done.stderr and not requests
    assert not Path("out").exists()  # nothing written
    assert took < 60, f"refused after {took:.0f} s"  # generous: well under a second is usual
