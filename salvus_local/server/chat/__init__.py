"""Chat over HTTP: ``[/p/<project>]/api/chat…`` (REST), its websocket, and ``/api/notifications``.

The manager (:class:`salvus_local.chat.Chat`) lives at ``app.extensions["salvus"].chat``.
Who may use these routes is the accounts policy's: any member of the project (viewers too:
chat changes none of the project's files), never an outsider (404 before any upgrade).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify


def init_app(app: Flask) -> None:
    """Create the chat manager (after auth and the workspace) and register the routes."""
    from salvus_local.chat import Chat
    from salvus_local.chat.limits import PostingTooFast, PostLimit
    from salvus_local.server.projects.workspace import init_workspace

    from .handlers import bp

    services = app.extensions["salvus"]
    ws = init_workspace(app)
    config = services.config
    services.chat = Chat(ws.store, getattr(services.auth, "accounts", None),
                         limit=PostLimit(config.chat_burst, config.chat_rate))
    app.register_blueprint(bp)
    app.register_error_handler(PostingTooFast, _on_too_fast)


def _on_too_fast(exc: Any) -> Response:
    """429 ``{message, reason, retry_after}`` with a Retry-After header (whole seconds)."""
    response = jsonify({"message": exc.message, "reason": exc.reason, "retry_after": exc.retry_after})
    response.status_code = 429
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
