"""Who is asking, resolved ONCE per request, before Flask routes it (a WSGI middleware).

:class:`IdentityMiddleware` reads the credentials (the server token, a user's API token, or the
login cookie), puts an :class:`Identity` in ``environ["salvus.identity"]`` and, in multi-user
mode, maps the default project's URLs to the user's home project: ``/api/contents/x`` becomes
``/p/<home>/api/contents/x``, ``/notebooks/a.ipynb`` becomes ``/p/<home>/notebooks/a.ipynb`` and
``/api/kernels/<id>/...`` becomes the URL under that kernel's own project.  From then on every
project-scoped request names its project in the path, and ``server/auth.py`` checks the role for
it in one place, before any handler or websocket upgrade.  Handlers never re-derive any of this.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request

log = logging.getLogger("salvus_local.server")
SINGLE_USER = {"id": 0, "name": "owner", "display_name": "Owner", "role": "admin", "status": "active",
               "must_change_password": 0, "created": None, "last_seen": None}
ENV_KEY = "salvus.identity"

_KERNEL_URL = re.compile(r"^/api/kernels/([^/]+)(/.*)?$")
_HISTORY_URL = re.compile(r"^/api/(?:search|history)/?$")


@dataclass
class Identity:
    """The requester: ``user`` (a users row; the single user in single-user mode) and how they proved it."""

    user: dict[str, Any] | None = None
    method: str | None = None  # "token" (the server's), "apitoken" (a user's), "cookie"
    session_id: str | None = None  # the login session behind a cookie (multi-user mode)
    scope: str = "api"  # an API token's scope
    token_id: int | None = None  # the API token's id (so `sync logout` can revoke the token it holds)
    home: str | None = None  # the user's home project (multi-user mode)
    rewritten_from: str | None = None  # the path the client asked for, when mapped to the home project
    home_error: str | None = None  # set when the home project could not be found or made
    cookie_conflict: bool = False  # planted or duplicated login cookies: anonymous, and they are cleared

    @property
    def active(self) -> bool:
        """Tell whether the user may use the server (signed in, approved, no forced password change)."""
        return bool(self.user) and self.user["status"] == "active" and not self.user["must_change_password"]


class IdentityMiddleware:
    """WSGI middleware: resolve the identity, then (multi-user) map default-project URLs to the home project."""

    def __init__(self, wsgi_app: Any, app: Any) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        services = self.app.extensions["salvus"]
        try:
            identity = services.auth.resolve(Request(environ))
        except Exception:  # a broken credential store must not let anyone in: anonymous
            log.exception("could not resolve the identity of a request")
            identity = Identity()
        if services.auth.multi_user and identity.active:
            try:
                self._map_home(environ, identity, services)
            except Exception as exc:  # never fall through to the default project: auth answers 503
                log.exception("could not find the home project of %s", identity.user["name"])
                identity.home_error = getattr(exc, "message", None) or "internal error"
        environ[ENV_KEY] = identity
        return self.wsgi_app(environ, start_response)

    @staticmethod
    def _map_home(environ: dict[str, Any], identity: Identity, services: Any) -> None:
        """Rewrite PATH_INFO (and a history query) of default-project URLs to the user's home project."""
        user = identity.user
        assert user is not None
        path = environ.get("PATH_INFO", "")
        kernel = _KERNEL_URL.match(path)
        if kernel and user["role"] != "admin":
            kernels = getattr(services, "kernels", None)
            if kernels is not None and kernel.group(1) in kernels:
                target = kernels.project_of(kernel.group(1))
                _set_path(environ, identity, f"/p/{target}{path}")
                return
        listing = path.rstrip("/") == "/api/projects" and environ.get("REQUEST_METHOD") == "GET"
        websocket = environ.get("HTTP_UPGRADE", "").lower() == "websocket"
        scoped = _has_project_twin(services, path, environ.get("REQUEST_METHOD", "GET"), websocket)
        if not (scoped or listing or _HISTORY_URL.match(path)):
            return
        home = services.auth.home_project(user)
        identity.home = home
        if listing:
            return  # the project list shows the home project from the first visit on
        if home == "default":
            return  # the first admin: the default project is theirs, URLs stay as in single-user mode
        if _HISTORY_URL.match(path):
            query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if not any(k == "project" and v for k, v in query):
                query = [(k, v) for k, v in query if k != "project"] + [("project", home)]
                environ["QUERY_STRING"] = urlencode(query)
            return
        if kernel and user["role"] == "admin":
            return
        _set_path(environ, identity, f"/p/{home}{path}")


def _has_project_twin(services: Any, path: str, method: str, websocket: bool) -> bool:
    """Tell whether a default-project URL has a ``/p/<project>/…`` twin (then it is the home project's).

    Asking the URL map, not a list, keeps every future per-project route (``/api/contents``,
    ``/notebooks/…``, ``/terminals/websocket/…``, ``/api/worksheets/…``) scoped without edits here.
    """
    if path.startswith("/p/"):
        return False
    adapter = services.url_adapters[websocket]  # websocket routes match only a ws:// adapter
    try:
        adapter.match(f"/p/x{path}", method=method)
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def _set_path(environ: dict[str, Any], identity: Identity, path: str) -> None:
    identity.rewritten_from = environ.get("PATH_INFO", "")
    environ["PATH_INFO"] = path
