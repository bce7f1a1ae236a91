"""A planted key never appears in any file or any output of a full run, failing topics included."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from sdgen.cli import run
from tests.helpers import OPENAI_URL, answer, openai_stream

KEY = "sk-proj-planted-TESTKEY-00000"


def test_key_is_nowhere(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("SDGEN_MAX_WAIT", "0.01")

    def reply(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"  # it was really sent
        if b"Topic: Echo" in request.content:  # a model that repeats what it saw
            return openai_stream(answer("visual_valid.md") + f"\nYour key is {KEY}\n")
        if b"Topic: Broken" in request.content:
            return httpx.Response(500, json={"error": {"message": f"bad key {KEY}"}})
        return openai_stream(answer("visual_valid.md"))

    httpx2_mock.post(OPENAI_URL).mock(side_effect=reply)
    code = run(["generate", "Fine", "Echo", "Broken", "--persona", "visual", "--out", "out",
                "--record", "rec", "--retries", "2", "--verbose"])
    assert code == 1  # Broken failed
    output = capsys.readouterr()
    assert KEY not in output.out and KEY not in output.err
    files = [p for p in Path(".").rglob("*") if p.is_file()]
    assert any(p.name == "run-report.json" for p in files) and any(p.suffix == ".yaml" for p in files)
    for path in files:
        assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path
