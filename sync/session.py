"""One sync command's session: the repository's sync lock, and its outcome recorded in sync.json.

Also the one place turning git, disk and store failures into a one-line ``SyncError``.
"""

from __future__ import annotations

import errno
import time
from typing import TYPE_CHECKING, Any

from salvus_local.store.errors import StoreError

from .git import GitError
from .objects import merge_conflict_lists
from .report import SyncError
from .state import SyncState, sync_lock

if TYPE_CHECKING:
    from .engine import Syncer


class Session:
    """Hold the repository's sync lock around one command; record its outcome in sync.json at the end."""

    def __init__(self, syncer: Syncer) -> None:
        self.syncer = syncer
        self.lock: Any = None

    def __enter__(self) -> None:
        syncer = self.syncer
        self.lock = sync_lock(syncer.dir)
        self.lock.__enter__()
        syncer.state = SyncState.load(syncer.dir)
        syncer.state.last_attempt = time.time()

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        syncer = self.syncer
        try:
            state = syncer.state
            state.offline = bool(isinstance(exc, SyncError) and exc.offline)
            exc = as_sync_error(exc)
            state.last_error = (getattr(exc, "message", None) or str(exc)) if exc else None
            state.last_error_kind = getattr(exc, "kind", "other") if exc else None
            if exc is None:
                state.last_sync = time.time()
                state.conflicts = merge_conflict_lists(syncer.report.conflicts, state.conflicts, syncer.root)
            try:
                state.save(syncer.dir)
            except (OSError, StoreError):
                if exc is None:
                    raise  # the sync worked but cannot be recorded (a full disk): say so
                # else the sync's own failure is what to report (its record waits for free space)
        finally:
            self.lock.__exit__(kind, exc, tb)


def as_sync_error(exc: BaseException | None) -> BaseException | None:
    """git, disk and store failures as a SyncError with a one-line message (others unchanged)."""
    if isinstance(exc, GitError):
        return SyncError(exc.message)
    if isinstance(exc, StoreError):  # atomic writes: 507 when the disk is full
        return SyncError(f"{exc.message}: nothing was lost; free some space and sync again",
                         kind="disk_full" if exc.status == 507 else "other")
    if isinstance(exc, OSError):  # a full disk here, a vanished folder
        return SyncError(f"{exc.strerror or exc} ({exc.filename or 'this machine'}): nothing was lost; fix it and "
                         "sync again", kind="disk_full" if exc.errno == errno.ENOSPC else "other")
    return exc
