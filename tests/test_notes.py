from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgen.files import atomic_write, safe_segment
from sdgen.notes import format_markdown, note_path, render_note
from sdgen.personas import load_persona
from sdgen.pipeline import check_answer
from sdgen.topics import Topic
from sdgen.vault import NoteRecord, write_index
from tests.helpers import answer


def test_paths_follow_persona_and_category(tmp_path: Path) -> None:
    path = note_path(tmp_path, "obsidian", "Caching & CDNs", "Cache-Aside Pattern")
    assert path == tmp_path / "obsidian" / "caching-cdns" / "cache-aside-pattern.md"
    assert note_path(tmp_path, "senior", None, "Raft") == tmp_path / "senior" / "raft.md"


@pytest.mark.parametrize("title", ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\x", "a\x00b",
                                   "CON", "..", "x" * 400])
def test_no_topic_writes_outside_out(tmp_path: Path, title: str) -> None:
    path = note_path(tmp_path, "obsidian", "../..", title)
    assert path.resolve().is_relative_to(tmp_path.resolve())
    assert len(path.name.encode()) <= 255
    assert path.stem.lower() not in {"con", "..", ""}


def test_same_slug_gets_two_files(tmp_path: Path) -> None:
    taken: set[Path] = set()
    first = note_path(tmp_path, "p", None, "Rate Limiter", taken)
    second = note_path(tmp_path, "p", None, "rate-limiter!", taken)
    assert first != second and second.name == "rate-limiter-2.md"


def test_symlink_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out = tmp_path / "out"
    (out / "p").mkdir(parents=True)
    os.symlink(outside, out / "p" / "cat")
    from sdgen.errors import OutputError
    with pytest.raises(OutputError, match="outside the output folder"):
        note_path(out, "p", "cat", "Topic")


def test_rendered_note_is_stable_and_keeps_diagrams(tmp_path: Path) -> None:
    body, report = check_answer(load_persona("obsidian"), Topic("Rate Limiter"),
                                answer("obsidian_valid.md"))
    assert report.valid
    note = render_note(body, {"title": "Rate Limiter", "persona": "obsidian"})
    assert format_markdown(note) == note  # formatting twice changes nothing
    mermaid = body.split("```mermaid\n")[2].split("```")[0]
    assert mermaid in note
    ascii_block = answer("emoji_valid.md").split("```text\n")[1].split("```")[0]
    emoji_body, _ = check_answer(load_persona("emoji"), Topic("x"), answer("emoji_valid.md"))
    assert ascii_block in render_note(emoji_body, {"persona": "emoji"})
    assert "> [!IMPORTANT] TL;DR" in note or "> [!important] TL;DR" in note


def test_wikilinks_survive_formatting() -> None:
    text = "# T\n\nSee [[caching/cache-aside|Cache aside]] and [[raft]].\n"
    assert format_markdown(text) == text


def test_atomic_write_leaves_no_temp_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a" / "note.md"
    atomic_write(target, "first\n")
    assert target.read_text() == "first\n"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    from sdgen.errors import OutputError
    with pytest.raises(OutputError, match="No space left"):
        atomic_write(target, "second\n")
    assert target.read_text() == "first\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["note.md"]


def test_index_links_every_note_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "obsidian"
    notes = [NoteRecord(folder / "caching" / "b.md", "B topic", "Caching"),
             NoteRecord(folder / "caching" / "a.md", "A topic", "Caching"),
             NoteRecord(folder / "raft.md", "Raft", None)]
    text = write_index(folder, "obsidian", notes).read_text()
    links = [line for line in text.splitlines() if line.startswith("- [[")]
    # From the vault root: "caching/b" alone could be another persona's note as well.
    assert links == ["- [[obsidian/caching/b|B topic]]", "- [[obsidian/caching/a|A topic]]",
                     "- [[obsidian/raft|Raft]]"]
    assert "## Caching" in text and "## Other topics" in text


def test_safe_segment_never_empty() -> None:
    assert safe_segment("🚀🔥") == "untitled"
    assert safe_segment("aux") == "aux-note"
