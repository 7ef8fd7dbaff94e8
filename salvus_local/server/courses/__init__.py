"""Courses over HTTP (/api/courses…): thin handlers over salvus_local.courses.Courses; bulk actions are jobs."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /api/courses (answers 404 with a message in single-user mode)."""
    from . import peer_handlers  # noqa: F401  (adds its routes to bp)
    from .handlers import bp

    app.register_blueprint(bp)
