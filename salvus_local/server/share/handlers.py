"""Routes of publishing: the read-only pages ``/share/<slug>/…``, their JSON, the shares API and export.

Public (no login, for public shares): ``GET /share/<slug>/[<path>]`` (the page),
``GET /api/shares/<slug>/contents/[<path>]`` (its JSON) and ``…/raw/<path>`` (file bytes,
served inert).  With the token: ``POST/GET /api/shares``, ``DELETE /api/shares/<slug>``,
``POST /api/shares/<slug>/copy`` and ``GET /api/export?project=&path=&to=html|pdf``.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request

from .. import services
from ..access import project_role
from ..errors import APIError, get_json_body
from ..pages import render_page
from .export import ExportError, read, to_html, to_pdf

bp = Blueprint("share", __name__)


def _shares() -> Any:
    return services().shares


def _project(value: Any, needed: str = "editor") -> str:
    """Return a project id from a request field (default project when absent), checking the requester's role."""
    if value is None or value == "":
        value = "default"
    if not isinstance(value, str):
        raise APIError(400, f"'project' must be a project id (a string), not {type(value).__name__}")
    return project_role(value, needed)


@bp.get("/share/<slug>/", defaults={"rest": ""})
@bp.get("/share/<slug>/<path:rest>")
def page(slug: str, rest: str) -> Response:
    """The read-only page of a share (rendered by the client's share entry)."""
    share = _shares().get(slug)
    title = (rest or share["path"] or share["project_id"]).rstrip("/").rsplit("/", 1)[-1]
    return render_page("share", title, path=rest, name=slug)


@bp.get("/share/<slug>")
def page_slash(slug: str) -> Response:
    """A share's URL without its trailing slash."""
    return redirect(f"/share/{slug}/")


@bp.get("/api/shares/<slug>/contents/", defaults={"rest": ""})
@bp.get("/api/shares/<slug>/contents/<path:rest>")
def contents(slug: str, rest: str) -> Response:
    """``{share, item}``: the share and the Contents-API model of ``rest`` inside it (paths relative to it)."""
    share, item = _shares().read(slug, rest)
    title = (share["path"] or share["project_id"]).rsplit("/", 1)[-1]
    return jsonify({"share": {"slug": share["slug"], "kind": share["kind"], "title": title}, "item": item})


@bp.get("/api/shares/<slug>/raw/<path:rest>")
@bp.get("/api/shares/<slug>/raw/", defaults={"rest": ""})
def raw(slug: str, rest: str) -> Response:
    """A shared file's bytes, inert: sandboxed without scripts, no sniffing."""
    name, data = _shares().read_bytes(slug, rest)
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if "javascript" in mime or "ecmascript" in mime:
        # Served as JavaScript it would be a script of our origin that `script-src 'self'` lets any HTML
        # injection load (an <iframe srcdoc> in a trusted notebook); as text (nosniff) it cannot run.
        mime = "text/plain"
    response = Response(data, mimetype=mime)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response


@bp.post("/api/shares")
def publish() -> tuple[Response, int]:
    """Publish ``{project?, path}`` → 201 with the share ``{slug, url, kind, …}`` (the same one if already published)."""
    body = get_json_body(required=True) or {}
    if "path" not in body:
        raise APIError(400, "'path' is required: the file or folder to publish ('' for the whole project)")
    return jsonify(_shares().publish(_project(body.get("project")), body["path"])), 201


@bp.get("/api/shares")
def list_shares() -> Response:
    """List shares (``?project=`` and ``?path=`` narrow it)."""
    project = request.args.get("project")
    if project is None and getattr(services().auth, "multi_user", False):
        project = "default"  # in multi-user mode one lists the shares of a project one may see
    return jsonify(_shares().list(project if project is None else _project(project, "viewer"), request.args.get("path")))


@bp.delete("/api/shares/<slug>")
def unpublish(slug: str) -> tuple[str, int]:
    """Unpublish a share (its files stay in the project)."""
    project_role(_shares().get(slug)["project_id"], "editor")
    _shares().unpublish(slug)
    return "", 204


@bp.post("/api/shares/<slug>/copy")
def copy(slug: str) -> tuple[Response, int]:
    """Copy a shared file ``{path?, project?, to?}`` into a project (folder ``to``); 201 with the new file's model."""
    body = get_json_body() or {}
    path = body.get("path") or ""
    if not isinstance(path, str):
        raise APIError(400, "'path' must be a string: the file inside the share")
    to_dir = body.get("to") or ""
    if not isinstance(to_dir, str):
        raise APIError(400, "'to' must be a folder path (a string)")
    model = _shares().copy_into(slug, path, _project(body.get("project")), to_dir)
    return jsonify(model), 201


@bp.get("/api/export")
def export() -> Response:
    """Download a notebook as HTML or PDF: ``?path=&project=&to=html|pdf``."""
    to = request.args.get("to", "html")
    if to not in ("html", "pdf"):
        raise APIError(400, f"'to' must be html or pdf, not {to!r}")
    path = request.args.get("path", "")
    if not path.endswith(".ipynb"):
        raise APIError(400, f"'path' must name a notebook (.ipynb), not {path!r}")
    cm = services().workspace.contents(_project(request.args.get("project"), "viewer"))
    model = cm.get(path, type="notebook")
    title = path.rsplit("/", 1)[-1][: -len(".ipynb")]
    try:
        nb = read(model["content"])
        if to == "html":
            data, mime, engine = to_html(nb, title).encode(), "text/html", "nbconvert"
        else:
            data, engine = to_pdf(nb, title)
            mime = "application/pdf"
    except ExportError as exc:
        raise APIError(501 if "needs" in str(exc) else 400, str(exc)) from None
    response = Response(data, mimetype=mime)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(title)}.{to}"
    response.headers["Content-Security-Policy"] = "sandbox allow-scripts"  # never our origin, if opened inline
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Salvus-Export-Engine"] = engine
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
