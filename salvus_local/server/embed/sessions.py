"""Anonymous embedded sessions: short-lived kernels with tight limits, one capability key each.

Each ``create`` starts a kernel through the KernelManager (so its websocket bridge, comms and
interacts are the notebook's), returns its id and a random key; the channels websocket needs
that key.  Sessions end at ``embed_lifetime`` or after 120 s idle (the forker enforces both),
and are forgotten by ``prune``, which a background thread calls.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import shutil
import threading
import time
from typing import Any

from salvus_local.config import Config

from ..compute_api.identity import AnonymousUids
from ..errors import APIError
from ..kernels.manager import KernelManager

log = logging.getLogger("salvus_local.server.embed")
IDLE_SECONDS = 120
PROJECT = "embed"  # the pseudo-project anonymous kernels belong to (never a real project id)


class EmbedSessions:
    """kernel_id → (key, expiry) of anonymous embedded sessions."""

    def __init__(self, config: Config, kernels: KernelManager, pool: AnonymousUids | None = None) -> None:
        self.config = config
        self.kernels = kernels
        self._sessions: dict[str, tuple[str, float]] = {}
        self._folders: dict[str, str] = {}  # kernel_id → its private working folder
        self._slots: dict[str, int] = {}  # kernel_id → its lease in the anonymous uid pool
        self._lock = threading.Lock()
        self.cwd = os.path.join(config.data_dir, "embed")
        os.makedirs(self.cwd, mode=0o711, exist_ok=True)
        if kernels.uid is not None:
            os.chown(self.cwd, 0, 0)  # root's and not listable: each session's folder belongs to its own uid
            os.chmod(self.cwd, 0o711)
        self.pool = pool or AnonymousUids(config, None)  # the compute API's pool: one uid per live session

    def limits(self) -> dict[str, Any]:
        """Return the tight limits of an anonymous session."""
        c = self.config
        return {"cpu": max(1, int(c.embed_timeout)), "memory_mb": min(c.memory_limit, c.embed_memory_limit),
                "nproc": 32, "fsize_mb": 16, "idle_timeout": IDLE_SECONDS, "max_lifetime": c.embed_lifetime}

    def create(self, kernel: str | None) -> dict[str, Any]:
        """Start an anonymous session; return ``{id, key, expires_in}``; 503 when too many run."""
        self.prune()
        with self._lock:
            if len(self._sessions) >= self.config.embed_max_sessions:
                raise APIError(503, "Too many embedded sessions are running: try again in a minute")
            self._sessions["pending-" + secrets.token_hex(8)] = ("", 0.0)  # reserve a slot while starting
            slot = next(reversed(self._sessions))
        cwd = os.path.join(self.cwd, slot)  # each anonymous visitor gets a folder of their own
        pool = self.pool
        lease = None
        try:
            lease, ids = pool.lease()  # a uid of its own (root servers): no other live session has it
            os.mkdir(cwd, 0o700)
            if self.kernels.uid is not None:
                os.chown(cwd, *(ids or (self.kernels.uid, self.kernels.gid)))
            name = {"sage": "sagemath", "python": "python3"}.get(kernel or "", kernel)
            # root=cwd: a namespaced session (non-root server) sees only its own folder, no project.
            model = self.kernels.start(name, cwd=cwd, root=cwd, project_id=PROJECT, limits=self.limits(),
                                       ids=ids)
        except BaseException:
            shutil.rmtree(cwd, ignore_errors=True)
            if lease is not None:
                pool.release(lease)
            raise
        finally:
            with self._lock:
                self._sessions.pop(slot, None)
        key = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[model["id"]] = (key, time.monotonic() + self.config.embed_lifetime)
            self._folders[model["id"]] = cwd
            self._slots[model["id"]] = lease
        return {"id": model["id"], "key": key, "expires_in": self.config.embed_lifetime}

    def key_ok(self, kernel_id: str, key: str | None) -> bool:
        """Tell whether key opens this anonymous session (constant-time)."""
        entry = self._sessions.get(kernel_id)
        return bool(entry and key and entry[0]) and hmac.compare_digest(entry[0].encode(), key.encode())

    def end(self, kernel_id: str) -> None:
        """Stop an anonymous session now."""
        with self._lock:
            known = self._sessions.pop(kernel_id, None)
            folder = self._folders.pop(kernel_id, None)
            lease = self._slots.pop(kernel_id, None)
        try:
            if known and kernel_id in self.kernels:
                self.kernels.shutdown(kernel_id, now=True)
        finally:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)  # rmtree never follows links out of the folder
            if lease is not None:
                self.pool.release(lease)  # after the session is gone (shutdown waits for the reap)

    def prune(self) -> None:
        """Stop sessions past their lifetime and forget dead ones."""
        now = time.monotonic()
        for kernel_id, (_key, expiry) in list(self._sessions.items()):
            if kernel_id.startswith("pending-"):
                continue
            gone = kernel_id not in self.kernels or self.kernels.get(kernel_id).execution_state == "dead"
            if gone or now > expiry:
                try:
                    self.end(kernel_id)
                except APIError:
                    pass

    def run_pruner(self, stop: threading.Event, every: float = 10.0) -> None:
        """Background loop: prune every few seconds until stop is set."""
        while not stop.wait(every):
            try:
                self.prune()
            except Exception:
                log.exception("pruning embedded sessions failed")
