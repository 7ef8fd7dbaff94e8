"""REST handlers of ``/api/kernels`` (jupyter_server's shapes and status codes) and the channels route."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from .. import services
from ..errors import APIError, get_json_body
from ..websocket import websocket_route
from .channels import serve_channels

bp = Blueprint("kernels", __name__)


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    """Return body[key] when it is a string or absent; else a 400."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise APIError(400, f"'{key}' must be a string, not {type(value).__name__}")
    return value


@bp.before_request
def _kernel_must_exist() -> None:
    """Refuse a websocket to an unknown kernel with a 404 before the upgrade."""
    if request.endpoint == "kernels.channels":
        services().kernels.get((request.view_args or {}).get("kernel_id", ""))


@bp.get("/api/kernels")
def list_kernels() -> Response:
    """List running kernels."""
    return jsonify(services().kernels.list())


@bp.post("/api/kernels")
def start_kernel() -> tuple[Response, int, dict[str, str]]:
    """Start a kernel: body ``{"name": spec name, "path": directory}``, both optional."""
    body = get_json_body() or {}
    model = services().kernels.start(_optional_str(body, "name"), _optional_str(body, "path"))
    return jsonify(model), 201, {"Location": f"/api/kernels/{model['id']}"}


@bp.get("/api/kernels/<kernel_id>")
def get_kernel(kernel_id: str) -> Response:
    """Return a kernel model."""
    return jsonify(services().kernels.model(kernel_id))


@bp.delete("/api/kernels/<kernel_id>")
def delete_kernel(kernel_id: str) -> tuple[str, int]:
    """Shut a kernel down."""
    services().kernels.shutdown(kernel_id)
    return "", 204


@bp.post("/api/kernels/<kernel_id>/interrupt")
def interrupt_kernel(kernel_id: str) -> tuple[str, int]:
    """Interrupt a kernel (SIGINT to its process group)."""
    services().kernels.interrupt(kernel_id)
    return "", 204


@bp.post("/api/kernels/<kernel_id>/restart")
def restart_kernel(kernel_id: str) -> Response:
    """Restart a kernel under the same id."""
    return jsonify(services().kernels.restart(kernel_id))


@websocket_route(bp, "/api/kernels/<kernel_id>/channels")
def channels(ws: Any, kernel_id: str) -> None:
    """The kernel's websocket."""
    serve_channels(ws, services().kernels, kernel_id)
