"""The HTML pages of the notebook client and its built assets.

``/`` is the starter page (scratch box + notebook list), ``/projects`` the project list, and
for the default project (no prefix) and each ``/p/<project>`` : ``notebooks/<path>`` a notebook,
``files/<path>`` the file browser, ``edit/<path>`` the text editor, ``terminals/<name>`` a
terminal; the account pages (``/signup``, ``/settings``, ``/teacher`` …) are in
:mod:`.accounts`, the course pages (``/courses`` …) in :mod:`.courses`.  ``/static/<file>`` serves
what ``npm run build`` wrote to ``salvus_local/_static``.
Asset names carry a content hash, so they are cached for a year; the HTML is never cached.
Auth is the app's ``before_request``: the pages only read the ``_xsrf`` cookie in JS.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, send_from_directory

from salvus_local import __version__

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


def render_page(page: str, title: str, base_url: str = "/", path: str = "", project: str = "default",
                name: str = "") -> Response:
    """Render a client page, or the "run make setup" page when the assets are missing."""
    built = manifest()
    assets = built and built.get("entries", {}).get(page)
    if not assets:
        response = Response(render_template("not_built.html"), status=503, mimetype="text/html")
    else:
        # root: where the server's own API lives (/api/projects, /api/search), whatever the project.
        html = render_template("page.html", page=page, title=title, assets=assets, base_url=request.script_root + base_url,
                               path=path, project=project, name=name, root=request.script_root + "/",
                               version=__version__)
        response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def page_view(page: str, title: str, doc: str):
    """A view function serving one client page (URL arguments are read by the client, not here)."""

    def view(**_args: str) -> Response:
        return render_page(page, title)

    view.__doc__ = doc
    return view


def add_pages(bp: Blueprint, pages: list[tuple[str, str, str, str]], prefix: str) -> None:
    """Add (url rule, client page, title, doc) rows as GET routes named ``<prefix>_<page>``."""
    for rule, page, title, doc in pages:
        bp.add_url_rule(rule, endpoint=f"{prefix}_{page}", view_func=page_view(page, title, doc), methods=["GET"])


@bp.get("/")
def starter() -> Response:
    """The starter page: a scratch box for Sage code and the notebook list."""
    return render_page("starter", "Home")


@bp.get("/projects")
def projects() -> Response:
    """The project list: create, open, clone, rename, archive, delete and restore projects."""
    return render_page("projects", "Projects")


@bp.get("/p/<project>/")
def project_starter(project: str) -> Response:
    """The starter page of one project (its API lives under /p/<project>/api)."""
    return render_page("starter", project, base_url=f"/p/{project}/", project=project)


def _leaf(path: str, default: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or default


# (url part, client page, view name, what it shows): each exists for the default project
# (``/files/...``) and for every project (``/p/<project>/files/...``).
PROJECT_PAGES = [
    ("notebooks/<path:path>", "notebook", "notebook", "A notebook (created on first save when it does not exist yet)."),
    ("files/", "files", "files_root", "The file browser at the project's top folder."),
    ("files/<path:path>", "files", "files", "The file browser in a folder."),
    ("edit/<path:path>", "edit", "edit", "The text editor (CodeMirror) for one file."),
    ("terminals/", "terminal", "terminals", "The terminals of the project: opens one, or starts one."),
    ("terminals/<name>", "terminal", "terminal", "One terminal."),
]


def _project_view(page: str, doc: str, prefixed: bool):
    def view(project: str = "default", path: str = "", name: str = "") -> Response:
        title = {"files": _leaf(path, "Files"), "terminal": f"Terminal {name}".strip()}.get(page, _leaf(path, page))
        base = f"/p/{project}/" if prefixed else "/"
        return render_page(page, title, base_url=base, path=path, project=project, name=name)

    view.__doc__ = doc
    return view


for _rule, _page, _name, _doc in PROJECT_PAGES:
    bp.add_url_rule(f"/{_rule}", endpoint=_name, view_func=_project_view(_page, _doc, False), methods=["GET"])
    bp.add_url_rule(f"/p/<project>/{_rule}", endpoint=f"project_{_name}", view_func=_project_view(_page, _doc, True),
                    methods=["GET"])


from . import accounts as _accounts  # noqa: E402  (the account pages need render_page above)
from . import courses as _courses  # noqa: E402

_accounts.register(bp)
_courses.register(bp)


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
