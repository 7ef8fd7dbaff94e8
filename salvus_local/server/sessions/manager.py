"""SessionManager: a notebook (or console, file) path bound to a kernel, like jupyter_server's."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from ..errors import APIError
from ..kernels import KernelManager


class SessionManager:
    """session id → {path, name, type, kernel_id}; sessions whose kernel is gone are dropped."""

    def __init__(self, kernels: KernelManager) -> None:
        self.kernels = kernels
        self._sessions: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    def _model(self, row: dict[str, Any]) -> dict[str, Any]:
        """Return a session model (raises KeyError when its kernel is gone)."""
        if row["kernel_id"] not in self.kernels:
            raise KeyError(row["kernel_id"])
        model = {"id": row["id"], "path": row["path"], "name": row["name"], "type": row["type"],
                 "kernel": self.kernels.model(row["kernel_id"])}
        if row["type"] == "notebook":
            model["notebook"] = {"path": row["path"], "name": row["name"]}
        return model

    def list(self) -> list[dict[str, Any]]:
        """Return all live sessions (forgetting those whose kernel was shut down)."""
        out = []
        with self._lock:
            for session_id, row in list(self._sessions.items()):
                try:
                    out.append(self._model(row))
                except (KeyError, APIError):
                    del self._sessions[session_id]
        return out

    def get(self, session_id: str) -> dict[str, Any]:
        """Return one session or raise a 404."""
        with self._lock:
            row = self._sessions.get(session_id)
            try:
                if row is not None:
                    return self._model(row)
            except (KeyError, APIError):
                del self._sessions[session_id]
        raise APIError(404, f"Session not found: session_id={session_id!r}")

    def find(self, path: str) -> dict[str, Any] | None:
        """Return the session of a path, if any."""
        for model in self.list():
            if model["path"] == path:
                return model
        return None

    def _kernel_for(self, path: str, kernel_name: str | None, kernel_id: str | None) -> str:
        """Return an existing kernel's id or start one in the path's folder."""
        if kernel_id:
            if kernel_id not in self.kernels:
                raise APIError(400, f"No such kernel: {kernel_id}")
            return kernel_id
        return self.kernels.start(kernel_name, path=path)["id"]

    def create(self, path: str, type: str, name: str | None = None, kernel_name: str | None = None,
               kernel_id: str | None = None) -> dict[str, Any]:
        """Return the path's session, creating it (and its kernel) when there is none."""
        with self._lock:
            existing = self.find(path)
            if existing:
                return existing
            self.kernels.resolve_cwd(path)  # a bad path fails before any kernel starts
            row = {"id": str(uuid.uuid4()), "path": path, "name": name or "", "type": type,
                   "kernel_id": self._kernel_for(path, kernel_name, kernel_id)}
            self._sessions[row["id"]] = row
            return self._model(row)

    def update(self, session_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change path/name/type or the kernel (by id, or a new one by name); return the new model."""
        with self._lock:
            before = self.get(session_id)
            row = self._sessions[session_id]
            if "path" in changes:
                self.kernels.resolve_cwd(changes["path"])
            kernel = changes.pop("kernel", None)
            new_kernel = None
            if kernel is not None:
                new_kernel = self._kernel_for(changes.get("path", row["path"]), kernel.get("name"), kernel.get("id"))
            row.update(changes)
            if new_kernel:
                row["kernel_id"] = new_kernel
        if new_kernel and new_kernel != before["kernel"]["id"]:
            self.kernels.shutdown(before["kernel"]["id"])
        return self.get(session_id)

    def delete(self, session_id: str) -> None:
        """Delete a session and shut its kernel down."""
        with self._lock:
            row = self._sessions.get(session_id)
            if row is None:
                raise APIError(404, f"Session not found: session_id={session_id!r}")
            del self._sessions[session_id]
        if row["kernel_id"] not in self.kernels:
            raise APIError(410, "Kernel deleted before session")
        self.kernels.shutdown(row["kernel_id"])
