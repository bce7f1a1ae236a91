from __future__ import annotations

from pathlib import Path

import pytest

from sdgen.cli import run
from sdgen.errors import PersonaError
from sdgen.personas import load_persona, seeds_root

SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def test_seeds_are_copied_byte_for_byte() -> None:
    names = sorted(p.name for p in seeds_root().iterdir())
    assert len(names) == 5
    if SHARED_SEEDS.is_dir():  # the team's originals, beside the repository
        for name in names:
            assert (seeds_root() / name).read_bytes() == (SHARED_SEEDS / name).read_bytes()


def test_personas_lists_the_five(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["personas"]) == 0
    out = capsys.readouterr().out
    for name in ["emoji", "visual", "obsidian", "senior", "interview"]:
        assert name in out


def test_personas_show_prints_the_composed_prompt(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["personas", "show", "obsidian", "--topic", "Design a chat app"]) == 0
    out = capsys.readouterr().out
    assert "comprehensive yet concise system design document for Design a chat app" in out
    assert "## 6. 🏗️ High-Level Architecture (HLD)" in out
    assert "[SYSTEM-DESIGN-TOPIC]" not in out


def test_unknown_persona_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["personas", "show", "obsidain"]) == 2
    err = capsys.readouterr().err
    assert "unknown persona 'obsidain'" in err and "did you mean 'obsidian'" in err
    assert "Traceback" not in err


def _persona_folder(root: Path, spec: str, system: str = "{{ seed }}\n") -> Path:
    folder = root / "mini"
    folder.mkdir(parents=True)
    (folder / "persona.toml").write_text(spec, encoding="utf-8")
    (folder / "system.md.j2").write_text(system, encoding="utf-8")
    (folder / "seed.txt").write_text("Explain TOPIC_HERE briefly.", encoding="utf-8")
    return folder


MINI_SPEC = '''description = "A tiny persona added without any Python change"
seed = "seed.txt"
[placeholders]
"TOPIC_HERE" = "topic"
[[sections]]
title = "Summary"
min_words = 3
'''


def test_a_new_persona_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _persona_folder(tmp_path / "personas", MINI_SPEC)
    assert run(["personas", "--personas-dir", str(tmp_path / "personas")]) == 0
    assert "mini" in capsys.readouterr().out
    code = run(["personas", "show", "mini", "--topic", "Caching",
                "--personas-dir", str(tmp_path / "personas")])
    assert code == 0
    assert "Explain Caching briefly." in capsys.readouterr().out


def test_template_error_names_the_file(tmp_path: Path) -> None:
    _persona_folder(tmp_path / "p", MINI_SPEC, system="{% if %}\n")
    with pytest.raises(PersonaError, match=r"system\.md\.j2:1: template syntax error"):
        from sdgen.compose import compose
        from sdgen.index import Topic
        compose(load_persona("mini", [tmp_path / "p"]), Topic("x"))


def test_schema_error_names_the_file(tmp_path: Path) -> None:
    _persona_folder(tmp_path / "p", MINI_SPEC.replace('title = "Summary"', 'titel = "Summary"'))
    with pytest.raises(PersonaError, match=r"persona\.toml: invalid persona spec"):
        load_persona("mini", [tmp_path / "p"])
