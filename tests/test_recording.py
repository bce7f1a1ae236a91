"""Record and replay: readable files, no secrets, no network on replay, strict misses."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import respx
import yaml

from sdgen.cli import run
from tests.helpers import OPENAI_URL, answer, openai_stream

KEY = "sk-proj-planted-TESTKEY-00000"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fail any attempt to open a socket connection, and count the attempts."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network is disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def _record(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch, *answers: str,
            args: tuple[str, ...] = ("LB",)) -> int:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    httpx2_mock.post(OPENAI_URL).mock(side_effect=[
        openai_stream(a, usage=(900 + i, 1800 + i)) for i, a in enumerate(answers)])
    code = run(["generate", *args, "--persona", "visual", "--out", "out", "--record", "rec",
                "--verbose"])
    monkeypatch.delenv("OPENAI_API_KEY")
    return code


def test_record_writes_a_readable_file_per_exchange(httpx2_mock: respx.Router,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert _record(httpx2_mock, monkeypatch, answer("visual_valid.md")) == 0
    files = list(Path("rec").rglob("*.yaml"))
    assert len(files) == 1 and files[0].parent.name == "visual"
    record = yaml.safe_load(files[0].read_text())
    assert record["provider"] == "openai" and record["model"] == "gpt-5.4-mini"
    assert [m["role"] for m in record["request"]["messages"]] == ["system", "user"]
    assert record["request"]["max_tokens"] == 4000  # the visual persona's own budget
    assert record["response"]["text"] == answer("visual_valid.md")
    assert record["response"]["finish_reason"] == "stop"
    assert record["response"]["usage"] == {"input_tokens": 900, "output_tokens": 1800}
    assert "recorded_at" in record and "sdgen" in record["produced_by"]
    assert re.fullmatch(r"[0-9a-f]{64}", record["key"])


def test_no_secret_is_ever_recorded(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    leaky = answer("visual_valid.md") + f"\nDebug: Authorization: Bearer {KEY}\n"
    assert _record(httpx2_mock, monkeypatch, leaky) in (0, 1)
    output = capsys.readouterr()
    for path in Path(".").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="replace"), path
    assert KEY not in output.out + output.err


def test_replay_opens_no_socket_and_needs_no_key(httpx2_mock: respx.Router,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 no_network: list[object]) -> None:
    assert _record(httpx2_mock, monkeypatch, answer("visual_valid.md")) == 0
    recorded = Path("out/visual/lb.md").read_text()
    Path("out/visual/lb.md").unlink()
    assert run(["generate", "LB", "--persona", "visual", "--out", "out", "--replay", "rec"]) == 0
    assert no_network == []
    assert Path("out/visual/lb.md").read_text() == recorded


def test_replay_miss_names_topic_and_key(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str],
                                         no_network: list[object]) -> None:
    assert _record(httpx2_mock, monkeypatch, answer("visual_valid.md")) == 0
    code = run(["generate", "LB", "Another Topic", "--persona", "visual", "--out", "out2",
                "--replay", "rec"])
    assert code == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "Another Topic" in x)
    assert "no recording for topic 'Another Topic'" in line and re.search(r"key [0-9a-f]{12}", line)
    assert Path("out2/visual/lb.md").is_file()  # the recorded topic still finished


def test_repairs_replay_as_the_sequence_they_were(httpx2_mock: respx.Router,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  no_network: list[object]) -> None:
    good = answer("visual_valid.md")
    bad = good.replace("```text", "").replace("```\n", "\n")
    assert _record(httpx2_mock, monkeypatch, bad, good) == 0
    assert len(list(Path("rec").rglob("*.yaml"))) == 2
    first = Path("out/visual/lb.md").read_text()
    assert run(["generate", "LB", "--persona", "visual", "--out", "again", "--replay", "rec"]) == 0
    assert Path("again/visual/lb.md").read_text() == first
    assert "input_tokens: 1801" in first  # both calls counted: 900 + 901


def _tree(root: Path) -> dict[str, bytes]:
    # run-report.json records the run's wall time: the one file that is about the run, not output.
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.name != "run-report.json"}


def test_replayed_runs_are_byte_identical(httpx2_mock: respx.Router,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert _record(httpx2_mock, monkeypatch, answer("visual_valid.md"), answer("visual_valid.md"),
                   args=("LB", "Load Balancer")) == 0
    for out in ("a", "b"):
        assert run(["generate", "LB", "Load Balancer", "--persona", "visual", "--out", out,
                    "--replay", "rec"]) == 0
    assert _tree(Path("a")) == _tree(Path("b"))
    assert "created: '" in Path("a/visual/lb.md").read_text()


def test_record_and_replay_together_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    Path("rec").mkdir()
    assert run(["generate", "LB", "--record", "rec", "--replay", "rec", "--out", "out"]) == 2
    assert "cannot be used together" in capsys.readouterr().err
