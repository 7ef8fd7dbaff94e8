"""Watch project folders (watchdog; polling when inotify is unavailable or exhausted).

Every change is logged as an event in a per-project log that clients read with a long poll
(``events(project_id, since, timeout)``); changes the server made itself are flagged
``external: false`` so an editor only reacts to edits from elsewhere.  Each change also marks
the project dirty, which drives the periodic snapshots.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .atomic import is_temp_name

log = logging.getLogger("salvus_local.store.watcher")
KINDS = {"created", "modified", "deleted", "moved"}
IGNORED_PREFIXES = (".git/", ".salvus/trash/", ".salvus/checkpoints/")


def ignored(rel: str) -> bool:
    """True for paths whose changes are not the user's files (git internals, our stores, temp files)."""
    return (rel in ("", ".git", ".salvus/trash", ".salvus/checkpoints") or rel.startswith(IGNORED_PREFIXES)
            or is_temp_name(rel.rsplit("/", 1)[-1]))


class EventLog:
    """A bounded, sequence-numbered log of change events with a long-poll wait."""

    def __init__(self, size: int = 1000) -> None:
        self.events: deque[dict[str, Any]] = deque(maxlen=size)
        self.seq = 0
        self.cond = threading.Condition()

    def add(self, event: dict[str, Any]) -> None:
        """Append an event and wake the waiters."""
        with self.cond:
            self.seq += 1
            self.events.append({"seq": self.seq, "time": time.time(), **event})
            self.cond.notify_all()

    def since(self, seq: int, timeout: float = 0.0) -> tuple[list[dict[str, Any]], int]:
        """Return events after ``seq`` (waiting up to ``timeout`` for one) and the last seq."""
        with self.cond:
            self.cond.wait_for(lambda: self.seq > seq, timeout=timeout)
            return [e for e in self.events if e["seq"] > seq], self.seq


class Watcher:
    """Watches many project roots; see the module docstring."""

    def __init__(self, on_change: Callable[[str], None], force_polling: bool = False) -> None:
        self.on_change = on_change
        self.force_polling = force_polling
        self.logs: dict[str, EventLog] = {}
        self._watches: dict[str, tuple[Any, Any]] = {}
        self._own: dict[tuple[str, str], tuple[int, int] | None] = {}
        self._lock = threading.Lock()
        self._observers: dict[str, Any] = {}

    def log(self, project_id: str) -> EventLog:
        """The event log of a project (created on demand)."""
        with self._lock:
            return self.logs.setdefault(project_id, EventLog())

    def watch(self, project_id: str, root: str | os.PathLike[str]) -> None:
        """Start watching a project root (idempotent)."""
        with self._lock:
            if project_id in self._watches:
                return
        handler = _Handler(self, project_id, os.path.realpath(root))
        for kind in (("polling",) if self.force_polling else ("native", "polling")):
            try:
                observer = self._observer(kind)
                watch = observer.schedule(handler, handler.root, recursive=True)
            except OSError as exc:  # inotify limits reached: poll instead
                log.warning("watching %s with %s failed (%s); falling back", project_id, kind, exc)
                continue
            with self._lock:
                self._watches[project_id] = (observer, watch)
            return

    def unwatch(self, project_id: str) -> None:
        """Stop watching a project."""
        with self._lock:
            entry = self._watches.pop(project_id, None)
        if entry:
            try:
                entry[0].unschedule(entry[1])
            except (KeyError, OSError):
                pass

    def _observer(self, kind: str) -> Any:
        with self._lock:
            if kind not in self._observers:
                if kind == "native":
                    from watchdog.observers import Observer
                    observer = Observer()
                else:
                    from watchdog.observers.polling import PollingObserverVFS

                    # lstat: never descend into (or stat through) a link a session planted.
                    observer = PollingObserverVFS(stat=os.lstat, listdir=os.scandir, polling_interval=1.0)
                observer.daemon = True
                observer.start()
                self._observers[kind] = observer
            return self._observers[kind]

    def note_own(self, project_id: str, rel: str, key: tuple[int, int] | None) -> None:
        """Remember that the server is writing ``rel`` as (mtime_ns, size), or removing it (None), so its events are not external."""
        # Called before the rename/unlink, so the watcher's event always finds the note.
        with self._lock:
            if len(self._own) > 5000:
                self._own.clear()
            self._own[(project_id, rel)] = key

    def is_own(self, project_id: str, root: str, rel: str) -> bool:
        """True when ``rel`` is exactly as the server last wrote it."""
        with self._lock:
            if (project_id, rel) not in self._own:
                return False
            if self._own[(project_id, rel)] == stat_key(Path(root) / rel):
                return True
            del self._own[(project_id, rel)]  # someone else changed it since
            return False

    def events(self, project_id: str, since: int = 0, timeout: float = 0.0) -> tuple[list[dict[str, Any]], int]:
        """Events after ``since``, waiting up to ``timeout`` seconds for the first."""
        return self.log(project_id).since(since, timeout)

    def stop(self) -> None:
        """Stop all observers."""
        with self._lock:
            observers, self._observers = list(self._observers.values()), {}
            self._watches.clear()
        for observer in observers:
            observer.stop()


def stat_key(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file (not following a link), or None when it does not exist."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class _Handler:
    """Turns watchdog events of one root into log entries (duck-typed FileSystemEventHandler)."""

    def __init__(self, watcher: Watcher, project_id: str, root: str) -> None:
        self.watcher, self.project_id, self.root = watcher, project_id, root

    def _rel(self, path: str | bytes) -> str:
        path = os.fsdecode(path)
        inside = path.startswith(self.root.rstrip(os.sep) + os.sep)  # whole components: never a sibling 'projX'
        return os.path.relpath(path, self.root).replace(os.sep, "/") if inside else ""

    def dispatch(self, event: Any) -> None:
        """Called by watchdog's observer thread for every event."""
        kind = event.event_type
        if kind not in KINDS or (event.is_directory and kind == "modified"):
            return
        rel = self._rel(event.src_path)
        dest = self._rel(event.dest_path) if kind == "moved" else ""
        if kind == "moved" and ignored(rel):
            kind, rel, dest = "modified", dest, ""  # an atomic save: temp file renamed over the target
        elif kind == "moved" and ignored(dest):
            kind, dest = "deleted", ""  # moved into the trash
        if ignored(rel):
            return
        entry = {"type": kind, "path": rel, "directory": bool(event.is_directory)}
        if dest:
            entry["dest_path"] = dest
        entry["external"] = not self.watcher.is_own(self.project_id, self.root, dest or rel)
        self.watcher.log(self.project_id).add(entry)
        self.watcher.on_change(self.project_id)
