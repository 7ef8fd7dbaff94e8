"""SessionManager: a notebook (or console, file) path bound to a kernel, like jupyter_server's.

Every session belongs to one project: its path is relative to that project's folder (the
Jupyter base URL ``/p/<project>/`` it was made under; ``/api/...`` is the default project), and
its kernel belongs to the same project.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

from salvus_local.store.projects import DEFAULT_ID

from ..errors import APIError
from ..kernels import KernelManager


class SessionManager:
    """session id → {path, name, type, kernel_id, project_id, root}; sessions whose kernel is gone are dropped."""

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

    def list(self, project_id: str | None = DEFAULT_ID) -> list[dict[str, Any]]:
        """Return the live sessions of a project (of all projects when None), forgetting those whose kernel is gone."""
        out = []
        with self._lock:
            for session_id, row in list(self._sessions.items()):
                if project_id is not None and row["project_id"] != project_id:
                    continue
                try:
                    out.append(self._model(row))
                except (KeyError, APIError):
                    del self._sessions[session_id]
        return out

    def get(self, session_id: str, project_id: str | None = None) -> dict[str, Any]:
        """Return one session (of that project, when given) or raise a 404."""
        with self._lock:
            row = self._sessions.get(session_id)
            try:
                if row is not None and project_id in (None, row["project_id"]):
                    return self._model(row)
            except (KeyError, APIError):
                del self._sessions[session_id]
        raise APIError(404, f"Session not found: session_id={session_id!r}")

    def find(self, path: str, project_id: str = DEFAULT_ID) -> dict[str, Any] | None:
        """Return the session of a path in a project, if any."""
        for model in self.list(project_id):
            if model["path"] == path:
                return model
        return None

    def location(self, kernel_id: str) -> tuple[str, str] | None:
        """(project id, path) of the session a kernel belongs to, or None (collaboration writes outputs there)."""
        with self._lock:
            for row in self._sessions.values():
                if row["kernel_id"] == kernel_id:
                    return row["project_id"], row["path"]
        return None

    def _kernel_for(self, row: dict[str, Any], path: str, kernel_name: str | None, kernel_id: str | None) -> str:
        """Return an existing kernel's id (of the session's project) or start one in the path's folder."""
        if kernel_id:
            if kernel_id not in self.kernels or self.kernels.project_of(kernel_id) != row["project_id"]:
                raise APIError(400, f"No such kernel: {kernel_id}")
            return kernel_id
        return self.kernels.start(kernel_name, path=path, root=row["root"], project_id=row["project_id"])["id"]

    def create(self, path: str, type: str, name: str | None = None, kernel_name: str | None = None,
               kernel_id: str | None = None, project_id: str = DEFAULT_ID,
               root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """Return the path's session in the project (root: its folder), creating it and its kernel when there is none."""
        with self._lock:
            existing = self.find(path, project_id)
            if existing:
                return existing
            self.kernels.resolve_cwd(path, root)  # a bad path fails before any kernel starts
            row = {"id": str(uuid.uuid4()), "path": path, "name": name or "", "type": type,
                   "project_id": project_id, "root": root}
            row["kernel_id"] = self._kernel_for(row, path, kernel_name, kernel_id)
            self._sessions[row["id"]] = row
            return self._model(row)

    def update(self, session_id: str, changes: dict[str, Any], project_id: str | None = None) -> dict[str, Any]:
        """Change path/name/type or the kernel (by id, or a new one by name); return the new model."""
        with self._lock:
            before = self.get(session_id, project_id)
            row = self._sessions[session_id]
            if "path" in changes:
                self.kernels.resolve_cwd(changes["path"], row["root"])
            kernel = changes.pop("kernel", None)
            new_kernel = None
            if kernel is not None:
                new_kernel = self._kernel_for(row, changes.get("path", row["path"]), kernel.get("name"),
                                              kernel.get("id"))
            row.update(changes)
            if new_kernel:
                row["kernel_id"] = new_kernel
        if new_kernel and new_kernel != before["kernel"]["id"]:
            self.kernels.shutdown(before["kernel"]["id"])
        return self.get(session_id)

    def delete(self, session_id: str, project_id: str | None = None) -> None:
        """Delete a session and shut its kernel down."""
        with self._lock:
            row = self._sessions.get(session_id)
            if row is None or project_id not in (None, row["project_id"]):
                raise APIError(404, f"Session not found: session_id={session_id!r}")
            del self._sessions[session_id]
        if row["kernel_id"] not in self.kernels:
            raise APIError(410, "Kernel deleted before session")
        self.kernels.shutdown(row["kernel_id"])
