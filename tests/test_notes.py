from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from sdgen._files import LOCKS, NoteLock, atomic_write, remove_stale_temp_files, safe_segment
from sdgen.compose import Topic, load_persona
from sdgen.errors import ReadOnlyFileError
from sdgen.markdown import format_markdown
from sdgen.repair import check_answer
from sdgen.vault import NoteRecord, note_path, render_note, write_index
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


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_keeps_the_mode_and_never_replaces_a_read_only_file(tmp_path: Path) -> None:
    new = tmp_path / "new.md"
    atomic_write(new, "x\n")
    umask = os.umask(0)
    os.umask(umask)
    assert _mode(new) == 0o666 & ~umask  # a new file: an ordinary one
    for mode in (0o600, 0o640, 0o664):
        note = tmp_path / f"note-{mode:o}.md"
        note.write_text("first\n")
        note.chmod(mode)
        atomic_write(note, "second\n")
        assert note.read_text() == "second\n" and _mode(note) == mode
    locked = tmp_path / "locked.md"
    locked.write_text("mine\n")
    locked.chmod(0o444)
    with pytest.raises(ReadOnlyFileError, match=r"locked\.md: read-only: not rewritten"):
        atomic_write(locked, "theirs\n")
    assert locked.read_text() == "mine\n" and _mode(locked) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))== []


def test_a_note_lock_leaves_no_file_and_stays_exclusive_as_its_file_comes_and_goes(
        tmp_path: Path) -> None:
    """Each release unlinks the lock file: a run that opened it just before, and locks it just
    after, must see it holds a file no longer there, and try again."""
    out = tmp_path / "out"
    notes = [out / "p" / f"n{i}.md" for i in range(2)]
    holders: dict[Path, int] = dict.fromkeys(notes, 0)
    overlaps: list[Path] = []
    guard = threading.Lock()

    def worker(seed: int) -> None:
        for n in range(300):
            note = notes[(n + seed) % 2]
            lock = NoteLock(out, note)
            while not lock.try_acquire():
                time.sleep(0)
            with guard:
                holders[note] += 1
                if holders[note] > 1:
                    overlaps.append(note)
            time.sleep(0)
            with guard:
                holders[note] -= 1
            lock.release()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not overlaps
    assert not (out / LOCKS).exists() or not list((out / LOCKS).iterdir())


def test_lock_files_left_by_earlier_runs_are_removed_unless_held(tmp_path: Path) -> None:
    held = NoteLock(tmp_path, tmp_path / "p" / "held.md")
    assert held.try_acquire()
    left = [NoteLock(tmp_path, tmp_path / "p" / f"old-{i}.md").path for i in range(3)]
    for path in left:  # as versions before 0.2 left one per note, for good
        path.write_text("")
    assert remove_stale_temp_files(tmp_path) == 3
    assert sorted((tmp_path / LOCKS).iterdir()) == [held.path]
    other = NoteLock(tmp_path, tmp_path / "p" / "held.md")
    assert not other.try_acquire()  # still held: its file was not taken from under it
    held.release()
    assert other.try_acquire()
    other.release()
    assert not (tmp_path / LOCKS).exists()


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
