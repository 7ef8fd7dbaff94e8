"""REST handlers of ``/api/sessions`` with jupyter_server's shapes and status codes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from .. import services
from ..errors import APIError, get_json_body

bp = Blueprint("sessions", __name__)
STRING_FIELDS = ("path", "name", "type")


def _check(body: dict[str, Any]) -> dict[str, Any]:
    """Accept the legacy ``notebook`` field and refuse fields of the wrong type."""
    notebook = body.get("notebook")
    if isinstance(notebook, dict) and ("path" in notebook or "name" in notebook):
        body["path"] = notebook.get("path") or notebook.get("name")
        body["type"] = "notebook"
    for key in STRING_FIELDS:
        if key in body and not isinstance(body[key], str):
            raise APIError(400, f"'{key}' must be a string")
    kernel = body.get("kernel")
    if kernel is not None and not (isinstance(kernel, dict) and all(
            isinstance(kernel.get(k), (str, type(None))) for k in ("id", "name"))):
        raise APIError(400, "'kernel' must be an object like {\"name\": \"python3\"} or {\"id\": \"<kernel id>\"}")
    return body


@bp.get("/api/sessions")
def list_sessions() -> Response:
    """List sessions."""
    return jsonify(services().sessions.list())


@bp.post("/api/sessions")
def create_session() -> tuple[Response, int, dict[str, str]]:
    """Create a session, or return the existing one for the same path."""
    body = _check(get_json_body(required=True))
    for key in ("path", "type"):
        if key not in body:
            raise APIError(400, f"Missing field in JSON data: {key}")
    kernel = body.get("kernel") or {}
    try:
        model = services().sessions.create(body["path"], body["type"], body.get("name"),
                                           kernel.get("name"), kernel.get("id"))
    except APIError as exc:
        if exc.status != 404:
            raise
        name = kernel.get("name")
        raise APIError(501, f"The '{name}' kernel is not available. Please pick another suitable kernel "
                            "instead, or install that kernel.", short_message=f"{name} not found") from exc
    return jsonify(model), 201, {"Location": f"/api/sessions/{model['id']}"}


@bp.get("/api/sessions/<session_id>")
def get_session(session_id: str) -> Response:
    """Return one session."""
    return jsonify(services().sessions.get(session_id))


@bp.patch("/api/sessions/<session_id>")
def patch_session(session_id: str) -> Response:
    """Rename/retype a session or switch its kernel."""
    body = _check(get_json_body(required=True))
    changes = {k: body[k] for k in (*STRING_FIELDS, "kernel") if k in body}
    return jsonify(services().sessions.update(session_id, changes))


@bp.delete("/api/sessions/<session_id>")
def delete_session(session_id: str) -> tuple[str, int]:
    """Delete a session and shut its kernel down."""
    services().sessions.delete(session_id)
    return "", 204
