from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sdgen.cli import run
from sdgen.compose import load_persona, seeds_root
from sdgen.errors import PersonaError

SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


# The seeds as the team received them (sha256 of ../shared/seeds/*): they are kept verbatim and
# repaired only when loaded.
SEED_SHA256 = {
    "000_4a2328eddd826b9d.txt": "0a08014712907e9e66b0012580b2bc856974c00ff89d7ada3e11ec4491b44f9b",
    "001_2e65ddc117a73030.txt": "648bb223ecf64bff025ae2d3d7f12b099cb880e44f4edd0184708ba45e32287b",
    "002_a1bb32081207a25d.txt": "dc9021a397b657cc3e7f67fc5d010a5e0a937d726951d3b479ea9b5f8551d754",
    "003_9c98cf3176189704.txt": "226fcc20e93eb71cd69f50523ff8c1a98c35aa6c867664e3379ff91b338495e4",
    "004_35eeda2532d4c9ff.txt": "b8453982e05b5c49e2bed510bb6e0e3a8a413f4ee393de97ad0ffb02e64d8372",
}


def test_seeds_are_copied_byte_for_byte() -> None:
    names = sorted(p.name for p in seeds_root().iterdir())
    assert names == sorted(SEED_SHA256)
    for name, digest in SEED_SHA256.items():
        assert hashlib.sha256((seeds_root() / name).read_bytes()).hexdigest() == digest
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
        from sdgen.compose import Topic, compose
        compose(load_persona("mini", [tmp_path / "p"]), Topic("x"))


def test_schema_error_names_the_file(tmp_path: Path) -> None:
    _persona_folder(tmp_path / "p", MINI_SPEC.replace('title = "Summary"', 'titel = "Summary"'))
    with pytest.raises(PersonaError, match=r"persona\.toml: invalid persona spec"):
        load_persona("mini", [tmp_path / "p"])
