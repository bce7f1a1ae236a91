"""Files sdgen writes: names safe on every system, paths kept inside the output folder, atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import stat
import tempfile
import threading
import time
import unicodedata
import uuid
from pathlib import Path

from slugify import slugify

from .errors import OutputError, ReadOnlyFileError

__all__ = ["NoteLock", "StopFlag", "atomic_write", "inside", "is_read_only",
           "remove_stale_temp_files", "safe_segment"]

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
    behind (a running run's are seconds old and stay), and the lock files no run holds. The
    count removed."""
    removed = _remove_unheld_locks(root)
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
    process ends, however it ends.

    Its file lives only while the lock is held (a folder of a thousand notes keeps no thousand
    lock files): the holder unlinks it before it lets go, and whoever locked a file checks that
    it is still the one at the path, since a file unlinked while it was being locked locks
    nothing anyone else will look at."""

    _ATTEMPTS = 100  # lock files replaced under us this often: the folder is not usable

    def __init__(self, out: Path, note: Path) -> None:
        name = hashlib.sha256(str(note.relative_to(out)).encode("utf-8")).hexdigest()[:24]
        self.path = out / LOCKS / f"{name}.lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        for _ in range(self._ATTEMPTS):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # no folder yet, or the last release removed it
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except FileExistsError:
                    pass  # removed and made again meanwhile
                except OSError:
                    return True  # a folder that takes no lock file: go ahead unlocked
                continue
            except OSError:
                return True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except OSError:
                os.close(fd)
                return True
            if _same_file(fd, self.path):
                self._fd = fd
                return True
            os.close(fd)  # its holder unlinked it as we locked it: try the file there now
        return True

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()  # while still holding it: no one can be left holding it
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()  # only when no other lock is held


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is the file at ``path`` now."""
    try:
        held, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino)


def _remove_unheld_locks(root: Path) -> int:
    """Lock files no run holds, as earlier versions left one per note for good. The count."""
    import fcntl

    removed = 0
    for path in (root / LOCKS).glob("*.lock"):
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _same_file(fd, path):  # the protocol of NoteLock: unlinked while held
                path.unlink()
                removed += 1
        except OSError:
            pass  # held by a run: it removes it itself
        finally:
            os.close(fd)
    with contextlib.suppress(OSError):
        (root / LOCKS).rmdir()  # only when empty
    return removed


def is_read_only(path: Path) -> bool:
    """Whether ``path`` is a file its owner made read-only (no write permission for anyone, or
    none for this process): sdgen never replaces one, though the folder would let it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if not stat.S_ISREG(mode):
        return False
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it into place. A file that
    is there keeps its permissions; a read-only one is not replaced (ReadOnlyFileError)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode) & 0o777
    except OSError:
        mode = 0o666 & ~_UMASK  # a new file: an ordinary one (mkstemp makes 0600)
    if is_read_only(path):
        raise ReadOnlyFileError(f"{path}: read-only: not rewritten (make it writable, and run "
                                "again, to let sdgen replace it)")
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
        os.chmod(temp, mode)
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
