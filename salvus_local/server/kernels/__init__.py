"""Kernels service: REST ``/api/kernels``, the channels websocket, and the KernelManager."""

from __future__ import annotations

from flask import Flask

from .manager import KernelManager, KernelUnavailable

__all__ = ["KernelManager", "KernelUnavailable", "init_app"]


def init_app(app: Flask) -> None:
    """Create the KernelManager and register the kernel routes."""
    from .handlers import bp

    services = app.extensions["salvus"]
    manager = KernelManager(services.config)

    def project_ids(project_id: str) -> tuple[int, int] | None:
        # The project's own uid (root servers, store/uids.py); the workspace is made by projects.init_app.
        ws = getattr(services, "workspace", None)
        return ws.projects.ids_of(project_id) if ws is not None else (manager.uid, manager.gid)

    manager.ids_for = project_ids
    services.kernels = manager
    app.register_blueprint(bp)
