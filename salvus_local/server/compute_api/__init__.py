"""HTTP compute API: ``POST /api/v1/execute`` and SageCell's ``/service`` over fresh forked sessions."""

from __future__ import annotations

from flask import Flask

from .identity import AnonymousUids
from .runner import Runner

__all__ = ["AnonymousUids", "Runner", "init_app"]


def init_app(app: Flask) -> None:
    """Create the Runner (needs the KernelManager) and register the routes."""
    from .handlers import bp

    s = app.extensions["salvus"]
    s.runner = Runner(s.config, s.kernels)
    s.anonymous_uids = AnonymousUids(s.config, s)  # also used by embedded sessions (server/embed)
    app.register_blueprint(bp)
