"""The writer lock of a campaign folder: one process writes at a time.

Writing a campaign (``evaluate``, ``augment``, ``sample``, ``explore``,
``save``, ``discover``, ``medeq run``) holds the lock; reading it
(``MED.load``, ``medeq show``/``report``/``export``) never needs it.

The lock is ``flock`` on ``.medeq-writer.lock`` through :mod:`filelock`:
the kernel drops it when its holder dies, so a lock left by a crashed or
killed process is simply taken over (with a warning naming that process,
from the note ``.medeq-writer.json`` it left). On NFS, Linux implements
``flock`` with POSIX byte-range locks that the server arbitrates (NFSv4, or
NFSv3 with ``lockd``), so writers on different nodes exclude each other; a
mount with ``nolock`` / Lustre with ``localflock`` only excludes writers on
the same node; Lustre mounted without ``flock`` support makes filelock fall
back to a lock file (``fallback_to_soft``) that a dead process leaves behind.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import filelock

from .fileio import atomic_write


class CampaignLocked(RuntimeError):
    """Another process is writing to the campaign folder."""


class CampaignChanged(RuntimeError):
    """The campaign folder was saved by another process since a ``MED`` read it."""


#: The lock file (``flock``) and the note saying who holds it.
LOCK_FILE = ".medeq-writer.lock"
HOLDER_FILE = ".medeq-writer.json"


class CampaignChanged(RuntimeError):
    """The campaign folder was saved by another process since a ``MED`` read it."""


class WriterLock:
    """The one writer lock of a campaign folder in this process (reentrant).

    ``flock`` on ``.medeq-writer.lock`` (through :mod:`filelock`): the
    operating system drops it when the holder dies, so a lock left by a dead
    process is taken over; the holder's note (host, pid, since when) is
    then reported in a warning. Use :func:`writer_lock`.
    """

    _registry: dict[Path, WriterLock] = {}
    _guard = threading.Lock()

    def __init__(self, directory: Path):
        self.directory = directory
        self.depth = 0
        self.written: int | None = None  # the last revision this process saved
        self._lock = filelock.FileLock(str(directory / LOCK_FILE), thread_local=False)

    @classmethod
    def of(cls, directory) -> WriterLock:
        directory = Path(directory).resolve()
        with cls._guard:
            if directory not in cls._registry:
                cls._registry[directory] = cls(directory)
            return cls._registry[directory]

    def acquire(self, wait: bool | float = False) -> None:
        """Take the lock; ``wait``: False fails at once, True waits, a number waits that long."""
        if self.depth:
            self.depth += 1
            return
        timeout = 0 if wait is False else (-1 if wait is True else float(wait))
        try:
            self._lock.acquire(timeout=timeout)
        except filelock.Timeout:
            raise CampaignLocked(
                f"the campaign folder {self.directory} is being written by another process "
                f"({describe_holder(self.directory)}); wait for it to finish (medeq run --wait) "
                "or stop it."
            ) from None
        self.depth = 1
        previous = read_holder(self.directory)
        if previous is not None:
            warnings.warn(
                f"took over the writer lock of {self.directory} left by "
                f"{describe_holder(self.directory, previous)}, which ended without releasing it "
                "(it crashed or was killed).", RuntimeWarning, stacklevel=4)
        try:
            atomic_write(self.directory / HOLDER_FILE, json.dumps(
                {"host": socket.gethostname(), "pid": os.getpid(),
                 "since": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}))
        except BaseException:
            self.depth = 0
            self._lock.release()
            raise

    def release(self) -> None:
        if not self.depth:
            return
        self.depth -= 1
        if self.depth == 0:
            try:
                (self.directory / HOLDER_FILE).unlink(missing_ok=True)
            finally:
                self._lock.release()


def read_holder(directory) -> dict | None:
    """The note of the process holding (or last holding) a folder's writer lock."""
    try:
        note = json.loads((Path(directory) / HOLDER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None


def describe_holder(directory, note: dict | None = None) -> str:
    note = read_holder(directory) if note is None else note
    if not note:
        return "holder unknown"
    return f"host {note.get('host', '?')}, pid {note.get('pid', '?')}, since {note.get('since', '?')}"


@contextmanager
def writer_lock(directory, wait: bool | float = False):
    """Hold the writer lock of the campaign folder ``directory`` for the block.

    Reentrant within a process. Another process holding it raises
    :class:`CampaignLocked` naming the folder and the holder (or, with
    ``wait``, waits for it).
    """
    lock = WriterLock.of(directory)
    lock.acquire(wait)
    try:
        yield lock
    finally:
        lock.release()
