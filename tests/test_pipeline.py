"""The repair loop and the batch run, through the CLI and the real OpenAI SDK (HTTP mocked)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import respx

from sdgen.cli import run
from sdgen.markdown import split_front_matter
from tests.helpers import OPENAI_URL, answer, answer_about, openai_stream, sent_json

KEY = "sk-test-pipeline-0000000000000000"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("SDGEN_MAX_WAIT", "0.01")


def _without_mermaid(text: str) -> str:
    return re.sub(r"```mermaid\nflowchart LR.*?```\n", "", text, flags=re.S)


HLD_SECTION = """## 6. 🏗️ High-Level Architecture (HLD)

```mermaid
flowchart LR
    C[Clients] --> G[Gateway + limiter sidecar]
    G --> R[(Redis)]
    G --> B[Backends]
```

- Every request is checked in the sidecar against Redis before it reaches a backend.
"""


def test_repair_asks_only_for_the_failing_section(httpx2_mock: respx.Router) -> None:
    bad = _without_mermaid(answer("obsidian_valid.md"))
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(bad, usage=(1000, 3000)), openai_stream(HLD_SECTION, usage=(4000, 120))])
    assert run(["generate", "Rate Limiter", "--out", "out"]) == 0
    assert route.call_count == 2
    repair = sent_json(route, 1)["messages"]
    assert [m["role"] for m in repair] == ["system", "user"]
    assert 'Rewrite only the section "High-Level Architecture (HLD)"' in repair[1]["content"]
    assert "fix: needs a diagram" in repair[1]["content"]
    meta, _, body = split_front_matter(Path("out/obsidian/rate-limiter.md").read_text())
    assert meta["input_tokens"] == 5000 and meta["output_tokens"] == 3120
    assert "G --> R[(Redis)]" in body
    assert "## 7. 🧩 Microservices Decomposition" in body  # the rest of the first answer stays
    assert run(["validate", "out/obsidian/rate-limiter.md"]) == 0


def test_answer_with_its_structure_lost_is_asked_for_whole(httpx2_mock: respx.Router) -> None:
    good = answer("obsidian_valid.md")
    lost = "# Rate Limiter\n\nA rate limiter caps requests per client. " * 5
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[openai_stream(lost),
                                                           openai_stream(good)])
    assert run(["generate", "Rate Limiter", "--out", "out"]) == 0
    repair = sent_json(route, 1)["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert repair[2]["content"].strip() == lost.strip()  # the document as it stands
    assert "System Overview: missing section" in repair[3]["content"]


def test_answer_still_invalid_goes_to_drafts_and_exits_1(httpx2_mock: respx.Router,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad = _without_mermaid(answer("obsidian_valid.md"))
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[openai_stream(bad)] * 3)
    assert run(["generate", "Rate Limiter", "--out", "out", "--attempts", "3"]) == 1
    assert route.call_count == 3
    assert not Path("out/obsidian/rate-limiter.md").exists()
    draft = Path("out/_drafts/obsidian/rate-limiter.md")
    report = json.loads(draft.with_suffix(".report.json").read_text())
    assert draft.is_file() and report["report"]["valid"] is False
    assert report["calls"] == 3
    assert "INVALID Rate Limiter" in capsys.readouterr().err


def test_later_success_removes_the_stale_draft(httpx2_mock: respx.Router) -> None:
    good = answer("visual_valid.md")
    bad = good.replace("```text", "").replace("```\n", "\n")
    httpx2_mock.post(OPENAI_URL).mock(side_effect=[openai_stream(bad), openai_stream(good)])
    assert run(["generate", "LB", "--persona", "visual", "--out", "out", "--attempts", "1"]) == 1
    assert Path("out/_drafts/visual/lb.md").is_file()
    assert run(["generate", "LB", "--persona", "visual", "--out", "out", "--attempts", "1"]) == 0
    assert not Path("out/_drafts/visual/lb.md").exists()
    assert Path("out/visual/lb.md").is_file()


def test_refusal_is_a_failure_not_a_note(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream("I can't help.",
                                                                 finish="content_filter"))
    assert run(["generate", "LB", "--persona", "visual", "--out", "out"]) == 1
    assert not Path("out/visual/lb.md").exists()


def test_truncated_answer_is_never_final(httpx2_mock: respx.Router) -> None:
    text = answer("visual_valid.md")
    httpx2_mock.post(OPENAI_URL).mock(side_effect=[openai_stream(text, finish="length")] * 2)
    assert run(["generate", "LB", "--persona", "visual", "--out", "out"]) == 1
    assert not Path("out/visual/lb.md").exists()


def test_index_run_builds_the_tree_and_index(httpx2_mock: respx.Router, tmp_path: Path) -> None:
    index = tmp_path / "topics.yaml"
    index.write_text("Load Balancing:\n  - Round Robin\n  - Least Connections\n"
                     "Caching:\n  - topic: CDN\n    question: Push or pull?\n"
                     "Misc:\n  - Round Robin\n", encoding="utf-8")
    route = httpx2_mock.post(OPENAI_URL).mock(
        side_effect=lambda request: openai_stream(answer_about("visual_valid.md", request)))
    assert run(["generate", "--index", str(index), "--persona", "visual", "--out", "out"]) == 0
    assert route.call_count == 4
    files = sorted(p.relative_to("out").as_posix() for p in Path("out").rglob("*.md"))
    assert files == ["index.md", "visual/caching/cdn.md", "visual/index.md",
                     "visual/load-balancing/least-connections.md",
                     "visual/load-balancing/round-robin.md", "visual/misc/round-robin.md"]
    links = [x for x in Path("out/visual/index.md").read_text().splitlines() if x.startswith("- [[")]
    assert links == ["- [[visual/load-balancing/round-robin|Round Robin]]",
                     "- [[visual/load-balancing/least-connections|Least Connections]]",
                     "- [[visual/caching/cdn|CDN]]", "- [[visual/misc/round-robin|Round Robin]]"]
    meta, _, _ = split_front_matter(Path("out/visual/caching/cdn.md").read_text())
    assert meta["category"] == "Caching" and meta["question"] == "Push or pull?"
    assert {"title", "topic", "persona", "provider", "model", "created", "input_tokens",
            "output_tokens", "sdgen_version", "prompt_hash", "tags"} <= set(meta)
    assert not list(Path("out").rglob("*.tmp"))


def test_same_slug_topics_get_two_files(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(OPENAI_URL).mock(
        side_effect=lambda r: openai_stream(answer_about("visual_valid.md", r)))
    assert run(["generate", "Rate Limiter", "rate limiter!", "--persona", "visual",
                "--out", "out"]) == 0
    assert sorted(p.name for p in Path("out/visual").glob("rate*.md")) == [
        "rate-limiter-2.md", "rate-limiter.md"]


def test_hostile_topic_stays_inside_out(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(OPENAI_URL).mock(
        side_effect=lambda r: openai_stream(answer_about("visual_valid.md", r)))
    assert run(["generate", "../../etc/passwd", "--persona", "visual", "--out", "out"]) == 0
    assert Path("out/visual/etc-passwd.md").is_file()


def test_bad_index_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [b\n")
    assert run(["generate", "--index", str(bad), "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sdgen: error:") and "YAML syntax error" in err
    assert not Path("out").exists()


def test_no_topics_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "--out", "out"]) == 2
    assert "no topics" in capsys.readouterr().err


def _cut(text: str, marker: str) -> tuple[str, str]:
    at = text.index(marker)
    return text[:at], text[at:]


def test_answer_cut_mid_sentence_is_continued(httpx2_mock: respx.Router) -> None:
    full = answer("senior_valid.md")
    head, tail = _cut(full, "partitioned databases (Cassandra")  # mid-sentence
    assert head and tail
    last_line = head.rsplit("\n", 1)[-1]
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(head, finish="length", usage=(1000, 2000)),
        openai_stream(last_line + tail, usage=(3000, 900))])  # the model repeats its last line
    assert run(["generate", "Consistent Hashing", "--persona", "senior", "--out", "out"]) == 0
    follow = sent_json(route, 1)["messages"]
    assert [m["role"] for m in follow] == ["system", "user", "assistant", "user"]
    assert follow[2]["content"] == head and "Continue exactly where it stopped" in follow[3]["content"]
    body = Path("out/senior/consistent-hashing.md").read_text()
    assert body.count("Clear Real-World Examples") == 1
    assert "membership changes move only neighbouring arcs" in body


def test_answer_cut_inside_a_code_block_is_continued(httpx2_mock: respx.Router) -> None:
    full = answer("senior_valid.md")
    head, tail = _cut(full, "    def node_for(self, key: str) -> str:")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(head, finish="length"),
        openai_stream("```python\n" + tail)])  # the model reopens the block it was cut in
    assert run(["generate", "Consistent Hashing", "--persona", "senior", "--out", "out"]) == 0
    assert route.call_count == 2
    note = Path("out/senior/consistent-hashing.md").read_text()
    code = note.split("```python\n")[1].split("```")[0]
    assert "class HashRing:" in code and "def node_for" in code
    assert note.count("```python") == 1


def test_still_truncated_after_continuations_is_never_final(httpx2_mock: respx.Router) -> None:
    full = answer("senior_valid.md")
    pieces = [full[:2000], full[2000:4000], full[4000:6000]]
    httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(p, finish="length") for p in pieces] * 2)
    assert run(["generate", "CH", "--persona", "senior", "--out", "out", "--attempts", "1"]) == 1
    assert not Path("out/senior/ch.md").exists()
    report = json.loads(Path("out/_drafts/senior/ch.report.json").read_text())
    assert "cut off" in report["error"]


@pytest.mark.parametrize(("partial", "more", "joined"), [
    ("The ring maps ke", "ys to nodes.", "The ring maps keys to nodes."),
    ("Intro.\nThe ring maps keys to", "The ring maps keys to nodes.\n",
     "Intro.\nThe ring maps keys to nodes.\n"),
    ("text\n```python\nx = 1\n", "```python\ny = 2\n```\n", "text\n```python\nx = 1\ny = 2\n```\n"),
    ("A long sentence that the model will repeat in part", "will repeat in part, then go on.",
     "A long sentence that the model will repeat in part, then go on."),
])
def test_join_continuation(partial: str, more: str, joined: str) -> None:
    from sdgen.repair import join_continuation

    assert join_continuation(partial, more) == joined


def test_a_draft_can_be_validated_and_regenerated_like_a_note(
        httpx2_mock: respx.Router, capsys: pytest.CaptureFixture[str]) -> None:
    good = answer("obsidian_valid.md")
    route = httpx2_mock.post(OPENAI_URL).mock(
        side_effect=[openai_stream(_without_mermaid(good))] * 2)
    assert run(["generate", "Rate Limiter", "--out", "out", "--attempts", "2"]) == 1
    draft = Path("out/_drafts/obsidian/rate-limiter.md")
    meta = split_front_matter(draft.read_text())[0]
    assert meta["persona"] == "obsidian" and meta["topic"] == "Rate Limiter"
    assert "mermaid" in meta["draft"].lower()  # why it is a draft, in one line
    capsys.readouterr()
    assert run(["validate", str(draft)]) == 1
    assert "no persona" not in capsys.readouterr().err
    # The failing sections asked for again, in the draft itself.
    section = good[good.index("## 6."):good.index("## 7.")]
    route.side_effect = None
    route.return_value = openai_stream(section)
    assert run(["regen", str(draft), "--invalid"]) == 0
    assert run(["validate", str(draft)]) == 0
