"""Freed memory goes back to the OS: a long run's resident size is what it uses."""

from __future__ import annotations

import sys

import pytest

from sdgen._memory import _malloc_trim, release_free_memory


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux") or _malloc_trim() is None,
                    reason="glibc's malloc_trim only")
def test_memory_freed_between_live_objects_is_given_back() -> None:
    # 1 KB objects come from malloc, not Python's arenas; one in fifty stays alive, so the
    # freed memory sits between live ones, where malloc keeps it until trimmed.
    blocks = [bytes(1000) + i.to_bytes(4, "little") for i in range(80_000)]
    kept = blocks[::50]
    del blocks
    before = _rss_mb()
    release_free_memory()
    after = _rss_mb()
    assert before - after > 30, (before, after)
    assert len(kept) == 1600
