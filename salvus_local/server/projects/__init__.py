"""Projects REST API (/api/projects): projects, change events, versions (snapshots), trash."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /api/projects; the Workspace is shared with contents, terminals and history."""
    from .handlers import bp
    from .workspace import init_workspace

    init_workspace(app)
    app.register_blueprint(bp)
