"""Computation history and search: every executed cell recorded into FTS5; /api/search."""

from __future__ import annotations

from typing import Any

from flask import Flask

from .recorder import Resolver


def _resolver(services: Any) -> Resolver:
    """kernel_id -> (project_id, path): the project the kernel belongs to, and its session's path in it."""

    def resolve(kernel_id: str) -> tuple[str | None, str | None]:
        sessions = getattr(services, "sessions", None)
        path = next((m.get("path") for m in (sessions.list(None) if sessions else [])
                     if (m.get("kernel") or {}).get("id") == kernel_id), None)
        return services.kernels.project_of(kernel_id), path

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
