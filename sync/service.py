"""Background sync for the web server: every linked project, every few minutes and soon after saves.

One daemon thread serves all projects.  A project is due ``interval`` seconds after its last
sync, ``SAVE_DELAY`` seconds after a save (saves in a burst make one sync), or when someone
presses Sync.  A sync that could not reach the remote backs off: 30 s, 1, 2, 4 … up to 30
minutes; one that needs the user (a revoked token, no access, a full disk) waits the same way
and says why in the status.  Editing never waits for any of it: a sync holds only its own
repository lock, and the work-tree update never overwrites a file edited meanwhile.
No Flask here: the server passes in how to list projects (``roots``).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import tokens
from .engine import SyncError, Syncer
from .git import GitError
from .state import SyncBusy, SyncState
from .status import git_author, project_status

log = logging.getLogger("salvus_sync.service")
SAVE_DELAY = 10.0  # seconds after a save before it syncs (a burst of saves syncs once)
FIRST_BACKOFF = 30.0
MAX_BACKOFF = 1800.0
VERBS = ("sync", "pull", "push")


class SyncService:
    """Runs syncs of one server's projects: on request, after saves, on a timer."""

    def __init__(self, data_dir: str, roots: Callable[[], dict[str, str]], machine: str = "",
                 interval: float = 300.0, max_file_mb: float = 100) -> None:
        self.data_dir = data_dir
        self.roots = roots  # () -> {project id: folder} of every live project
        self.machine = machine or socket.gethostname().split(".")[0] or "machine"
        self.interval = float(interval)
        self.max_file_mb = max_file_mb
        self._due: dict[str, float] = {}  # project id -> when it syncs next
        self._failures: dict[str, int] = {}
        self._running: set[str] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._scanned = 0.0

    # --- Asked by the server ------------------------------------------------------------------------
    def status(self, project_id: str, root: str | Path) -> dict[str, Any]:
        """project_status plus {syncing, next_sync (epoch s or null)}."""
        info = project_status(Path(root))
        with self._cond:
            info["syncing"] = project_id in self._running
            info["next_sync"] = self._due.get(project_id) if info["remote"] else None
        if info["syncing"]:
            info["state"] = "syncing"
        return info

    def run(self, project_id: str, root: str | Path, verb: str = "sync") -> dict[str, Any]:
        """Sync now: {ok, report?, error?, kind?, status}; SyncBusy when a sync of it is running."""
        if verb not in VERBS:
            raise ValueError(f"verb is one of {', '.join(VERBS)}")
        with self._cond:
            if project_id in self._running:
                raise SyncBusy("a sync of this project is running; wait for it")
            self._running.add(project_id)
        result: dict[str, Any] = {"ok": True}
        try:
            syncer = self._syncer(root)
            result["report"] = asdict(getattr(syncer, verb)())
            self._after(project_id, None)
        except (SyncError, GitError, OSError) as exc:
            kind = getattr(exc, "kind", "other")
            result.update(ok=False, error=getattr(exc, "message", None) or str(exc), kind=kind)
            self._after(project_id, kind)
        finally:
            with self._cond:
                self._running.discard(project_id)
        result["status"] = self.status(project_id, root)
        return result

    def soon(self, project_id: str, delay: float = SAVE_DELAY) -> None:
        """Sync a project within delay seconds (after a save); nothing when it is not linked."""
        if self.interval <= 0:
            return
        with self._cond:
            at = time.time() + delay
            if self._failures.get(project_id):
                return  # backing off: a save does not hammer an unreachable hub
            if at < self._due.get(project_id, float("inf")):
                self._due[project_id] = at
                self._cond.notify()
        self.start()

    # --- The thread --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background thread (once; not when interval is 0)."""
        with self._cond:
            if self._thread is not None or self.interval <= 0 or self._stopped:
                return
            self._thread = threading.Thread(target=self._loop, name="salvus-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread (a sync in progress finishes)."""
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                now = time.time()
                if now - self._scanned > min(self.interval, 60.0):
                    self._cond.release()
                    try:
                        self._scan()
                    finally:
                        self._cond.acquire()
                    now = time.time()
                due = [pid for pid, at in self._due.items() if at <= now and pid not in self._running]
                if not due:
                    wait = min([at - now for at in self._due.values()] + [min(self.interval, 60.0)])
                    self._cond.wait(max(0.5, wait))
                    continue
            for pid in due:
                root = self.roots().get(pid)
                if root is None or not self._linked(root):
                    with self._cond:
                        self._due.pop(pid, None)
                    continue
                try:
                    self.run(pid, root)
                except SyncBusy:
                    pass
                except Exception:  # one broken project must not stop the others' syncs
                    log.exception("background sync of %s failed", pid)
                    self._after(pid, "other")

    def _scan(self) -> None:
        """Give every linked project a due time (new ones: now)."""
        self._scanned = time.time()
        try:
            roots = self.roots()
        except Exception:
            log.exception("could not list projects for background sync")
            return
        for pid, root in roots.items():
            linked = self._linked(root)
            with self._cond:
                if linked and pid not in self._due:
                    self._due[pid] = time.time()
                elif not linked:
                    self._due.pop(pid, None)

    def _after(self, project_id: str, failure: str | None) -> None:
        """Schedule the next sync: interval after a success, backing off after failures."""
        with self._cond:
            if failure is None:
                self._failures.pop(project_id, None)
                delay = self.interval if self.interval > 0 else float("inf")
            else:
                n = self._failures.get(project_id, 0) + 1
                self._failures[project_id] = n
                delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (n - 1))
                if self.interval <= 0:
                    delay = float("inf")
            if delay != float("inf"):
                self._due[project_id] = time.time() + delay
            else:
                self._due.pop(project_id, None)

    # --- Helpers -------------------------------------------------------------------------------------
    def _syncer(self, root: str | Path) -> Syncer:
        syncer = Syncer(root, self.machine, author=git_author(Path(root)), max_file_mb=self.max_file_mb)
        url = syncer.remote_url() if syncer.state.remote else ""
        syncer.git.token = tokens.token_for(self.data_dir, url)
        return syncer

    @staticmethod
    def _linked(root: str | Path) -> bool:
        """True when the project has a remote to sync with (reads sync.json; no git)."""
        return bool(SyncState.load(Path(root) / ".git" / "salvus").remote)
