"""Files sdgen writes: names safe on every system, paths kept inside the output folder, atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import tempfile
import threading
import time
import unicodedata
import uuid
from pathlib import Path

from slugify import slugify

from .errors import OutputError

__all__ = ["NoteLock", "StopFlag", "atomic_write", "inside", "remove_stale_temp_files",
           "safe_segment"]

LOCKS = Path(".sdgen") / "locks"

STALE_AFTER = 600.0  # seconds: a temporary file this old was left by a run that was killed

_UMASK = os.umask(0)
os.umask(_UMASK)
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}


def safe_segment(name: str, fallback: str = "untitled") -> str:
    """One path segment from any text: ASCII slug, no dots or separators, never reserved."""
    slug = slugify(unicodedata.normalize("NFKC", name), max_length=80, word_boundary=True,
                   save_order=True) or fallback
    if slug.split(".")[0] in _RESERVED:
        slug = f"{slug}-note"
    return slug


def inside(root: Path, path: Path) -> bool:
    """True when ``path`` resolves (symlinks followed) inside ``root``."""
    root_real, path_real = os.path.realpath(root), os.path.realpath(path)
    return os.path.commonpath([root_real, path_real]) == root_real


_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # what atomic_write names them


def remove_stale_temp_files(root: Path, older_than: float = STALE_AFTER) -> int:
    """Delete the temporary files of atomic_write, and the stop flags, that a killed run left
    behind (a running run's are seconds old and stay). The count removed."""
    removed = 0
    now = time.time()
    flags = (root / ".sdgen").glob("stop-*")  # the stop flags of killed runs (StopFlag)
    for path in itertools.chain(root.rglob(".*.tmp"), flags):
        try:
            if ((_TEMP_NAME.match(path.name) or path.name.startswith("stop-"))
                    and path.is_file() and not path.is_symlink()
                    and now - path.stat().st_mtime > older_than):
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


class NoteLock:
    """An advisory lock on one note, held while it is asked for and written, so two runs into
    one output folder never ask twice for the same topic. The system releases it when the
    process ends, however it ends."""

    def __init__(self, out: Path, note: Path) -> None:
        name = hashlib.sha256(str(note.relative_to(out)).encode("utf-8")).hexdigest()[:24]
        self.path = out / LOCKS / f"{name}.lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return True  # a folder that takes no lock file: go ahead unlocked
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except OSError:
            os.close(fd)
            return True
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a note is an ordinary file
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
        raise


class StopFlag:
    """A run's decision to stop, seen by the code that writes its notes: threads of this
    process (in memory, for good: work abandoned by the run never writes, however late it
    ends) and worker processes (a file of the run's own name under ``<out>/.sdgen/``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._here = threading.Event()

    @classmethod
    def for_run(cls, out: Path) -> StopFlag:
        return cls(out / ".sdgen" / f"stop-{os.getpid()}-{uuid.uuid4().hex[:8]}")

    def __getstate__(self) -> dict[str, Path]:
        return {"path": self.path}  # a worker process sees the file

    def __setstate__(self, state: dict[str, Path]) -> None:
        self.path = state["path"]
        self._here = threading.Event()

    def set(self) -> None:
        self._here.set()
        with contextlib.suppress(OSError):  # a full disk: this process stops all the same
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()

    def is_set(self) -> bool:
        return self._here.is_set() or self.path.exists()

    def remove_file(self) -> None:
        """Once no worker process is left to see it (the decision stays, in memory)."""
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
