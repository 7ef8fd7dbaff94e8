"""Jupyter's contents API (/api/contents) over project directories."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /api/contents and /p/<project>/api/contents."""
    from salvus_local.server.projects.workspace import init_workspace

    from .handlers import bp

    init_workspace(app)
    app.register_blueprint(bp)
