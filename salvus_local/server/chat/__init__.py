"""Chat over HTTP: ``[/p/<project>]/api/chat…`` (REST), its websocket, and ``/api/notifications``.

The manager (:class:`salvus_local.chat.Chat`) lives at ``app.extensions["salvus"].chat``.
Who may use these routes is the accounts policy's: any member of the project (viewers too:
chat changes none of the project's files), never an outsider (404 before any upgrade).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Create the chat manager (after auth and the workspace) and register the routes."""
    from salvus_local.chat import Chat
    from salvus_local.server.projects.workspace import init_workspace

    from .handlers import bp

    services = app.extensions["salvus"]
    ws = init_workspace(app)
    services.chat = Chat(ws.store, getattr(services.auth, "accounts", None))
    app.register_blueprint(bp)
