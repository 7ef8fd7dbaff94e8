"""Terminals: Jupyter's /api/terminals and the terminado websocket, a pty per terminal."""

from __future__ import annotations

import atexit

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /api/terminals and /terminals/websocket/<name> (also under /p/<project>/)."""
    from salvus_local.server.projects.workspace import init_workspace

    from .handlers import bp
    from .manager import TerminalManager

    init_workspace(app)
    services = app.extensions["salvus"]
    services.terminals = TerminalManager(services.config)
    atexit.register(services.terminals.shutdown_all)
    app.register_blueprint(bp)
