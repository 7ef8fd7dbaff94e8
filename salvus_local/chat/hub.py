"""Fan chat events out to open websockets without letting a slow reader hold up whoever posted.

Each socket is a :class:`Subscriber` with its own bounded queue; the socket's own thread sends
what is queued (so sends never happen from two threads at once).  A subscriber whose queue is
full is dropped: its socket closes, and the client reconnects and reloads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

QUEUE_MAX = 500


class Subscriber:
    """One open chat websocket: a person watching one project's chats."""

    def __init__(self, project_id: str, user_id: int) -> None:
        self.project_id = project_id
        self.user_id = user_id
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue(QUEUE_MAX)
        self.dropped = False

    def put(self, event: dict[str, Any]) -> None:
        """Queue an event (marks the subscriber dropped when it cannot keep up)."""
        try:
            self.events.put_nowait(event)
        except queue.Full:
            self.dropped = True

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None after ``timeout`` seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    """Subscribers by project and by person; thread-safe."""

    def __init__(self) -> None:
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()

    def add(self, sub: Subscriber) -> None:
        """Start delivering to a socket."""
        with self._lock:
            self._subs.add(sub)

    def remove(self, sub: Subscriber) -> None:
        """Stop delivering to a socket."""
        with self._lock:
            self._subs.discard(sub)

    def _select(self, keep: Callable[[Subscriber], bool]) -> list[Subscriber]:
        with self._lock:
            return [s for s in self._subs if keep(s)]

    def project(self, project_id: str, event: dict[str, Any]) -> None:
        """Send an event to every socket of a project."""
        for sub in self._select(lambda s: s.project_id == project_id):
            sub.put(event)

    def readers(self, project_id: str) -> set[int]:
        """Ids of the people with a socket open on a project."""
        return {s.user_id for s in self._select(lambda s: s.project_id == project_id)}

    def person(self, user_id: int, event: dict[str, Any], project_id: str | None = None) -> None:
        """Send an event to every socket of one person (only those on ``project_id`` when given)."""
        for sub in self._select(lambda s: s.user_id == user_id and project_id in (None, s.project_id)):
            sub.put(event)

    def count(self) -> int:
        """Open chat sockets."""
        with self._lock:
            return len(self._subs)
