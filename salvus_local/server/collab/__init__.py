"""Collaboration service: the room websocket and ``/api/collab/status`` (logic in salvus_local.collab)."""

from __future__ import annotations

import atexit

from flask import Flask

from salvus_local.config import Config


def enabled(config: Config) -> bool:
    """Tell whether rooms are on: setting ``collaboration`` on, or auto in multi-user mode."""
    mode = (config.collaboration or "auto").lower()
    return mode == "on" or (mode == "auto" and bool(config.multi_user))


def init_app(app: Flask) -> None:
    """Create the RoomManager (lazily opened store) and register the routes."""
    from salvus_local.collab import RoomManager, UpdateStore
    from salvus_local.server.projects.workspace import init_workspace

    from .files import ProjectFiles
    from .handlers import bp

    services = app.extensions["salvus"]
    ws = init_workspace(app)
    services.collab = RoomManager(UpdateStore(ws.store), lambda project_id: ProjectFiles(ws.contents(project_id)))
    atexit.register(services.collab.flush_all)
    app.register_blueprint(bp)
