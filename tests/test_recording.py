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


def _recorded(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One real recording of the topic LB; its file."""
    assert _record(httpx2_mock, monkeypatch, answer("visual_valid.md")) == 0
    Path("out/visual/lb.md").unlink()
    (path,) = Path("rec").rglob("*.yaml")
    return path


def _replay(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = run(["generate", "LB", "--persona", "visual", "--out", "out", "--replay", "rec"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("content", [
    b"key: null\n", b"42\n", b"- 1\n", b"", b"key: [1, 2]\n", b"{unclosed: [\n",
    b"\xff\xfe not text\n", b"key: abc\nresponse: {text: hi}\n"])
def test_a_stray_file_in_the_recordings_folder_is_one_line(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], no_network: list[object], content: bytes) -> None:
    _recorded(httpx2_mock, monkeypatch)
    stray = Path("rec/visual/notes.yaml")
    stray.write_bytes(content)
    code, err = _replay(capsys)
    assert code == 2
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert line.startswith(f"sdgen: error: {stray}: ")
    assert not Path("out/visual/lb.md").exists()


_USAGE_KEY = "response.usage.input_tokens"


@pytest.mark.parametrize(("field", "value"), [
    (_USAGE_KEY, float("inf")), (_USAGE_KEY, float("nan")), (_USAGE_KEY, -5),
    (_USAGE_KEY, "many"), (_USAGE_KEY, 10**30), (_USAGE_KEY, True), ("response.usage", [1]),
    ("response.text", 42), ("response.text", None), ("response", "text"),
    ("response.finish_reason", {"a": 1}), ("provider", ["openai"]), ("model", "m" * 1000),
    ("key", 7)])
def test_every_field_of_a_recording_is_checked(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], no_network: list[object], field: str,
        value: object) -> None:
    path = _recorded(httpx2_mock, monkeypatch)
    record = yaml.safe_load(path.read_text())
    *parents, name = field.split(".")
    target = record
    for parent in parents:
        target = target[parent]
    target[name] = value
    path.write_text(yaml.safe_dump(record))
    code, err = _replay(capsys)
    assert code == 1  # that topic fails, naming the file
    line = next(x for x in err.splitlines() if "LB" in x and "FAILED" in x)
    assert str(path) in line and "corrupt recording" in line
    assert not Path("out/visual/lb.md").exists()


def test_a_recorded_answer_is_held_to_the_online_size_cap(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], no_network: list[object]) -> None:
    path = _recorded(httpx2_mock, monkeypatch)
    record = yaml.safe_load(path.read_text())
    # The visual persona's budget is 4,000 output tokens: at most 52,000 characters online.
    record["response"]["text"] += "\nfiller line\n" * 5_000
    path.write_text(yaml.safe_dump(record))
    code, err = _replay(capsys)
    assert code == 1
    line = next(x for x in err.splitlines() if "LB" in x and "FAILED" in x)
    assert str(path) in line and "52,000 characters" in line
    assert not list(Path("out").rglob("lb*.md"))


def test_a_recording_too_large_for_its_request_is_not_parsed(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], no_network: list[object]) -> None:
    path = _recorded(httpx2_mock, monkeypatch)
    # Not even YAML past the first line: a parse would say so, the size check comes first.
    path.write_text(path.read_text() + "\n: [ {\n" + "x" * 2_000_000)
    code, err = _replay(capsys)
    assert code == 1
    line = next(x for x in err.splitlines() if "LB" in x and "FAILED" in x)
    assert str(path) in line and "bytes a recording of this request can be" in line


def test_usage_recorded_by_hand_is_counted_within_the_request(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        no_network: list[object]) -> None:
    path = _recorded(httpx2_mock, monkeypatch)
    record = yaml.safe_load(path.read_text())
    record["response"]["usage"] = {"input_tokens": 900_000_000, "output_tokens": 900_000_000}
    path.write_text(yaml.safe_dump(record))
    assert run(["generate", "LB", "--persona", "visual", "--out", "out", "--replay", "rec"]) == 0
    note = Path("out/visual/lb.md").read_text()
    assert "900000000" not in note and "output_tokens: " in note
