"""Sessions service: ``/api/sessions`` (jupyter_server's shapes), in memory."""

from __future__ import annotations

from flask import Flask

from .manager import SessionManager

__all__ = ["SessionManager", "init_app"]


def init_app(app: Flask) -> None:
    """Create the SessionManager and register the session routes."""
    from .handlers import bp

    s = app.extensions["salvus"]
    s.sessions = SessionManager(s.kernels)
    app.register_blueprint(bp)
