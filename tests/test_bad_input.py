"""Bad input: one clear line, exit code 2, nothing written, no traceback (unless --verbose)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdgen.cli import run
from sdgen.personas import prompts_root


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
