"""``/api``, ``/api/status`` and ``/api/kernelspecs`` (jupyter_server's shapes)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from salvus_local import __version__

from . import services
from .errors import APIError
from .kernels.kernel import iso

bp = Blueprint("api", __name__)


@bp.get("/api")
@bp.get("/api/")
def version() -> Response:
    """Return the server version (jupyter_server returns its own; this is salvus-local's)."""
    return jsonify({"version": __version__})


@bp.get("/api/status")
def status() -> Response:
    """Return started, last_activity, connections and kernels."""
    s = services()
    last = max(filter(None, [s.last_activity, s.kernels.last_activity()]))
    return jsonify({"started": iso(s.started), "last_activity": iso(last),
                    "connections": s.kernels.connections(), "kernels": len(s.kernels.list()),
                    "isolation": s.config.extra.get("isolation") or {}})  # launcher.check_isolation


@bp.get("/api/kernelspecs")
@bp.get("/p/<project_id>/api/kernelspecs")  # a project's Jupyter base URL lists them too (its notebook pages ask there)
def kernelspecs(project_id: str | None = None) -> Response:
    """Return every kernel spec and the default (the same for every project; 404 for an unknown one)."""
    if project_id is not None:
        from .projects.workspace import project_scope

        project_scope(project_id)
    return jsonify(services().kernels.specs.models())


@bp.get("/api/kernelspecs/<name>")
def kernelspec(name: str) -> Response:
    """Return one kernel spec."""
    specs = services().kernels.specs
    if name not in specs.by_name():
        raise APIError(404, f"Kernel spec {name} not found")
    return jsonify(specs.model(name))


def no_store(response: Response) -> Response:
    """API answers are live state: never cached (a Back button must not show a stale listing)."""
    if "/api/" in request.path + "/":  # /api, /api/..., /p/<project>/api/...
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register the API basics."""
    app.register_blueprint(bp)
    app.after_request(no_store)
