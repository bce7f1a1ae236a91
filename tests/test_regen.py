"""`sdgen regen`: one section regenerated in place, every other byte kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import respx

from sdgen.cli import run
from sdgen.compose import Topic, load_persona
from sdgen.markdown import split_front_matter
from sdgen.repair import check_answer
from sdgen.vault import render_note
from tests.helpers import NEW_API, OPENAI_URL, answer, answer_about, openai_stream, sent_json


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-regen-000000000000")
    monkeypatch.setenv("SDGEN_MAX_WAIT", "0.01")


def _note(text: str = "", persona: str = "obsidian") -> Path:
    body, _ = check_answer(load_persona(persona), Topic("Rate Limiter"),
                           text or answer(f"{persona}_valid.md"))
    path = Path("rate-limiter.md")
    path.write_text(render_note(body, {"title": "Rate Limiter", "topic": "Rate Limiter",
                                       "persona": persona, "provider": "openai",
                                       "model": "gpt-5.4-mini"}), encoding="utf-8")
    return path


def _section(text: str, number: int) -> str:
    match = re.search(rf"(?ms)^## {number}\. .*?(?=^## {number + 1}\. |\Z)", text)
    assert match
    return match.group(0)


def test_one_section_is_replaced_and_nothing_else(httpx2_mock: respx.Router) -> None:
    path = _note()
    before = path.read_text()
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(
        "Sure, here is the rewritten section:\n\n" + NEW_API))
    assert run(["regen", str(path), "--section", "api design",
                "--instructions", "Use gRPC for the hot path"]) == 0
    after = path.read_text()
    meta_before, _, body_before = split_front_matter(before)
    meta_after, _, body_after = split_front_matter(after)
    old, new = _section(body_before, 5), _section(body_after, 5)
    assert "Rewritten by the model" in new
    assert body_before.replace(old, "") == body_after.replace(new, "")  # all else identical
    assert new.startswith(old.split("\n")[0])  # the heading line itself is kept
    changed = {k for k in meta_after if meta_after[k] != meta_before.get(k)}
    assert changed == {"regenerated", "body_hash"}
    assert meta_after["regenerated"][0]["sections"] == ["API Design"]
    request = sent_json(route)["messages"]
    assert [m["role"] for m in request] == ["system", "user"]
    assert "Rewrite only the section \"API Design\"" in request[1]["content"]
    assert "Use gRPC for the hot path" in request[1]["content"]
    assert "## 12. ⚖️ Trade-offs & Alternatives" in request[1]["content"]  # the note as context
    assert run(["validate", str(path)]) == 0


@pytest.mark.parametrize("query", ["5", "API design", "🔌 API Design", "5. API Design"])
def test_section_names_match_loosely(httpx2_mock: respx.Router, query: str) -> None:
    path = _note()
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(NEW_API))
    assert run(["regen", str(path), "--section", query]) == 0
    assert "Rewritten by the model" in path.read_text()


def test_unknown_section_lists_the_sections(capsys: pytest.CaptureFixture[str]) -> None:
    path = _note()
    assert run(["regen", str(path), "--section", "Billing"]) == 2
    err = capsys.readouterr().err
    assert "no section is named 'Billing'" in err and "5. API Design" in err


def test_list_shows_each_section_state(capsys: pytest.CaptureFixture[str]) -> None:
    text = re.sub(r"(## 4\. 🗄️ Data Model\n).*?(?=## 5\.)", r"\1\nTBD.\n\n",
                  answer("obsidian_valid.md"), flags=re.S)
    path = _note(text)
    assert run(["regen", str(path), "--list"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"4\. FAIL\s+Data Model", out) and "too short" in out
    assert re.search(r"5\. ok\s+API Design", out)


def test_invalid_regenerates_exactly_the_failing_sections(httpx2_mock: respx.Router) -> None:
    text = re.sub(r"(## 4\. 🗄️ Data Model\n).*?(?=## 5\.)", r"\1\nTBD.\n\n",
                  answer("obsidian_valid.md"), flags=re.S)
    path = _note(text)
    reply = ("## 4. 🗄️ Data Model\n\n- Rules in PostgreSQL, counters in Redis hashes keyed by "
             "rule and client, with TTLs of one window so that idle keys expire by themselves.\n")
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(reply))
    assert run(["regen", str(path), "--invalid"]) == 0
    assert route.call_count == 1
    assert "Rewrite only the section \"Data Model\"" in sent_json(route)["messages"][1]["content"]
    assert "too short" in sent_json(route)["messages"][1]["content"]
    assert run(["validate", str(path)]) == 0


def test_failed_regeneration_leaves_the_note_exactly_as_it_was(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    path = _note()
    before = path.read_bytes()
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(
        "## 6. 🏗️ High-Level Architecture (HLD)\n\nNo diagram this time, just words.\n"))
    assert run(["regen", str(path), "--section", "6"]) == 1
    assert route.call_count == 2  # one repair attempt, then give up
    assert path.read_bytes() == before
    assert "is unchanged" in capsys.readouterr().err


def test_hand_edited_note_needs_force(httpx2_mock: respx.Router,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = _note()
    assert "sub-millisecond overhead" in path.read_text()
    path.write_text(path.read_text().replace("sub-millisecond overhead", "tiny overhead"))
    edited = path.read_bytes()
    assert run(["regen", str(path), "--section", "5"]) == 2
    assert "edited by hand" in capsys.readouterr().err
    assert path.read_bytes() == edited
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(NEW_API))
    assert run(["regen", str(path), "--section", "5", "--force"]) == 0
    assert "tiny overhead" in path.read_text()


def test_regen_records_and_replays(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _note()
    original = path.read_bytes()
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(NEW_API))
    assert run(["regen", str(path), "--section", "5", "--record", "rec"]) == 0
    regenerated = path.read_text()
    record = next(Path("rec").rglob("*.yaml")).read_text()
    assert "Rewrite only the section" in record
    path.write_bytes(original)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert run(["regen", str(path), "--section", "5", "--replay", "rec"]) == 0
    assert path.read_text() == regenerated


def test_regen_needs_front_matter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = tmp_path / "bare.md"
    bare.write_text("# Just a note\n")
    assert run(["regen", str(bare), "--section", "1"]) == 2
    assert "no front matter" in capsys.readouterr().err


def test_regen_keeps_to_the_spending_cap(httpx2_mock: respx.Router,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = _note()
    before = path.read_bytes()
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(NEW_API))
    # One request's worst case (its input and 16,000 output tokens) is some $0.03 here.
    assert run(["regen", str(path), "--section", "api design", "--max-cost", "0.001"]) == 3
    assert route.call_count == 0 and path.read_bytes() == before
    assert "spending cap $0.0010 reached" in capsys.readouterr().err
    assert run(["regen", str(path), "--section", "api design", "--max-cost", "1"]) == 0
    assert route.call_count == 1


def test_a_misspelt_section_is_named_before_any_setting(httpx2_mock: respx.Router,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = _note()
    text = path.read_text().replace("provider: openai", "provider: openai-compatible")
    path.write_text(text)
    assert run(["regen", str(path), "--section", "API Desing"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "base-url" not in err
    assert "'API Desing' → 'API Design'" in err and "--section 5" in err
    assert not httpx2_mock.calls


def test_a_note_from_an_openai_compatible_server_is_regenerated_there(
        httpx2_mock: respx.Router) -> None:
    server = "http://llm.test/v1"
    route = httpx2_mock.post(f"{server}/chat/completions").mock(
        side_effect=lambda request: openai_stream(answer_about("obsidian_valid.md", request)))
    assert run(["generate", "Rate Limiter", "--provider", "openai-compatible", "--base-url",
                "http://user:hunter2-secret@llm.test/v1", "--model", "local", "--out", "out"]) == 0
    note = Path("out/obsidian/rate-limiter.md")
    meta = split_front_matter(note.read_text())[0]
    assert meta["base_url"] == server and "hunter2" not in note.read_text()
    route.side_effect = None
    route.return_value = openai_stream(NEW_API)
    assert run(["regen", str(note), "--section", "API Design"]) == 0  # no --base-url needed
    assert route.call_count == 2 and "Rewritten by the model" in note.read_text()


def test_a_rejected_regeneration_says_why(httpx2_mock: respx.Router,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = _note()
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(
        "## 6. 🏗️ High-Level Architecture (HLD)\n\nNo diagram this time, just words.\n"))
    assert run(["regen", str(path), "--section", "6"]) == 1
    err = capsys.readouterr().err
    assert "High-Level Architecture" in err and "mermaid" in err.lower()
    assert "no valid answer" not in err
