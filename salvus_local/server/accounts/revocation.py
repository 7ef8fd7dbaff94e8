"""Access that ends while a websocket is open: sockets closed, the removed user's kernels and terminals stopped.

Authorization is resolved once, before the upgrade (``policy.py``).  Each websocket then holds a
:class:`Lease` recording who opened it (user, login session), in which project and with which role.
:meth:`Revocations.sweep` re-checks every lease against SQLite and revokes those whose access shrank:

- the login session is gone (logout, password change or reset, ``salvus-local user passwd``, user removed),
  or the API token it was opened with was revoked;
- the user has no role in the project any more, or one below what the socket needs (kernel channels and
  terminals need editor; a room opened by an editor needs editor, so a downgrade to viewer ends its writes).

A revoked lease's ``revoked`` event is set *before* its socket is closed, and handlers test it before acting
on each frame, so a frame already buffered is dropped.  Kernels and terminals a user started in a project
where they are no longer an editor are stopped (a kernel belongs to whoever started it; others' stay).

The sweep runs right after every successful account-changing request (collaborators, users, password,
courses, logout) before its response leaves, and every ``SWEEP_EVERY`` seconds for changes made by the CLI
in another process.  Multi-user mode only.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, request

from salvus_local.accounts.members import RANK, at_least

log = logging.getLogger("salvus_local.server")

SWEEP_EVERY = 1.0  # seconds between sweeps for changes made outside this process (the CLI)
CLOSE_CODE = 1008  # policy violation: the client should not reconnect blindly
# Successful unsafe requests here may shrink someone's access: sweep before answering.
_ACCOUNT_CHANGES = re.compile(r"^/(?:api/projects/[^/]+(?:/collaborators/.*)?|api/users(?:/.*)?|api/me(?:/.*)?"
                              r"|api/courses/.*|api/tokens(?:/.*)?|logout)$")
_TERMINAL_STARTS = re.compile(r"^(?:/p/[^/]+)?/api/terminals/?$")
_ROOM = re.compile(r"^/p/[^/]+/api/collab/rooms/")


@dataclass(eq=False)
class Lease:
    """One open websocket: who opened it, where, and the least role it needs to stay open."""

    ws: Any
    user_id: int
    session_id: str | None  # the login session of a cookie login (None: a token)
    api_token: str | None  # the user's API token it was opened with (revoked or expired: closed)
    project_id: str | None
    floor: str | None  # least role to keep the socket (None: no project)
    revoked: threading.Event = field(default_factory=threading.Event)


class Revocations:
    """The open leases of one server, and the sweep that ends those whose access shrank."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.leases: set[Lease] = set()
        self.terminal_users: dict[str, int] = {}  # terminal name → id of the user who started it
        self._lock = threading.Lock()
        self._sweep_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- leases ---------------------------------------------------------------------------
    def enter(self, ws: Any) -> Lease | None:
        """Record the websocket of the current request (None when no signed-in user is behind it)."""
        from .policy import needed_role, project_of_request

        identity = g.get("identity")
        user = getattr(identity, "user", None)
        if not user or g.get("public"):
            return None
        project_id = project_of_request()
        role = g.get("project_role")
        floor = needed_role() if project_id is not None else None
        if floor and _ROOM.match(request.path) and at_least(role, "editor"):
            floor = "editor"  # a room opened by an editor writes: a downgrade to viewer must end it
        from ..auth import request_token

        lease = Lease(ws, user["id"], identity.session_id if identity.method == "cookie" else None,
                      request_token() if identity.method == "apitoken" else None, project_id, floor)
        with self._lock:
            self.leases.add(lease)
        self._start()
        return lease

    def leave(self, lease: Lease | None) -> None:
        """Forget a websocket that closed."""
        if lease is not None:
            with self._lock:
                self.leases.discard(lease)

    # -- the sweep ------------------------------------------------------------------------
    def sweep(self) -> int:
        """Revoke every lease whose access shrank and stop processes of users who lost a project; return how many."""
        accounts = self.services.auth.accounts
        with self._sweep_lock:
            roles: dict[tuple[int, str], str | None] = {}

            def role(user_id: int, project_id: str) -> str | None:
                key = (user_id, project_id)
                if key not in roles:
                    user = accounts.users.by_id(user_id)
                    roles[key] = accounts.members.role(user, project_id) if user else None
                return roles[key]

            with self._lock:
                leases = list(self.leases)
            ended = 0
            for lease in leases:
                reason = None
                if lease.session_id is not None and not accounts.sessions.alive(lease.session_id):
                    reason = "Your login session ended: sign in again"
                elif lease.api_token is not None and accounts.tokens.verify(lease.api_token) is None:
                    reason = "The API token of this connection was revoked or expired"
                elif accounts.users.by_id(lease.user_id) is None:
                    reason = "Your account was removed"
                elif lease.project_id is not None and lease.floor is not None:
                    now = role(lease.user_id, lease.project_id)
                    if now is None or RANK[now] < RANK[lease.floor]:
                        reason = "Your role in this project changed: reload the page"
                if reason:
                    ended += 1
                    self.revoke(lease, reason)
            self._stop_processes(role)
            return ended

    def revoke(self, lease: Lease, reason: str) -> None:
        """Mark a lease revoked (handlers drop its frames from now on), then close its socket."""
        lease.revoked.set()
        self.leave(lease)
        with contextlib.suppress(Exception):
            lease.ws.close(CLOSE_CODE, reason[:120])

    def _stop_processes(self, role: Any) -> None:
        """Stop kernels and terminals whose starter is no longer an editor of their project."""
        auth, kernels, terminals = self.services.auth, self.services.kernels, self.services.terminals
        for kernel_id, user_id in list(auth.kernel_users.items()):
            if kernel_id not in kernels:
                continue
            project_id = kernels.project_of(kernel_id)
            if not at_least(role(user_id, project_id), "editor"):
                log.info("stopping kernel %s: its user %s lost project %s", kernel_id, user_id, project_id)
                with contextlib.suppress(Exception):
                    kernels.shutdown(kernel_id, now=True)
                auth.kernel_users.pop(kernel_id, None)
        for name, user_id in list(self.terminal_users.items()):
            term = next((t for t in terminals.list() if t.name == name), None)
            if term is None:
                self.terminal_users.pop(name, None)
            elif not at_least(role(user_id, term.project_id), "editor"):
                log.info("stopping terminal %s: its user %s lost project %s", name, user_id, term.project_id)
                with contextlib.suppress(Exception):
                    terminals.delete(name)
                self.terminal_users.pop(name, None)

    def _start(self) -> None:
        """Start the periodic sweep (for changes made by another process) on first use."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="salvus-revocations", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        stop = threading.Event()
        while not stop.wait(SWEEP_EVERY):
            try:
                self.sweep()
            except Exception:  # a busy database must not end the loop
                log.exception("access sweep failed")


def revoked() -> bool:
    """Tell whether the current websocket's access ended (handlers check it before acting on each frame)."""
    lease = g.get("socket_lease")
    return lease is not None and lease.revoked.is_set()


@contextlib.contextmanager
def lease_of(ws: Any) -> Any:
    """Hold a lease for the current request's websocket while the view runs (no-op in single-user mode)."""
    watch: Revocations | None = getattr(current_app.extensions["salvus"], "revocations", None)
    lease = watch.enter(ws) if watch is not None else None
    g.socket_lease = lease
    try:
        yield lease
    finally:
        if watch is not None:
            watch.leave(lease)


def _after_request(response: Response) -> Response:
    """Record terminal starters; sweep after a successful account change, before the answer leaves."""
    services = current_app.extensions["salvus"]
    watch: Revocations = services.revocations
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or response.status_code >= 400:
        return response
    identity = g.get("identity")
    if request.method == "POST" and _TERMINAL_STARTS.match(request.path) and getattr(identity, "user", None):
        name = (response.get_json(silent=True) or {}).get("name")
        if isinstance(name, str):
            watch.terminal_users[name] = identity.user["id"]
    elif _ACCOUNT_CHANGES.match(request.path):
        try:
            watch.sweep()
        except Exception:
            log.exception("access sweep failed")
    return response


def init_app(app: Flask) -> None:
    """Install the lease registry and the sweep (multi-user mode)."""
    services = app.extensions["salvus"]
    if not services.auth.multi_user:
        return
    services.revocations = Revocations(services)
    app.after_request(_after_request)
