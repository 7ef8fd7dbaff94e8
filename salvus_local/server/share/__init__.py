"""Publishing (read-only shares at ``/share/<slug>/``) and exporting notebooks to HTML and PDF."""

from __future__ import annotations

import re

from flask import Flask, request

from ..auth import register_public
from .manager import ShareManager

__all__ = ["ShareManager", "init_app"]
_PUBLIC = re.compile(r"^/(?:share/([^/]+)(?:/|$)|api/shares/([^/]+)/(?:contents|raw)(?:/|$))")


def init_app(app: Flask) -> None:
    """Create the ShareManager (needs the project Workspace), let public shares through, add the routes."""
    from ..projects.workspace import init_workspace
    from .handlers import bp

    s = app.extensions["salvus"]
    s.shares = shares = ShareManager(init_workspace(app))

    def public_check() -> bool:
        # Reading a public share needs no login; an unknown slug gets its 404 from the view.
        if request.method not in ("GET", "HEAD"):
            return False
        match = _PUBLIC.match(request.path)
        if not match:
            return False
        slug = match.group(1) or match.group(2)
        rows = shares.store.query("select public from shares where slug = ?", (slug,))
        return not rows or bool(rows[0]["public"])

    register_public(app, public_check)
    app.register_blueprint(bp)
