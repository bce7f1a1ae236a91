from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No real keys, base URLs or sdgen settings leak in; each test runs in its own folder."""
    for name in list(os.environ):
        if name.startswith(("SDGEN_", "OPENAI_", "ANTHROPIC_")):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    saved = dict(os.environ)
    yield work
    # A .env read during the test set variables behind monkeypatch's back: put them back.
    os.environ.clear()
    os.environ.update(saved)
