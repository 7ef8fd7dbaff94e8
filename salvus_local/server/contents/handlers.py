"""/api/contents: Jupyter's contents REST API, for the default project and each /p/<project>/.

Thin views: parse the query, ask the project's ContentsManager, answer with jupyter_server's
status codes (GET 200, PUT 200 save / 201 create, POST 201, PATCH 200, DELETE 204).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request

from salvus_local.server.errors import APIError, get_json_body
from salvus_local.server.projects.workspace import project_scope, workspace
from salvus_local.store.paths import normalize

bp = Blueprint("contents", __name__)

_TYPES = {None, "directory", "file", "notebook"}
_FORMATS = {None, "text", "base64"}


def _flag(name: str, default: str) -> bool:
    value = request.args.get(name, default)
    if value not in ("0", "1"):
        raise APIError(400, f"{name.capitalize()} {value!r} is invalid: use 0 or 1")
    return value == "1"


def _model_response(model: dict[str, Any], status: int, project_id: str | None) -> Response:
    response = jsonify(model)
    response.status_code = status
    base = f"/p/{project_id}" if project_id else ""
    response.headers["Location"] = f"{request.script_root}{base}/api/contents/{quote(model['path'])}"
    return response


def get(path: str = "", project_id: str | None = None) -> Response:
    """Return a file, notebook or directory model."""
    kind, fmt = request.args.get("type") or None, request.args.get("format") or None
    if kind not in _TYPES:
        raise APIError(400, f"Type {kind!r} is invalid")
    if fmt not in _FORMATS:
        raise APIError(400, f"Format {fmt!r} is invalid")
    cm = workspace().contents(project_id)
    return jsonify(cm.get(path, content=_flag("content", "1"), type=kind, format=fmt, hash=_flag("hash", "0")))


def put(path: str = "", project_id: str | None = None) -> Response:
    """Save a model (200), create it (201), or create an empty notebook/file when no body (201)."""
    cm = workspace().contents(project_id)
    model = get_json_body()
    if not model:
        kind = "notebook" if path.endswith(".ipynb") else "file"
        return _model_response(cm.save(cm.empty_model(kind), path), 201, project_id)
    if model.get("copy_from"):
        raise APIError(400, "Cannot copy with PUT, only POST")
    if model.get("type") not in ("directory", "file", "notebook"):
        raise APIError(400, f"Cannot create file or directory of type: {model.get('type')!r}")
    existed = cm.exists(path)
    return _model_response(cm.save(model, path), 200 if existed else 201, project_id)


def post(path: str = "", project_id: str | None = None) -> Response:
    """Create an untitled file/notebook/folder in a directory, or copy ``copy_from`` into it (201)."""
    cm = workspace().contents(project_id)
    body = get_json_body() or {}
    if body.get("copy_from"):
        model = cm.copy(str(body["copy_from"]), path)
    else:
        model = cm.new_untitled(path, type=body.get("type") or "file", ext=body.get("ext") or "")
    return _model_response(model, 201, project_id)


def patch(path: str = "", project_id: str | None = None) -> Response:
    """Rename or move (body ``{"path": new}``)."""
    body = get_json_body(required=True) or {}
    new_path = body.get("path")
    if not isinstance(new_path, str):
        raise APIError(400, 'Give the new path as {"path": "new/name"}')
    model = workspace().contents(project_id).rename(path, new_path)
    chat = getattr(current_app.extensions["salvus"], "chat", None)
    if chat is not None:  # a file's chat follows the file
        chat.moved(project_scope(project_id)[0], normalize(path), model["path"])
    return _model_response(model, 200, project_id)


def delete(path: str = "", project_id: str | None = None) -> Response:
    """Move to the project's trash (recoverable); 204."""
    workspace().contents(project_id).delete(path)
    return Response(status=204)


def list_checkpoints(path: str, project_id: str | None = None) -> Response:
    """List a file's checkpoints."""
    return jsonify(workspace().contents(project_id).checkpoints.list(path))


def create_checkpoint(path: str, project_id: str | None = None) -> Response:
    """Checkpoint a file (201 with Location)."""
    model = workspace().contents(project_id).checkpoints.create(path)
    response = jsonify(model)
    response.status_code = 201
    base = f"/p/{project_id}" if project_id else ""
    response.headers["Location"] = f"{request.script_root}{base}/api/contents/{quote(path)}/checkpoints/{model['id']}"
    return response


def restore_checkpoint(path: str, checkpoint_id: str, project_id: str | None = None) -> Response:
    """Restore a checkpoint over its file (204)."""
    workspace().contents(project_id).checkpoints.restore(path, checkpoint_id)
    return Response(status=204)


def delete_checkpoint(path: str, checkpoint_id: str, project_id: str | None = None) -> Response:
    """Delete a checkpoint (204)."""
    workspace().contents(project_id).checkpoints.delete(path, checkpoint_id)
    return Response(status=204)


_METHODS = {"GET": get, "PUT": put, "POST": post, "PATCH": patch, "DELETE": delete}


def contents(path: str = "", project_id: str | None = None) -> Response:
    """Dispatch /api/contents[/<path>] by HTTP method."""
    return _METHODS[request.method](path, project_id)


def checkpoints(path: str, project_id: str | None = None) -> Response:
    """Dispatch /api/contents/<path>/checkpoints."""
    return (list_checkpoints if request.method == "GET" else create_checkpoint)(path, project_id)


def checkpoint(path: str, checkpoint_id: str, project_id: str | None = None) -> Response:
    """Dispatch /api/contents/<path>/checkpoints/<id>."""
    return (restore_checkpoint if request.method == "POST" else delete_checkpoint)(path, checkpoint_id, project_id)


# Route table: every route exists for the default project and under /p/<project_id>/.
# merge_slashes=False: '//etc/passwd' must reach the path check (400), not be redirected.
for prefix in ("", "/p/<project_id>"):
    for rule, view, methods in (
        ("/api/contents", contents, list(_METHODS)),
        ("/api/contents/", contents, list(_METHODS)),  # jupyter_server accepts the root with a slash
        ("/api/contents/<path:path>", contents, list(_METHODS)),
        ("/api/contents/<path:path>/checkpoints", checkpoints, ["GET", "POST"]),
        ("/api/contents/<path:path>/checkpoints/<checkpoint_id>", checkpoint, ["POST", "DELETE"]),
    ):
        bp.add_url_rule(prefix + rule, view_func=view, methods=methods, merge_slashes=False)
