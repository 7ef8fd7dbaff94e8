"""The HTML pages of the notebook client and its built assets.

``/`` is the starter page (scratch box + notebook list), ``/notebooks/<path>`` a notebook,
``/static/<file>`` the files ``npm run build`` wrote to ``salvus_local/_static``.  Asset
names carry a content hash, so they are cached for a year; the HTML is never cached.
Auth is the app's ``before_request``: the pages only read the ``_xsrf`` cookie in JS.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, send_from_directory

STATIC_DIR = Path(__file__).resolve().parents[2] / "_static"
HASHED = re.compile(r"-[A-Z0-9]{8}\.[a-z0-9]+$")
YEAR = 365 * 24 * 3600

bp = Blueprint("pages", __name__, template_folder="templates")


@lru_cache(maxsize=4)
def _read_manifest(path: str, mtime: float) -> dict[str, Any]:
    """Parse manifest.json (cached per file version)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def manifest() -> dict[str, Any] | None:
    """Return the build manifest ({entries: {name: {js, css}}}), or None when not built."""
    path = STATIC_DIR / "manifest.json"
    try:
        return _read_manifest(str(path), path.stat().st_mtime)
    except (OSError, ValueError):
        return None


def content_security_policy() -> str:
    """A strict CSP for the app pages: our own scripts only, no inline script, no plugins."""
    host = request.host
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        # KaTeX and CodeMirror set style attributes; styles cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src 'self' ws://{host} wss://{host}",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ])


def render_page(page: str, title: str, base_url: str = "/", path: str = "") -> Response:
    """Render a client page, or the "run make setup" page when the assets are missing."""
    built = manifest()
    assets = built and built.get("entries", {}).get(page)
    if not assets:
        response = Response(render_template("not_built.html"), status=503, mimetype="text/html")
    else:
        html = render_template("page.html", page=page, title=title, assets=assets, base_url=base_url, path=path)
        response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.get("/")
def starter() -> Response:
    """The starter page: a scratch box for Sage code and the notebook list."""
    return render_page("starter", "Home")


@bp.get("/notebooks/<path:path>")
def notebook(path: str) -> Response:
    """A notebook (created on first save when it does not exist yet)."""
    return render_page("notebook", path.rsplit("/", 1)[-1], path=path)


@bp.get("/p/<project>/")
def project_starter(project: str) -> Response:
    """The starter page of one project (its API lives under /p/<project>/api)."""
    return render_page("starter", project, base_url=f"/p/{project}/")


@bp.get("/p/<project>/notebooks/<path:path>")
def project_notebook(project: str, path: str) -> Response:
    """A notebook of one project."""
    return render_page("notebook", path.rsplit("/", 1)[-1], base_url=f"/p/{project}/", path=path)


@bp.get("/tree", defaults={"path": ""})
@bp.get("/tree/<path:path>")
@bp.get("/lab", defaults={"path": ""})
def jupyter_home(path: str) -> Response:
    """Jupyter's home URLs lead to the starter page."""
    return redirect("/")


@bp.get("/static/<path:filename>")
def static(filename: str) -> Response:
    """A built asset: hashed names are immutable, the rest revalidate."""
    if not STATIC_DIR.is_dir():
        abort(404)
    immutable = bool(HASHED.search(filename))
    response = send_from_directory(STATIC_DIR, filename, max_age=YEAR if immutable else 0)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable" if immutable else "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask) -> None:
    """Serve the client pages and assets."""
    app.register_blueprint(bp)
