from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Read before any test clears SDGEN_* variables: CI (.ci/run) installs Chromium and sets it, so
# that there a missing browser fails the browser tests instead of skipping them.
BROWSER_REQUIRED = os.environ.get("SDGEN_BROWSER_TESTS") == "required"


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


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from the system (Debian's package), driven by Playwright: no browser
    is downloaded. Module-scoped: Playwright's synchronous API keeps an event loop running on
    the main thread while it lives, which other modules' tests (asyncio.run) must not meet."""
    executable = _chromium()
    if executable is None:
        if BROWSER_REQUIRED:
            pytest.fail("no Chromium found, and SDGEN_BROWSER_TESTS=required")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()
