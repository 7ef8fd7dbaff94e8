"""A room's view of one websocket: its own send queue and sender thread, role and user.

The room calls :meth:`RoomSocket.send` under its lock; that only appends to this socket's queue, so
a client that stops reading (a stalled laptop, a hostile script) never blocks the room's lock or
the other clients.  Frames go out in the order they were queued, from one thread per socket (so
frames never interleave).  A socket whose queue passes ``max_bytes`` is closed: it resyncs when it
reconnects, which costs less than holding an unbounded backlog for it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from typing import Any

from salvus_local.server.websocket import LockedSocket

log = logging.getLogger("salvus_local.collab")
SLOW_CLOSE = 4408  # close code: "you fell too far behind: reconnect (and resync)"
QUEUE_MAX_BYTES = 64 * 2**20  # bytes queued for one socket before it is closed
CLOSE_WAIT = 5.0  # seconds a close waits for a frame being sent before cutting the connection


class RoomSocket:
    """Implements salvus_local.collab.room.Client over a flask-sock websocket."""

    def __init__(self, ws: Any, can_write: bool, user: dict[str, str], max_bytes: int = QUEUE_MAX_BYTES) -> None:
        self.sock = LockedSocket(ws)
        self.can_write = can_write
        self.user = user
        self.closed = threading.Event()
        self.max_bytes = max_bytes
        self.queued = 0  # bytes waiting in the queue
        self._queue: deque[bytes] = deque()
        self._ready = threading.Condition()
        self._closer: threading.Thread | None = None
        self._thread = threading.Thread(target=self._sender, name="collab-send", daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> None:
        """Queue one binary frame (never blocks); raise ConnectionError once the socket is closed."""
        with self._ready:
            if self.closed.is_set():
                raise ConnectionError("socket closed")
            if self._queue and self.queued + len(data) > self.max_bytes:
                overflow = True
            else:
                overflow = False
                self._queue.append(data)
                self.queued += len(data)
                self._ready.notify()
        if overflow:
            log.info("collab: a socket fell %d MB behind: closed (it resyncs on reconnect)", self.queued >> 20)
            self.close(SLOW_CLOSE, "too far behind: reconnect to resync")
            raise ConnectionError("socket too far behind")

    def _sender(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self.closed.is_set():
                    self._ready.wait()
                if self.closed.is_set():
                    return
                data = self._queue.popleft()
            try:
                self.sock.send(data)
            except Exception:
                self.close(1011, "send failed")
                return
            finally:
                with self._ready:
                    self.queued -= len(data)

    def close(self, code: int, reason: str) -> None:
        """Drop what is queued and close the socket (never blocks: the room may hold its lock)."""
        with self._ready:
            if self.closed.is_set():
                return
            self.closed.set()
            self._queue.clear()
            self.queued = 0
            self._ready.notify()
        self._closer = threading.Thread(target=self._close_now, args=(code, reason), name="collab-close", daemon=True)
        self._closer.start()

    def finish(self) -> None:
        """Wait (bounded) for a close begun by close(): its code must reach the client before the view ends."""
        with self._ready:
            self.closed.set()
            self._ready.notify()
        if self._closer is not None:
            self._closer.join(CLOSE_WAIT + 1)

    def _close_now(self, code: int, reason: str) -> None:
        # The sender may be stuck in a send to a peer that stopped reading (holding the socket's lock):
        # then no close frame can get through either, so cut the connection under it.
        lock = self.sock._lock
        if lock.acquire(timeout=CLOSE_WAIT):
            lock.release()
            self.sock.close(code, reason)
            return
        raw = getattr(self.sock.ws.sock, "_sock", self.sock.ws.sock)
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)
