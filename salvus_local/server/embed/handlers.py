"""Routes of embedding: ``/embed.js`` and the anonymous session API under ``/embed/`` (the style sheet is /static/embed.css)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, request, send_from_directory

from .. import services
from ..errors import APIError, get_json_body
from ..kernels.channels import serve_channels
from ..pages import STATIC_DIR
from ..websocket import websocket_route

bp = Blueprint("embed", __name__)


def _asset(name: str, mimetype: str) -> Response:
    """Serve a fixed-name embed asset (revalidated, since its name has no hash)."""
    if not services().embed.enabled:
        raise APIError(404, "Embedding is off: start the server with --embed-origins ORIGIN[,ORIGIN…]")
    if not (STATIC_DIR / name).is_file():
        abort(404)
    response = send_from_directory(STATIC_DIR, name, mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/embed.js")
def embed_js() -> Response:
    """The script a page includes to turn ``<div class="salvus-cell">`` into live cells."""
    return _asset("embed.js", "text/javascript")


@bp.post("/embed/kernels")
def create() -> tuple[dict[str, Any], int]:
    """Start an anonymous session: body ``{"kernel": "sage"|"python"}`` (optional) → ``{id, key, expires_in}``."""
    s = services()
    body = get_json_body() or {}
    kernel = body.get("kernel")
    if kernel is not None and kernel not in ("sage", "python"):
        raise APIError(400, f"'kernel' must be sage or python, not {kernel!r}")
    wait = s.embed.wait_time(request)
    if wait:
        raise APIError(429, f"Too many sessions from this address: try again in {wait:.0f} s", retry_after=round(wait, 1))
    return s.embed_sessions.create(kernel), 201


@bp.delete("/embed/kernels/<kernel_id>")
def end(kernel_id: str) -> tuple[str, int]:
    """Stop an anonymous session (needs its ``?key=``)."""
    s = services()
    if not s.embed_sessions.key_ok(kernel_id, request.args.get("key")):
        raise APIError(404, f"No embedded session {kernel_id} with that key")
    s.embed_sessions.end(kernel_id)
    return "", 204


@bp.before_request
def _key_before_upgrade() -> None:
    """Refuse a channels websocket without the session's key before the upgrade."""
    if request.endpoint == "embed.channels":
        kernel_id = (request.view_args or {}).get("kernel_id", "")
        if not services().embed_sessions.key_ok(kernel_id, request.args.get("key")):
            raise APIError(403, "This embedded session does not exist or the key is wrong")


@websocket_route(bp, "/embed/kernels/<kernel_id>/channels")
def channels(ws: Any, kernel_id: str) -> None:
    """The session's Jupyter channels websocket (the notebook's bridge, key-checked above)."""
    serve_channels(ws, services().kernels, kernel_id)
