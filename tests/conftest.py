from __future__ import annotations

import contextlib
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


def _processes_of(base: Path, session: int) -> dict[int, str]:
    """Running processes the suite started: children of this session, and any process (an
    orphaned worker, adopted by init) working in or naming the suite's temporary folders."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == session:
            continue
        try:
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:  # another user's process
                cwd = ""
        except (OSError, ValueError):
            continue  # gone meanwhile
        if state != "Z" and (int(ppid) == session or str(base) in cmdline
                             or Path(cwd).is_relative_to(base)):
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the suite, no process of its making is left running (a worker that outlived its
    run, a server never stopped): one look at /proc, a wait only when something is found."""
    yield
    if not Path("/proc/self/stat").exists():  # not Linux: nothing to look at
        return
    import signal
    import time

    base = tmp_path_factory.getbasetemp().resolve()
    left = _processes_of(base, os.getpid())
    deadline = time.monotonic() + 5  # a process that is leaving is given a moment
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = {pid: cmd for pid, cmd in _processes_of(base, os.getpid()).items() if pid in left}
    for pid in left:  # the machine is left clean, and the failure says what lingered
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if left:
        pytest.fail(f"processes of the suite still running after it: {sorted(left.values())}")
