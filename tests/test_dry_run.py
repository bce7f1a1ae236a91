from __future__ import annotations

import math
from pathlib import Path

import pytest
import respx

from sdgen.cli import run
from sdgen.compose import Topic, compose, load_persona


def test_dry_run_prints_estimates_and_makes_no_call(httpx2_mock: respx.Router,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "Rate Limiter", "CDN", "--persona", "emoji", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert len(httpx2_mock.calls) == 0 and not Path("output").exists()
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    prompt = compose(load_persona("emoji"), Topic("Rate Limiter"))
    text = "\n".join(m.content for m in prompt.messages)
    expected = math.ceil(len(text.encode()) / 4)
    assert f"{expected:,}" in rows["Rate Limiter"] and "16,000" in rows["Rate Limiter"]
    assert "TOTAL" in rows and "$" in rows["TOTAL"]
    assert "gpt-5.4-mini" in out and "bytes/4" in out


def test_price_table_can_be_overridden(capsys: pytest.CaptureFixture[str]) -> None:
    Path("sdgen.toml").write_text('model = "my-model"\n[prices."my-model"]\ninput = 1000000\n'
                                  'output = 0\n')
    assert run(["generate", "Raft", "--persona", "senior", "--dry-run"]) == 0
    row = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Raft"))
    tokens = int(row.split()[4].replace(",", ""))
    assert row.endswith(f"${tokens:.4f}")


def test_unknown_model_has_no_price(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "Raft", "--model", "llama3.1", "--dry-run"]) == 0
    assert "n/a" in capsys.readouterr().out


def test_show_prompts_prints_the_messages(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["generate", "Raft", "--persona", "senior", "--dry-run", "--show-prompts"]) == 0
    out = capsys.readouterr().out
    assert "--- system ---" in out and "--- user ---\nTopic: Raft" in out
