"""Accounts over HTTP: /api/me, sign-up, tokens, users, join (QR), collaborators, activity.

Routes answer in single-user mode too (``/api/me`` says ``mode: single``; the rest 404 with a
message).  Who may call which route is decided by :mod:`.policy` before any view runs.
"""

from __future__ import annotations

from flask import Flask

from salvus_local.accounts.errors import TooManyAttempts


def init_app(app: Flask) -> None:
    """Register the account blueprints; in multi-user mode announce the server by mDNS."""
    from . import activity, collaborators, join, me, revocation, users

    for module in (me, users, join, collaborators, activity):
        app.register_blueprint(module.bp)
    app.register_error_handler(TooManyAttempts, me.on_too_many)
    services = app.extensions["salvus"]
    revocation.init_app(app)  # open websockets closed, kernels stopped when access shrinks
    if services.auth.multi_user:
        services.mdns = join.start_announcer(services.config)
