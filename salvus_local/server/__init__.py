"""The web server: a Flask app factory; each service attaches itself with ``init_app(app)``.

Managers live in ``app.extensions["salvus"]`` (a :class:`Services`), e.g.
``current_app.extensions["salvus"].kernels``.  Auth runs before every view, so blueprints
need no auth code; errors are JSON via :mod:`salvus_local.server.errors`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Flask, current_app
from werkzeug.routing import PathConverter

from salvus_local.config import Config

log = logging.getLogger("salvus_local.server")


class Services:
    """The app's managers and shared state: ``config``, ``auth``, ``kernels``, ``sessions``, …"""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.started = dt.datetime.now(dt.UTC)
        self.last_activity = self.started

    def touch(self) -> None:
        """Record API activity (reported by /api/status)."""
        self.last_activity = dt.datetime.now(dt.UTC)


def services() -> Services:
    """Return the current app's Services."""
    return current_app.extensions["salvus"]


class AnyPathConverter(PathConverter):
    """werkzeug's ``path`` converter, but ``.`` also matches a newline: such names exist on disk."""

    regex = "[^/](?s:.)*?"


def create_app(config: Config, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app for one salvus-local server."""
    from . import accounts, api, auth, contents, errors, history, kernels, pages, projects, sessions, terminals
    from . import api, auth, contents, errors, history, kernels, pages, projects, sessions, terminals
    from . import compute_api, embed, share
    from . import sandbox, worksheets
    from . import openapi, websocket

    app = Flask("salvus_local", static_folder=None)
    app.url_map.converters["path"] = AnyPathConverter  # file names may hold newlines
    app.config.update(
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=512 * 1024 * 1024,
        SOCK_SERVER_OPTIONS={"ping_interval": 30},
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["salvus"] = Services(config)

    # One line per service.  errors and auth come first; history after kernels (it listens to them).
    errors.init_app(app)      # JSON errors
    auth.init_app(app)        # token, cookie, XSRF, Host/Origin checks, /login
    websocket.init_app(app)   # the cap on open websockets (503 past it, threads kept for HTTP)
    api.init_app(app)         # /api, /api/status, /api/kernelspecs
    kernels.init_app(app)     # /api/kernels and the channels websocket
    sessions.init_app(app)    # /api/sessions
    projects.init_app(app)    # /api/projects (and the shared project workspace)
    contents.init_app(app)    # /api/contents
    terminals.init_app(app)   # /api/terminals
    history.init_app(app)     # /api/history, /api/search
    from . import collab

    collab.init_app(app)      # /api/collab/rooms/<path> (y-websocket rooms), /api/collab/status
    worksheets.init_app(app)  # /api/worksheets/import (.sws, .sagews → .ipynb)
    sandbox.init_app(app)     # /sandbox/frame.html, /nbextensions/threejs-sage (3D offline)
    pages.init_app(app)       # the HTML client
    accounts.init_app(app)    # /api/me, sign-up, tokens, users, join, collaborators, activity
    compute_api.init_app(app) # /api/v1/execute, /service
    share.init_app(app)       # /share/<slug>/ read-only pages, /api/shares, /api/export
    from . import courses as courses_api

    courses_api.init_app(app)  # /api/courses: courses, students, assignments, bulk jobs, grades
    embed.init_app(app)       # /embed.js, /embed/kernels (anonymous embedded cells), CORS for allowed origins
    from . import git as git_http

    git_http.init_app(app)    # /git/<owner>/<project>.git: sync's git smart HTTP (hub side)
    from . import chat as chat_http

    chat_http.init_app(app)   # [/p/<project>]/api/chat (REST + websocket), /api/notifications
    from . import syncapi

    syncapi.init_app(app)     # /api/projects/<id>/sync, /api/sync/status: sync status, Sync now, background sync
    openapi.init_app(app)     # /api/openapi.json; every API request checked against it (after auth and access)
    return app
