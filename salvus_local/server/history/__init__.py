"""Computation history and search: every executed cell recorded into FTS5; /api/search."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def _resolver(services: Any):  # noqa: ANN202 - returns a Resolver
    """kernel_id -> (project_id, path): the project whose folder holds the kernel's cwd, the session's path."""

    def resolve(kernel_id: str) -> tuple[str | None, str | None]:
        path = None
        sessions = getattr(services, "sessions", None)
        for model in (sessions.list() if sessions else []):
            if (model.get("kernel") or {}).get("id") == kernel_id:
                path = model.get("path")
                break
        try:
            cwd = os.path.realpath(services.kernels.get(kernel_id).cwd)
        except Exception:  # kernel gone or no kernels service
            return None, path
        best = None
        for project in services.workspace.projects.list(archived=True):
            root = os.path.realpath(project["path"])
            if (cwd == root or cwd.startswith(root + os.sep)) and (best is None or len(root) > len(best[1])):
                best = (project["id"], root)
        return (best[0] if best else None), path

    return resolve


def init_app(app: Flask) -> None:
    """Register /api/search and /api/history, and record computations from the KernelManager."""
    from salvus_local.server.projects.workspace import init_workspace

    from .handlers import bp
    from .recorder import Recorder

    ws = init_workspace(app)
    services = app.extensions["salvus"]
    kernels = getattr(services, "kernels", None)
    if kernels is not None and hasattr(kernels, "add_listener"):
        services.history_recorder = Recorder(ws.store, _resolver(services))
        kernels.add_listener(services.history_recorder)
    app.register_blueprint(bp)
