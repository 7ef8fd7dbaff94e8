"""Untrusted HTML that must run scripts (Sage's 3D viewer) runs in a sandboxed frame, offline.

``/sandbox/frame.html`` is an empty page served with ``Content-Security-Policy: sandbox
allow-scripts``: its origin is opaque, so its scripts cannot read the app's cookies, storage
or API answers. The client puts it in an ``<iframe sandbox="allow-scripts">`` and posts it the
output's HTML, which the page writes into itself. Inline scripts may run there (they are the
output's own), external ones only from ``/nbextensions/``.

``/nbextensions/threejs-sage/<version>/three.min.js`` is the three.js Sage's viewer asks for
(Sage's notebook backend writes exactly that path), served from the ``jupyter_threejs_sage``
package that Sage's plotting depends on, or from ``<prefix>/share/jupyter/nbextensions``.
Both routes are public: they hold no secret, and a sandboxed frame sends no cookie.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, request, send_from_directory

bp = Blueprint("sandbox", __name__)

VERSION = re.compile(r"^r\d{2,4}$")
YEAR = 365 * 24 * 3600

FRAME = """<!doctype html>
<html><head><meta charset="utf-8"><title>output</title>
<script>
(function () {
  var done = false;
  window.addEventListener("message", function (ev) {
    if (done || ev.source !== window.parent || !ev.data || typeof ev.data.html !== "string") return;
    done = true;
    document.open();
    document.write(ev.data.html);
    document.close();
    // Clicking into the frame must not draw a focus ring around the whole output.
    var style = document.createElement("style");
    style.textContent = ":root:focus, body:focus, canvas:focus { outline: none; }";
    (document.head || document.documentElement).appendChild(style);
  });
  window.parent.postMessage({ salvusSandbox: "ready" }, "*");
})();
</script></head><body></body></html>
"""


def threejs_dirs() -> list[Path]:
    """Folders that may hold ``<version>/three.min.js``, best first."""
    found = []
    spec = importlib.util.find_spec("jupyter_threejs_sage")
    if spec and spec.submodule_search_locations:
        found += [Path(p) / "static" for p in spec.submodule_search_locations]
    for prefix in dict.fromkeys([sys.prefix, sys.base_prefix]):
        found.append(Path(prefix) / "share" / "jupyter" / "nbextensions" / "threejs-sage")
    return [d for d in found if d.is_dir()]


@bp.get("/nbextensions/threejs-sage/<version>/three.min.js")
def threejs(version: str) -> Response:
    """The three.js build Sage's 3D viewer loads (404 when Sage's copy is not installed)."""
    if not VERSION.match(version):
        abort(404)
    for folder in threejs_dirs():
        if (folder / version / "three.min.js").is_file():
            response = send_from_directory(folder / version, "three.min.js", mimetype="text/javascript",
                                           max_age=YEAR)
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Access-Control-Allow-Origin"] = "*"  # the sandboxed frame's origin is opaque
            return response
    abort(404)


def frame_policy() -> str:
    """The CSP of the sandboxed frame: an opaque origin, its own inline scripts, no network."""
    own = f"{request.scheme}://{request.host}"
    return "; ".join([
        "sandbox allow-scripts",
        "default-src 'none'",
        f"script-src 'unsafe-inline' {own}/nbextensions/",
        "style-src 'unsafe-inline'",
        "img-src data: blob:",
        "font-src data:",
        "media-src data: blob:",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'none'",
    ])


@bp.get("/sandbox/frame.html")
def frame() -> Response:
    """The empty sandboxed page that untrusted HTML is written into."""
    response = Response(FRAME, mimetype="text/html")
    response.headers["Content-Security-Policy"] = frame_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def init_app(app: Flask) -> None:
    """Serve the sandboxed output frame and Sage's three.js."""
    app.register_blueprint(bp)
