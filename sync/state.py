"""What sync remembers about one repository, kept in ``<gitdir>/salvus/`` (never committed or pushed).

``sync.json``: the remote and branch, the last successful sync, the last error (offline or not),
the conflicts of the last merge, and the journal of a work-tree update in progress (so a sync
killed half-way finishes it next time).  ``sync.lock``: an flock serializing syncs of the repo.
Refs: ``refs/salvus/remote/<branch>`` (the remote tip last fetched), ``refs/salvus/synced/<branch>``
(the remote tip last merged or pushed: the base for "was the remote's history rewritten?"),
``refs/salvus/backup/<date>`` (local work kept when it was).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from salvus_local.store.atomic import atomic_write

_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


class SyncBusy(Exception):
    """Another sync of this repository is running."""


@dataclass
class SyncState:
    """The contents of sync.json."""

    remote: str = ""  # name of the git remote (its URL lives in .git/config, never a token)
    branch: str = ""  # remote branch, default: the local branch's name
    last_sync: float | None = None  # time of the last sync that completed
    last_attempt: float | None = None
    last_error: str | None = None
    offline: bool = False  # the last attempt could not reach the remote
    last_error_kind: str | None = None  # SyncError.kind of last_error: auth, forbidden, not_found, offline, …
    conflicts: list[dict[str, str]] = field(default_factory=list)  # [{path, kind, other}] of the last merge
    journal: dict[str, str] | None = None  # {"old", "new", "expect"?} while the work tree is being updated
    pending_push: str | None = None  # hub: the commit its work tree stood at when a push began ("": none yet)

    @classmethod
    def load(cls, folder: Path) -> SyncState:
        """Read sync.json in folder (defaults when absent or unreadable)."""
        try:
            data = json.loads((folder / "sync.json").read_text("utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, folder: Path) -> None:
        """Write sync.json atomically."""
        atomic_write(folder / "sync.json", (json.dumps(asdict(self), indent=1) + "\n").encode(), "sync.json")

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of the state."""
        return asdict(self)


@contextmanager
def sync_lock(folder: Path, wait: bool = True) -> Iterator[None]:
    """Hold the repository's sync lock (threads and processes); SyncBusy when not waiting and it is taken."""
    folder.mkdir(parents=True, exist_ok=True)
    with _guard:
        tlock = _thread_locks.setdefault(str(folder), threading.Lock())
    if not tlock.acquire(blocking=wait):
        raise SyncBusy("another sync of this project is running")
    try:
        with open(folder / "sync.lock", "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise SyncBusy("another sync of this project is running") from None
            yield
    finally:
        tlock.release()


def private_dir(git_dir: Path) -> Path:
    """``<gitdir>/salvus`` (shared with snapshots), created when missing."""
    d = git_dir / "salvus"
    d.mkdir(exist_ok=True)
    if os.geteuid() == 0:  # give it to the repository's owner, as snapshots do
        st = git_dir.stat()
        if d.stat().st_uid != st.st_uid:
            os.lchown(d, st.st_uid, st.st_gid)
    return d
