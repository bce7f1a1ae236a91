"""A person's own work on a note is never lost: properties they add, edits made while the model
answers, and a topic whose name is one the vault's own files take (docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from sdgen.cli import run
from sdgen.markdown import split_front_matter
from sdgen.vault import user_property_lines
from tests.helpers import NEW_API, OPENAI_URL, answer_about, openai_stream

NOTE = Path("out/visual/load-balancer.md")
# As Obsidian's properties panel, or a person in an editor, adds them: a comment, a block
# scalar, a list and a date, at the end of the front matter.
THEIRS = """status: reviewed  # keep
my_notes: |
  Asked in the mock interview on Tuesday.
  Revisit the health-check part.
reviewed_on: 2026-11-30
study:
  - flashcards
  - whiteboard
"""

@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-user-edits-00000000000")
    monkeypatch.setenv("SDGEN_MAX_WAIT", "0.01")


def _card(request: httpx.Request) -> httpx.Response:
    return openai_stream(answer_about("visual_valid.md", request))


def _add_properties(note: Path, lines: str = THEIRS) -> None:
    text = note.read_text(encoding="utf-8")
    end = text.index("\n---\n", 3) + 1
    note.write_text(text[:end] + lines + text[end:], encoding="utf-8")


def _front_matter(note: Path) -> str:
    return split_front_matter(note.read_text(encoding="utf-8"))[1]


def test_properties_a_person_added_survive_a_forced_replacement_as_written(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=_card)
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out"]) == 0
    _add_properties(NOTE)
    edited = NOTE.read_bytes()
    capsys.readouterr()

    # Another model would replace the note: properties added by hand are a hand edit.
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out",
                "--model", "gpt-other"]) == 0
    assert NOTE.read_bytes() == edited and route.call_count == 1
    assert "its properties edited by hand since sdgen wrote it: kept" in capsys.readouterr().err

    # Replaced on request: every line of theirs is there as they wrote it.
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out",
                "--model", "gpt-other", "--force"]) == 0
    block = _front_matter(NOTE)
    assert route.call_count == 2 and "model: gpt-other" in block
    assert THEIRS in block
    meta = split_front_matter(NOTE.read_text(encoding="utf-8"))[0]
    assert meta["my_notes"] == "Asked in the mock interview on Tuesday.\nRevisit the health-check part.\n"

    # Now carried by sdgen, they are the note's own: the next model replaces the note again,
    # and keeps them again.
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out",
                "--model", "gpt-third"]) == 0
    assert route.call_count == 3 and "model: gpt-third" in _front_matter(NOTE)
    assert THEIRS in _front_matter(NOTE)

    # One of them changed by hand: a hand edit again.
    NOTE.write_text(NOTE.read_text(encoding="utf-8").replace("status: reviewed", "status: done"),
                    encoding="utf-8")
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out",
                "--model", "gpt-fourth"]) == 0
    assert route.call_count == 3 and "status: done  # keep" in _front_matter(NOTE)


def test_regen_keeps_a_persons_properties_byte_for_byte(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda request: openai_stream(
        answer_about("obsidian_valid.md", request)))
    assert run(["generate", "Rate Limiter", "--out", "out"]) == 0
    note = Path("out/obsidian/rate-limiter.md")
    _add_properties(note)
    before = _front_matter(note)
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(NEW_API))
    assert run(["regen", str(note), "--section", "API Design"]) == 0
    after = _front_matter(note)
    assert "Rewritten by the model" in note.read_text(encoding="utf-8")
    assert THEIRS in after and "regenerated:" in after
    # sdgen's own lines are as they were, but for the history and the body's hash.
    theirs_gone = [line for line in before.split("\n") if line not in after.split("\n")]
    assert [line.split(":")[0] for line in theirs_gone] == ["body_hash"]


def test_a_note_edited_while_the_model_answers_is_kept_and_the_answer_drafted(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    httpx2_mock.post(OPENAI_URL).mock(side_effect=_card)
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out"]) == 0
    mine = "\nA paragraph I wrote while the model was answering.\n"

    def slow_answer_meanwhile_edited(request: httpx.Request) -> httpx.Response:
        NOTE.write_text(NOTE.read_text(encoding="utf-8") + mine, encoding="utf-8")
        return _card(request)

    httpx2_mock.post(OPENAI_URL).mock(side_effect=slow_answer_meanwhile_edited)
    capsys.readouterr()
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out",
                "--model", "gpt-other"]) == 0
    err = capsys.readouterr().err
    assert NOTE.read_text(encoding="utf-8").endswith(mine)
    draft = Path("out/_drafts/visual/load-balancer.md")
    assert "changed on disk while the model answered" in err and str(draft) in err
    assert "# Load Balancer" in draft.read_text(encoding="utf-8")

    # The next run sees the edit for what it is.
    capsys.readouterr()
    assert run(["generate", "Load Balancer", "--persona", "visual", "--out", "out",
                "--model", "gpt-other"]) == 0
    assert "edited by hand" in capsys.readouterr().err


def test_regen_of_a_note_edited_while_the_model_answers_changes_nothing(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda request: openai_stream(
        answer_about("obsidian_valid.md", request)))
    assert run(["generate", "Rate Limiter", "--out", "out"]) == 0
    note = Path("out/obsidian/rate-limiter.md")
    mine = "\nMy paragraph, typed during the regeneration.\n"

    def meanwhile_edited(request: httpx.Request) -> httpx.Response:
        note.write_text(note.read_text(encoding="utf-8") + mine, encoding="utf-8")
        return openai_stream(NEW_API)

    httpx2_mock.post(OPENAI_URL).mock(side_effect=meanwhile_edited)
    capsys.readouterr()
    assert run(["regen", str(note), "--section", "API Design"]) == 1
    edited_while_asking = note.read_text(encoding="utf-8")
    assert edited_while_asking.endswith(mine) and "Rewritten by the model" not in edited_while_asking
    err = capsys.readouterr().err.strip()
    draft = Path("out/_drafts/obsidian/rate-limiter.md")
    assert len(err.splitlines()) == 1 and "changed on disk while the model answered" in err
    assert str(draft) in err and "Rewritten by the model" in draft.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["Index", "index", "ＩＮＤＥＸ", "İndex"])
def test_a_topic_named_index_never_takes_the_index_notes_place(
        httpx2_mock: respx.Router, name: str) -> None:
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=_card)
    Path("topics.yaml").write_text(f"Caching:\n  - {name}\n  - Load Balancer\n", encoding="utf-8")
    for _ in range(2):  # the second run finds the note up to date: nothing paid twice
        assert run(["generate", "--index", "topics.yaml", "--persona", "visual",
                    "--out", "out"]) == 0
    assert route.call_count == 2
    note = Path("out/visual/caching/index-note.md")
    assert f"# {name}" in note.read_text(encoding="utf-8")
    index = Path("out/visual/index.md").read_text(encoding="utf-8")
    assert "[[visual/caching/index-note|" in index and "tags:\n  - sdgen-index" in index
    assert not Path("out/visual/caching/index.md").exists()


def test_user_property_lines_keep_comments_and_blocks_and_nothing_of_sdgens() -> None:
    block = ("---\ntitle: Rate Limiter\n# my comment on the aliases\naliases:\n  - RL\n"
             f"{THEIRS}body_hash: abc\n---\n")
    assert user_property_lines(block) == THEIRS
    assert user_property_lines("---\ntitle: x\ntags:\n  - a\n---\n") == ""
    assert user_property_lines("---\nnot: [valid\n---\n") == ""  # unreadable: nothing to keep

