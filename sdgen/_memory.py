"""Freed memory given back to the operating system.

CPython and V8 free memory into glibc's malloc, which keeps it for reuse: after the diagram engine
compiles Mermaid (about 14 MB of parser scratch) and after each 50 KB note is parsed, checked and
formatted (about 15 MB of token objects), the process keeps that memory although nothing uses it.
``malloc_trim`` returns it, so a long run's resident size stays at what it uses.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache

__all__ = ["release_free_memory"]


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The process's own symbols, libc's among them (find_library would fork ldconfig).
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # glibc only: musl has none
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> None:
    """Give the heap's free memory back to the OS (glibc; elsewhere nothing happens)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
