"""A provider plug-in registered through the entry-point group, with its own key variable."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from types import MappingProxyType

import pytest

import sdgen.providers
from sdgen.cli import run

KEY = "echo-planted-0123456789abcdef"


@pytest.fixture
def echo_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = dict(sdgen.providers._entry_points())
    registry["echo"] = EntryPoint(name="echo", value="tests.plugin_provider:EchoProvider",
                                  group=sdgen.providers.GROUP)
    monkeypatch.setattr(sdgen.providers, "_registry", MappingProxyType(registry))
    monkeypatch.setenv("ECHO_API_KEY", KEY)


@pytest.mark.usefixtures("echo_registered")
def test_a_plugin_providers_own_key_is_redacted_everywhere(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["generate", "Rate Limiter", "--provider", "echo", "--record", "rec",
                "--out", "out", "--verbose"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "POST https://echo.invalid/v1 with key [redacted]" in captured.err  # it did log
    assert KEY not in captured.out + captured.err
    files = [p for p in (*Path("rec").rglob("*"), *Path("out").rglob("*")) if p.is_file()]
    assert any(p.suffix == ".yaml" for p in files) and any(p.suffix == ".md" for p in files)
    for path in files:
        assert KEY not in path.read_text(encoding="utf-8"), path
