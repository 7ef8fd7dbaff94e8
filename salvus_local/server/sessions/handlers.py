"""REST handlers of ``/api/sessions`` with jupyter_server's shapes and status codes.

Every route also exists under a project's Jupyter base URL ``/p/<project_id>/``: there the
session paths are relative to that project's folder and its kernels run there.  ``/api/sessions``
is the default project (``/api/sessions/<id>`` still finds any session).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from .. import services
from ..errors import APIError, get_json_body
from ..projects.workspace import project_scope

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


def list_sessions(project_id: str | None = None) -> Response:
    """List the project's sessions."""
    return jsonify(services().sessions.list(project_scope(project_id)[0]))


def create_session(project_id: str | None = None) -> tuple[Response, int, dict[str, str]]:
    """Create a session, or return the existing one for the same path."""
    scope, root = project_scope(project_id)
    body = _check(get_json_body(required=True))
    for key in ("path", "type"):
        if key not in body:
            raise APIError(400, f"Missing field in JSON data: {key}")
    kernel = body.get("kernel") or {}
    try:
        model = services().sessions.create(body["path"], body["type"], body.get("name"), kernel.get("name"),
                                           kernel.get("id"), project_id=scope, root=root)
    except APIError as exc:
        if exc.status != 404:
            raise
        name = kernel.get("name")
        raise APIError(501, f"The '{name}' kernel is not available. Please pick another suitable kernel "
                            "instead, or install that kernel.", short_message=f"{name} not found") from exc
    base = f"/p/{project_id}" if project_id else ""
    return jsonify(model), 201, {"Location": f"{base}/api/sessions/{model['id']}"}


def get_session(session_id: str, project_id: str | None = None) -> Response:
    """Return one session."""
    project_scope(project_id)
    return jsonify(services().sessions.get(session_id, project_id))


def patch_session(session_id: str, project_id: str | None = None) -> Response:
    """Rename/retype a session or switch its kernel."""
    project_scope(project_id)
    body = _check(get_json_body(required=True))
    changes = {k: body[k] for k in (*STRING_FIELDS, "kernel") if k in body}
    return jsonify(services().sessions.update(session_id, changes, project_id))


def delete_session(session_id: str, project_id: str | None = None) -> tuple[str, int]:
    """Delete a session and shut its kernel down."""
    project_scope(project_id)
    services().sessions.delete(session_id, project_id)
    return "", 204


# Route table: the default project's /api/sessions and every project's /p/<project_id>/api/sessions.
for prefix in ("", "/p/<project_id>"):
    for rule, view, methods in (
        ("/api/sessions", list_sessions, ["GET"]),
        ("/api/sessions", create_session, ["POST"]),
        ("/api/sessions/<session_id>", get_session, ["GET"]),
        ("/api/sessions/<session_id>", patch_session, ["PATCH"]),
        ("/api/sessions/<session_id>", delete_session, ["DELETE"]),
    ):
        bp.add_url_rule(prefix + rule, view_func=view, methods=methods)
