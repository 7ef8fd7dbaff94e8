"""A project's Jupyter base URL for kernels: ``/p/<project_id>/api/kernels`` and its channels websocket.

The same KernelManager as ``/api/kernels``, scoped to one project: kernels start in the
project's folder (``path`` is relative to it), the list shows only that project's kernels, and a
kernel of another project answers 404 here.  An unknown project answers 404 JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from salvus_local.server.errors import APIError, get_json_body
from salvus_local.server.kernels.channels import serve_channels
from salvus_local.server.kernels.manager import KernelManager
from salvus_local.server.websocket import websocket_route

from .workspace import project_scope

bp = Blueprint("project_kernels", __name__)
_P = "/p/<project_id>/api/kernels"


def kernels() -> KernelManager:
    """The app's KernelManager."""
    return current_app.extensions["salvus"].kernels


@bp.before_request
def _known_project_and_kernel() -> None:
    """404 for an unknown project, or a kernel of another project, before any work (or websocket upgrade)."""
    args = request.view_args or {}
    project_scope(args.get("project_id"))
    if "kernel_id" in args:
        kernels().get(args["kernel_id"], args["project_id"])


def list_kernels(project_id: str) -> Response:
    """The project's running kernels."""
    return jsonify(kernels().list(project_id))


def start_kernel(project_id: str) -> tuple[Response, int, dict[str, str]]:
    """Start a kernel in the project: body ``{"name": spec name, "path": folder or notebook in the project}``."""
    body = get_json_body() or {}
    for key in ("name", "path"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise APIError(400, f"'{key}' must be a string, not {type(body[key]).__name__}")
    _pid, root = project_scope(project_id)
    model = kernels().start(body.get("name"), body.get("path"), root=root, project_id=project_id)
    return jsonify(model), 201, {"Location": f"/p/{project_id}/api/kernels/{model['id']}"}


def get_kernel(project_id: str, kernel_id: str) -> Response:
    """A kernel model."""
    return jsonify(kernels().model(kernel_id))


def delete_kernel(project_id: str, kernel_id: str) -> tuple[str, int]:
    """Shut a kernel down."""
    kernels().shutdown(kernel_id)
    return "", 204


def interrupt_kernel(project_id: str, kernel_id: str) -> tuple[str, int]:
    """Interrupt a kernel (SIGINT to its process group)."""
    kernels().interrupt(kernel_id)
    return "", 204


def restart_kernel(project_id: str, kernel_id: str) -> Response:
    """Restart a kernel under the same id (same folder)."""
    return jsonify(kernels().restart(kernel_id))


def channels(ws: Any, project_id: str, kernel_id: str) -> None:
    """The kernel's websocket."""
    serve_channels(ws, kernels(), kernel_id)


for rule, view, methods in (
    (_P, list_kernels, ["GET"]),
    (_P, start_kernel, ["POST"]),
    (f"{_P}/<kernel_id>", get_kernel, ["GET"]),
    (f"{_P}/<kernel_id>", delete_kernel, ["DELETE"]),
    (f"{_P}/<kernel_id>/interrupt", interrupt_kernel, ["POST"]),
    (f"{_P}/<kernel_id>/restart", restart_kernel, ["POST"]),
):
    bp.add_url_rule(rule, view_func=view, methods=methods)
websocket_route(bp, f"{_P}/<kernel_id>/channels", endpoint="channels")(channels)
