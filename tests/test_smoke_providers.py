from __future__ import annotations

import respx

from sdgen.cli import run
from tests.helpers import OPENAI_URL, answer, openai_stream


def test_openai_stream_end_to_end(httpx2_mock: respx.Router, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0000")
    route = httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(answer("obsidian_valid.md")))
    code = run(["generate", "Rate Limiter", "--out", "out"])
    print(capsys.readouterr())
    assert code == 0
    assert route.called
