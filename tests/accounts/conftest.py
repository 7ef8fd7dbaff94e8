"""A real multi-user server and clients that sign in as different people.

``multi`` (module scope): ``salvus-local --multi-user`` with Python kernels.  Tests share it and make users
with unique names (``unique("alice")``).  ``Person`` is a browser-like requests.Session signed in with a
username and password; it echoes the current ``_xsrf`` cookie in ``X-XSRFToken`` like the client does.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
import requests
import websocket

from tests.conftest import DEFAULT_TIMEOUT, HttpVerbs, Server

PYTHON_ONLY = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python"}
PASSWORD = "correct horse 42"
_counter = itertools.count()


def unique(prefix: str) -> str:
    """A username no other test uses."""
    return f"{prefix}{next(_counter)}x{uuid.uuid4().hex[:4]}"


class Person(HttpVerbs):
    """One browser: a cookie jar, signed in as a user."""

    def __init__(self, srv: Server, name: str, password: str = PASSWORD) -> None:
        self.srv, self.name, self.password = srv, name, password
        self.s = requests.Session()
        self.last_login: requests.Response | None = None

    def login(self, password: str | None = None, next_: str = "/", address: str | None = None) -> requests.Response:
        """Post the login form; return the response (302 on success)."""
        self.s.get(self.srv.url("/login"), allow_redirects=False, timeout=DEFAULT_TIMEOUT)
        r = self.s.post(self.srv.url("/login"), data={"username": self.name, "password": password or self.password,
                                                       "next": next_, "_xsrf": self.s.cookies.get("_xsrf", "")},
                        allow_redirects=False, timeout=DEFAULT_TIMEOUT)
        self.last_login = r
        return r

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        """A request with the current XSRF value, like the client's api.js."""
        headers = {"X-XSRFToken": self.s.cookies.get("_xsrf", ""), **(kw.pop("headers", None) or {})}
        kw.setdefault("timeout", DEFAULT_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        return self.s.request(method, self.srv.url(path), headers=headers, **kw)

    def cookie_header(self) -> str:
        """The Cookie header this browser would send."""
        return "; ".join(f"{c.name}={c.value}" for c in self.s.cookies)

    def ws(self, path: str, **kw: Any) -> websocket.WebSocket:
        """Open a websocket with this browser's cookies (raises WebSocketBadStatusException when refused)."""
        return websocket.create_connection(self.srv.base_url.replace("http", "ws", 1) + path,
                                           header=[f"Cookie: {self.cookie_header()}"], timeout=DEFAULT_TIMEOUT, **kw)

    def ws_refused(self, path: str) -> int:
        """The status a websocket to path was refused with (0 when it opened)."""
        return ws_status(lambda: self.ws(path))

    def home(self) -> str:
        """The id of this user's home project."""
        projects = self.get("/api/projects").json()
        return next(p["id"] for p in projects if p["owner"] == self.name and p["title"].endswith("(home)"))


def make_user(srv: Server, role: str = "student", prefix: str = "u", password: str = PASSWORD) -> Person:
    """Create a user through the admin API (server token) and sign them in."""
    name = unique(prefix)
    r = srv.post("/api/users", json={"username": name, "role": role, "password": password})
    assert r.status_code == 201, r.text
    person = Person(srv, name, password)
    assert person.login().status_code == 302, person.last_login.text
    return person


def ws_status(fn: Any) -> int:
    """The HTTP status with which a websocket was refused (0 when it opened)."""
    try:
        fn().close()
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    return 0


@pytest.fixture(scope="module")
def multi() -> Any:
    """One multi-user server for a test module."""
    srv = Server("--multi-user", env=PYTHON_ONLY)
    yield srv
    srv.stop()
