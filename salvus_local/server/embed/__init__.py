"""Embedding live cells in other sites' pages: ``embed.js``, anonymous sessions, CORS.

Off until ``embed_origins`` lists at least one origin.  Requests from those origins reach
``/embed/…``, ``/api/v1/execute`` and ``/service`` without the token (``g.public``); they get
tight limits and a per-address rate limit (:mod:`.policy`).
"""

from __future__ import annotations

import threading

from flask import Flask, Response, request

from ..auth import is_websocket, register_public
from .policy import EmbedPolicy, RateLimiter
from .sessions import EmbedSessions

__all__ = ["EmbedPolicy", "EmbedSessions", "RateLimiter", "init_app"]
ANONYMOUS_PATHS = ("/api/v1/execute", "/service")
ASSETS = ("/embed.js",)


def _covered(path: str) -> bool:
    """Tell whether a path is one an embedding page may call."""
    return path.startswith("/embed/") or path in ANONYMOUS_PATHS


def init_app(app: Flask) -> None:
    """Attach the policy and sessions, the public-request check, CORS headers and the routes."""
    from .handlers import bp

    s = app.extensions["salvus"]
    s.embed = policy = EmbedPolicy(s.config)
    s.embed_sessions = EmbedSessions(s.config, s.kernels, getattr(s, "anonymous_uids", None))

    def public_check() -> bool:
        # The scripts hold no secrets; everything else needs a page on an allowed origin.
        if request.path in ASSETS:
            return True
        return _covered(request.path) and policy.request_allowed(request)

    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        # Fonts of embed.css are fetched with CORS from the embedding page.
        if request.path.startswith("/static/") and policy.origin_allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = origin or ""
            response.headers.add("Vary", "Origin")
        elif _covered(request.path) and not is_websocket() and policy.origin_allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = origin or ""
            response.headers["Access-Control-Allow-Methods"] = "POST, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
            response.headers.add("Vary", "Origin")
        return response

    register_public(app, public_check)
    app.after_request(cors)
    app.register_blueprint(bp)
    if policy.enabled:
        stop = threading.Event()
        threading.Thread(target=s.embed_sessions.run_pruner, args=(stop,), daemon=True, name="embed-pruner").start()
        s.embed_pruner_stop = stop
