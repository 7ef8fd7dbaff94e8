"""Automatic snapshots: right after each save, and every ``interval`` seconds while files change.

One worker thread serves all projects.  Saves are coalesced (a burst of saves becomes one
snapshot); a project marked dirty by the watcher is snapshotted ``interval`` seconds after its
first unsnapshotted change, so a project that keeps changing gets a version at least that often.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .snapshots import Snapshot, Snapshots

log = logging.getLogger("salvus_local.store.autosnap")


class AutoSnapshots:
    """The snapshot worker; see the module docstring."""

    def __init__(self, snapshots_of: Callable[[str], Snapshots], interval: float = 60.0,
                 on_done: Callable[[str, Snapshot], None] | None = None) -> None:
        self.snapshots_of = snapshots_of
        self.interval = max(1.0, min(float(interval), 120.0))
        self.on_done = on_done or (lambda pid, snap: None)
        self._pending: dict[str, list[str]] = {}
        self._dirty: dict[str, float] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def request(self, project_id: str, message: str) -> None:
        """Snapshot a project soon (after a save), with this message."""
        with self._cond:
            self._pending.setdefault(project_id, []).append(message)
            self._cond.notify()
        self._ensure_thread()

    def mark_dirty(self, project_id: str) -> None:
        """Note that a project's files changed; it is snapshotted within ``interval`` seconds."""
        with self._cond:
            if project_id not in self._dirty:
                self._dirty[project_id] = time.monotonic()
                self._cond.notify()
        self._ensure_thread()

    def take_now(self, project_id: str, message: str) -> Snapshot:
        """Snapshot synchronously (restore, CLI) and report it like the worker does."""
        with self._cond:
            self._dirty.pop(project_id, None)
        snap = self.snapshots_of(project_id).take(message)
        self.on_done(project_id, snap)
        return snap

    def stop(self) -> None:
        """Stop the worker (pending requests are dropped; files are safe on disk)."""
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _ensure_thread(self) -> None:
        with self._cond:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="salvus-snapshots", daemon=True)
                self._thread.start()

    def _next_job(self) -> tuple[str, str] | None:
        with self._cond:
            while not self._stopped:
                if self._pending:
                    pid = next(iter(self._pending))
                    messages = self._pending.pop(pid)
                    self._dirty.pop(pid, None)
                    unique = list(dict.fromkeys(messages))
                    return pid, "; ".join(unique[:5]) + (f" (+{len(unique) - 5} more)" if len(unique) > 5 else "")
                now = time.monotonic()
                due = [pid for pid, since in self._dirty.items() if now - since >= self.interval]
                if due:
                    del self._dirty[due[0]]
                    return due[0], "auto snapshot"
                wait = min((self.interval - (now - s) for s in self._dirty.values()), default=None)
                self._cond.wait(timeout=wait)
            return None

    def _run(self) -> None:
        while (job := self._next_job()) is not None:
            pid, message = job
            try:
                snap = self.snapshots_of(pid).take(message)
            except Exception:  # a broken repo must not stop snapshots of the others
                log.exception("snapshot of project %s failed", pid)
                continue
            if snap.skipped:
                log.warning("snapshot of %s skipped %d large file(s): %s", pid, len(snap.skipped), snap.skipped[:5])
            try:
                self.on_done(pid, snap)
            except Exception:
                log.exception("after-snapshot hook of %s failed", pid)
