"""The shipped demo: replay examples/ offline, as CI and newcomers do."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import mdformat
import pytest
import yaml
from markdown_it import MarkdownIt

from sdgen.cli import run
from sdgen.compose import prompts_root
from sdgen.markdown import MD_EXTENSIONS

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "examples" / "topics.yaml"
RECORDINGS = ROOT / "examples" / "recordings"


def test_recordings_say_who_produced_them() -> None:
    files = sorted(RECORDINGS.rglob("*.yaml"))
    assert len(files) >= 6
    personas = set()
    answered: dict[tuple[str, str], int] = {}  # a conversation's turns count together
    for path in files:
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert record["produced_by"] and record["model"]
        key = (record["persona"], record["topic"])
        answered[key] = answered.get(key, 0) + len(record["response"]["text"])
        personas.add(record["persona"])
    assert min(answered.values()) > 1000
    assert personas == {"emoji", "visual", "interview", "obsidian", "senior"}  # every persona


def test_demo_replays_offline_into_valid_notes(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["generate", "--index", str(INDEX), "--replay", str(RECORDINGS), "--out", "output"])
    assert code == 0, capsys.readouterr().err
    notes = sorted(p.relative_to("output").as_posix() for p in Path("output").rglob("*.md")
                   if p.name != "index.md")
    assert notes == [
        "emoji/caching/content-delivery-network.md",
        "interview/interview-drills/url-shortener.md",
        "obsidian/scalability-patterns/rate-limiter.md",
        "senior/messaging/idempotent-writes.md",
        "senior/scalability-patterns/consistent-hashing.md",
        "visual/caching/cache-aside-pattern.md",
        "visual/messaging/message-queue.md",
    ]
    for note in notes:
        assert run(["validate", f"output/{note}"]) == 0, note
    assert sorted(p.parent.name for p in Path("output").rglob("index.md")) == [
        "emoji", "interview", "obsidian", "output", "senior", "visual"]  # the home note, then each persona's


_WIKILINK = re.compile(r"(?<!!)\[\[([^\]|#\n]*)(?:#[^\]|\n]*)?(?:\\?\|[^\]\n]*)?\]\]")


def _obsidian_finds(target: str, vault: Path) -> Path | None:
    """A link target as Obsidian finds it: by its path from the vault root, else the one file
    whose path ends with it (a file name is such an ending); never by title or alias."""
    target = target.strip().removesuffix(".md").casefold()
    files = {p.relative_to(vault).with_suffix("").as_posix().casefold(): p
             for p in vault.rglob("*.md")}
    if target in files:
        return files[target]
    ends = [p for name, p in files.items() if name.endswith("/" + target)]
    return ends[0] if len(ends) == 1 else None


def test_the_demo_vault_of_real_answers_links_as_obsidian_reads_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Real answers, read by a Markdown parser rather than by sdgen's own rules: every link is
    found by Obsidian, none is in code, a diagram, a heading or front matter, no note links
    itself or one note twice, and the notes do link each other."""
    assert run(["generate", "--index", str(INDEX), "--replay", str(RECORDINGS),
                "--out", "output"]) == 0, capsys.readouterr().err
    vault, parser = Path("output"), MarkdownIt("commonmark").enable("table")
    cross_links = 0
    for note in sorted(vault.rglob("*.md")):
        front, body = note.read_text(encoding="utf-8").split("\n---\n", 1)
        assert "[[" not in front, note
        targets: list[Path] = []
        for token in parser.parse(body):
            if token.type == "inline":
                prose = re.sub(r"(`+).*?\1", "", token.content)
                for target in _WIKILINK.findall(prose):
                    found = _obsidian_finds(target, vault)
                    assert found is not None, f"{note}: [[{target}]] is not found by Obsidian"
                    targets.append(found)
        headings = [line for line in body.splitlines() if re.match(r"#{1,6} ", line)]
        assert not [h for h in headings if "[[" in h], note
        if note.name != "index.md":
            assert note not in targets, f"{note} links itself"
            assert len(targets) == len(set(targets)), f"{note} links one note twice"
            cross_links += len(targets)
    # "CDN" in three notes, "cache-aside", "consistent hashing": the topics the answers share.
    assert cross_links >= 5
    for note in vault.rglob("*.md"):  # linked and all, formatting a note again changes no byte
        text = note.read_text(encoding="utf-8")
        assert mdformat.text(text, extensions=MD_EXTENSIONS,
                             options={"wrap": "keep", "number": True}) == text, note


def test_changed_template_is_reported_as_stale(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    edited = tmp_path / "personas"
    shutil.copytree(prompts_root() / "senior", edited / "senior")
    template = edited / "senior" / "system.md.j2"
    template.write_text(template.read_text() + "\n- Keep every section under 300 words.\n")
    code = run(["generate", "--index", str(INDEX), "--replay", str(RECORDINGS), "--out", "output",
                "--personas-dir", str(edited)])
    assert code == 1
    err = capsys.readouterr().err
    stale = {line.split("no recording for topic ")[1].split(" (")[0]
             for line in err.splitlines() if "no recording for topic" in line}
    assert stale == {"'Consistent Hashing'", "'Idempotent Writes'"}  # the senior topics only
    assert all("persona senior" in line for line in err.splitlines() if "no recording" in line)
    assert Path("output/visual/caching/cache-aside-pattern.md").is_file()
