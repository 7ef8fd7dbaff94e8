"""Collaboration service: the room websocket and ``/api/collab/status`` (logic in salvus_local.collab)."""

from __future__ import annotations

import atexit

from flask import Flask

from salvus_local.config import Config
from salvus_local.store import paths
from salvus_local.store.errors import StoreError


def enabled(config: Config) -> bool:
    """Tell whether rooms are on: setting ``collaboration`` on, or auto in multi-user mode."""
    mode = (config.collaboration or "auto").lower()
    return mode == "on" or (mode == "auto" and bool(config.multi_user))


def init_app(app: Flask) -> None:
    """Create the RoomManager (lazily opened store) and register the routes."""
    from salvus_local.collab import RoomManager, UpdateStore
    from salvus_local.collab.guard import Budget
    from salvus_local.collab.outputs import OutputWriter
    from salvus_local.server.projects.workspace import init_workspace

    from .files import ProjectFiles, ProjectQuota
    from .handlers import bp

    services = app.extensions["salvus"]
    ws = init_workspace(app)
    updates = UpdateStore(ws.store)
    ws.quota_extra.append(updates.project_bytes)  # rooms' history counts toward the project quota
    budget = Budget(max(0, services.config.collaboration_room_mb) * 2**20,
                    ProjectQuota(ws, updates, services.config.project_quota_mb).refusal)
    services.collab = RoomManager(updates, lambda project_id: ProjectFiles(ws.contents(project_id)),
                                  idle=max(1, services.config.collaboration_idle), budget=budget,
                                  debounce=max(0.0, services.config.collaboration_save_delay))
    atexit.register(services.collab.flush_all)

    def location(kernel_id: str) -> tuple[str, str] | None:
        sessions = getattr(services, "sessions", None)
        where = sessions.location(kernel_id) if sessions is not None else None
        if where is None:
            return None
        try:
            return where[0], paths.normalize(where[1])
        except StoreError:
            return None

    if enabled(services.config):  # rooms off: the page renders iopub itself, nothing to write
        services.collab_outputs = OutputWriter(services.collab.find, location)
        services.kernels.add_listener(services.collab_outputs.on_message)
    app.register_blueprint(bp)
