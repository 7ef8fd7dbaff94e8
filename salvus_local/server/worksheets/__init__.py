"""Worksheet import (/api/worksheets/import): .sws and .sagews files become notebooks."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /api/worksheets/import and /p/<project>/api/worksheets/import."""
    from salvus_local.server.projects.workspace import init_workspace

    from .handlers import bp

    init_workspace(app)
    app.register_blueprint(bp)
