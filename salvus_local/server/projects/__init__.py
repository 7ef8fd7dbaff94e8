"""Projects REST API (/api/projects): projects, change events, versions (snapshots), trash;
and each project's Jupyter base URL for kernels (/p/<project_id>/api/kernels)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /api/projects and /p/<id>/api/kernels; the Workspace is shared with contents, terminals and history."""
    from . import kernels
    from .handlers import bp
    from .workspace import init_workspace

    init_workspace(app)
    app.register_blueprint(bp)
    app.register_blueprint(kernels.bp)
