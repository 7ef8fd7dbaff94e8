"""Websocket routes (flask-sock) for every service, a thread-safe send wrapper, and the connection cap.

Auth, Host and Origin are checked by :mod:`salvus_local.server.auth` before the upgrade.

Each open websocket holds one of gunicorn's worker threads for its whole life.  So that ordinary
HTTP requests (and the refusal itself) always find a thread, websockets may use all but a reserve
of them: at the cap an upgrade is answered at once with a 503 JSON error saying what to do,
instead of waiting in gunicorn's queue until the client gives up.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, g, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

__all__ = ["ConnectionClosed", "LockedSocket", "init_app", "websocket_route"]

log = logging.getLogger("salvus_local.server")


def websocket_route(bp: Blueprint, rule: str, **options: Any) -> Callable:
    """Register ``view(ws, **url_args)`` as a websocket route on a blueprint.

    After the upgrade no HTTP response may be written: an error escaping the view would make
    Flask write one into the websocket stream, so it is logged and the socket closed instead.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(ws: Any, **kwargs: Any) -> None:
            from .accounts.revocation import lease_of

            try:
                with lease_of(ws):  # closed early when the user's access ends (accounts/revocation.py)
                    view(ws, **kwargs)
            except ConnectionClosed:
                pass
            except Exception as exc:
                reason = getattr(exc, "message", None) or "internal server error"
                if not getattr(exc, "status", None):
                    log.error("websocket %s failed", request.path, exc_info=exc)
                with contextlib.suppress(Exception):
                    ws.close(1011, str(reason)[:120])

        # With a blueprint, flask-sock's Sock keeps no app state, so a throwaway instance is fine.
        return Sock().route(rule, bp=bp, **options)(guarded)

    return decorator


class _SerializedSend:
    """A socket whose ``send`` holds a lock, so whole frames never interleave."""

    def __init__(self, sock: Any, lock: threading.Lock) -> None:
        self._sock = sock
        self._lock = lock

    def send(self, data: bytes) -> int:
        with self._lock:
            self._sock.sendall(data)
            return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class LockedSocket:
    """A websocket whose send can be called from several threads (reader threads, the view)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._lock = threading.Lock()
        # simple-websocket's own thread also writes (pings, pongs, close replies): route it
        # through a lock too, so its frames never cut into ours.
        if not isinstance(ws.sock, _SerializedSend):
            ws.sock = _SerializedSend(ws.sock, threading.Lock())

    def send(self, data: str | bytes) -> None:
        """Send one text or binary frame."""
        with self._lock:
            self.ws.send(data)

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """Receive one frame (None on timeout)."""
        return self.ws.receive(timeout)

    @property
    def connected(self) -> bool:
        """Tell whether the socket is still open."""
        return bool(self.ws.connected)

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        """Close the socket, ignoring an already closed one."""
        with self._lock:  # a close frame must not cut into a frame being sent
            try:
                self.ws.close(reason, message)
            except (ConnectionClosed, OSError):
                pass


def reserve_for(threads: int) -> int:
    """Worker threads kept for ordinary HTTP: an eighth, at least 1, at most 16."""
    return max(1, min(16, threads // 8))


class ConnectionCap:
    """Counts open websockets; refuses an upgrade past ``threads - reserve``."""

    def __init__(self, threads: int) -> None:
        self.threads = max(2, threads)  # what gunicorn runs (see wsgi.py)
        self.limit = self.threads - reserve_for(self.threads)
        self.open = 0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Count one more websocket, or raise a 503 APIError when the cap is reached."""
        from .errors import APIError

        with self._lock:
            if self.open >= self.limit:
                raise APIError(503, f"too many open connections ({self.open}); close some tabs or raise --threads "
                                    f"(now {self.threads})", "too many connections")
            self.open += 1

    def release(self) -> None:
        """One websocket closed."""
        with self._lock:
            self.open -= 1


def _before_upgrade() -> None:
    if request.url_rule is None or request.headers.get("Upgrade", "").lower() != "websocket":
        return
    current_app.extensions["salvus"].websocket_cap.acquire()
    g.websocket_slot = True


def _after_websocket(_exc: BaseException | None) -> None:
    if g.pop("websocket_slot", False):
        current_app.extensions["salvus"].websocket_cap.release()


def init_app(app: Flask) -> None:
    """Install the websocket connection cap (after auth: a refused stranger never counts)."""
    app.extensions["salvus"].websocket_cap = ConnectionCap(app.extensions["salvus"].config.threads)
    app.before_request(_before_upgrade)
    app.teardown_request(_after_websocket)
