"""The interview persona holds seed 002's conversation: topic, context, "That's all"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
import respx

from sdgen.cli import run
from sdgen.markdown import split_front_matter
from tests.helpers import ANTHROPIC_URL, OPENAI_URL, answer, anthropic_stream, openai_stream

FULL = answer("interview_valid.md")
QUESTIONS = """## Clarifying Questions

1. Do links expire, or live forever?
2. Are custom aliases needed?
3. What analytics do we need on clicks?
4. How many new links per month, and how many redirects?
"""
SUMMARY = FULL[FULL.index("## (1) FEATURE EXPECTATIONS"):FULL.index("## (3) DESIGN GOALS")]
DESIGN = "## Overview\n\n" + FULL[FULL.index("We will go depth-first"):FULL.index(
    "## Clarifying Questions")] + FULL[FULL.index("## (3) DESIGN GOALS"):]
CONTEXT = "100M new URLs a month, 10B redirects, links never expire, analytics async."


def _check_conversation(bodies: list[dict[str, object]], system_apart: bool) -> None:
    roles = [[m["role"] for m in b["messages"]] for b in bodies]  # type: ignore[index]
    lead = [] if system_apart else ["system"]
    assert roles == [[*lead, "user"], [*lead, "user", "assistant", "user"],
                     [*lead, "user", "assistant", "user", "assistant", "user"]]
    last = bodies[2]["messages"]
    texts = [m["content"] for m in last]  # type: ignore[index]
    assert texts[-5].startswith("Design URL Shortener")
    assert texts[-4] == QUESTIONS and CONTEXT in texts[-3]
    assert texts[-2] == SUMMARY and texts[-1].strip() == "That's all."


def _index(tmp_path: Path) -> str:
    path = tmp_path / "topics.yaml"
    path.write_text(f"Web:\n  - topic: URL Shortener\n    context: {CONTEXT}\n")
    return str(path)


def _replies(request: httpx.Request, bodies: list[dict[str, object]], stream: type) -> httpx.Response:
    body = json.loads(request.content)
    bodies.append(body)
    reply = [QUESTIONS, SUMMARY, DESIGN][len(bodies) - 1]
    return stream(reply)  # type: ignore[no-any-return]


def _note() -> str:
    return Path("out/interview/web/url-shortener.md").read_text()


def test_openai_three_turns_make_one_note(httpx2_mock: respx.Router, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-interview-000000000")
    bodies: list[dict[str, object]] = []
    httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda r: _replies(r, bodies, openai_stream))
    assert run(["generate", "--index", _index(tmp_path), "--persona", "interview",
                "--out", "out"]) == 0
    _check_conversation(bodies, system_apart=False)
    note = _note()
    meta, _, body = split_front_matter(note)
    assert meta["input_tokens"] == 3 * 1200  # every turn is counted
    assert "> [!INFO] Answers given" in body and CONTEXT in body
    assert "1. Do links expire, or live forever?" in body
    assert body.count("```mermaid") == 2
    for heading in ["## Clarifying Questions", "## (1) FEATURE EXPECTATIONS", "## Overview",
                    "## (4) HIGH LEVEL DESIGN", "## (6) JUSTIFY", "## Recap & Complicating"]:
        assert heading in body
    assert run(["validate", "out/interview/web/url-shortener.md"]) == 0


def test_anthropic_three_turns_make_one_note(httpx2_mock: respx.Router, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-interview-00000")
    bodies: list[dict[str, object]] = []
    httpx2_mock.post(ANTHROPIC_URL).mock(
        side_effect=lambda r: _replies(r, bodies, anthropic_stream))
    assert run(["generate", "--index", _index(tmp_path), "--persona", "interview",
                "--provider", "anthropic", "--out", "out"]) == 0
    _check_conversation(bodies, system_apart=True)
    assert all("seed" not in b and "Resolving Contending Updates" in str(b["system"])
               for b in bodies)
    assert run(["validate", "out/interview/web/url-shortener.md"]) == 0


def test_no_context_asks_for_assumptions(httpx2_mock: respx.Router,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-interview-000000000")
    bodies: list[dict[str, object]] = []
    httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda r: _replies(r, bodies, openai_stream))
    assert run(["generate", "URL Shortener", "--persona", "interview", "--out", "out"]) == 0
    second = bodies[1]["messages"][-1]["content"]  # type: ignore[index]
    assert "Make reasonable assumptions" in second


def test_repair_is_asked_within_the_conversation(httpx2_mock: respx.Router,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-interview-000000000")
    broken = re.sub(r"```mermaid\nC4Container.*?```\n", "", DESIGN, flags=re.S)
    deep_dive = DESIGN[DESIGN.index("## (5) DEEP DIVE"):DESIGN.index("## (6) JUSTIFY")]
    replies = [QUESTIONS, SUMMARY, broken, deep_dive]
    bodies: list[dict[str, object]] = []

    def reply(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return openai_stream(replies[len(bodies) - 1])

    httpx2_mock.post(OPENAI_URL).mock(side_effect=reply)
    assert run(["generate", "URL Shortener", "--persona", "interview", "--out", "out"]) == 0
    repair = bodies[3]["messages"]  # type: ignore[index]
    assert len(repair) == 8  # system + three turns and answers + the repair request
    assert repair[6]["content"] == broken
    assert 'Rewrite only the section "Deep Dive"' in repair[7]["content"]
    assert "<note>" not in repair[7]["content"]  # the conversation is the context
    assert Path("out/interview/url-shortener.md").read_text().count("```mermaid") == 2


def test_dry_run_counts_every_turn(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "URL Shortener", "--persona", "interview", "--dry-run"]) == 0
    row = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("URL Shortener"))
    assert row.split()[3] == "4"  # system + three user turns


def test_regen_of_a_section_continues_the_stored_conversation(
        httpx2_mock: respx.Router, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-interview-000000000")
    bodies: list[dict[str, object]] = []
    route = httpx2_mock.post(OPENAI_URL).mock(
        side_effect=lambda r: _replies(r, bodies, openai_stream))
    assert run(["generate", "--index", _index(tmp_path), "--persona", "interview",
                "--out", "out"]) == 0
    stored = Path("out/interview/web/.url-shortener.conversation.json")
    assert json.loads(stored.read_text())["messages"][-1]["content"] == DESIGN
    justify = ("## (6) JUSTIFY [5 min]\n\n- CDN absorbs 80% of reads; Redis serves 8K QPS with a node to "
               "spare; Cassandra sees under 1K QPS; P99 redirect about 30 ms, inside the goal.\n")
    route.side_effect = None
    route.return_value = openai_stream(justify)
    assert run(["regen", "out/interview/web/url-shortener.md", "--section", "justify"]) == 0
    request = json.loads(route.calls[-1].request.content)["messages"]
    assert [m["role"] for m in request] == ["system", "user", "assistant", "user", "assistant",
                                            "user", "assistant", "user"]
    assert request[6]["content"] == DESIGN and "<note>" in request[7]["content"]
    assert "Redis serves 8K QPS" in _note()


@pytest.mark.parametrize(("topic", "first_line"), [
    ("Design a ride-hailing service", "Design a ride-hailing service."),
    ("design Twitter's timeline.", "Design Twitter's timeline."),
    ("Build a chat app?", "Build a chat app?"),
    ("URL Shortener", "Design URL Shortener."),
])
def test_the_first_prompt_asks_for_the_design_once(httpx2_mock: respx.Router,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   topic: str, first_line: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-interview-000000000")
    bodies: list[dict[str, object]] = []
    httpx2_mock.post(OPENAI_URL).mock(side_effect=lambda r: _replies(r, bodies, openai_stream))
    run(["generate", topic, "--persona", "interview", "--out", "out"])
    first = bodies[0]["messages"][-1]["content"]  # type: ignore[index]
    assert first.split("\n")[0] == first_line
