"""Fixtures: a REAL ``salvus-local`` per test module (tests/conftest.py's Server) and clients of its base URLs.

``server`` (module scope) overrides the session-wide one: each module gets its own server, data
dir and port (Python kernels only, snapshots every 2 s).  ``project`` is a fresh project per test;
``client`` talks to that project's Jupyter base URL ``/p/<id>/`` and ``root`` is its folder, so
tests sharing a server never see each other's files.  ``api`` talks to the server's root URLs.
Tests that need a server to themselves use ``start_server(*SERVER_ARGS)``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from tests.conftest import DEFAULT_TIMEOUT, KernelClient, Server, wait_for  # noqa: F401 - re-exported to tests

SERVER_ARGS = ("--kernels", "python", "--kernel", "python", "--snapshot-interval", "2")


class Client(requests.Session):
    """requests.Session bound to a server's URL plus a prefix (``/p/<id>`` for a project), sending its token."""

    def __init__(self, server: Server, prefix: str = "") -> None:
        super().__init__()
        self.server, self.prefix = server, prefix
        self.base = server.base_url + prefix
        self.headers["Authorization"] = f"token {server.token}"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        return super().request(method, self.base + url, *args, **kwargs)

    def kernel(self, kernel_id: str) -> KernelClient:
        """Open a kernel's channels websocket under this base URL."""
        return KernelClient(self.server.ws(f"{self.prefix}/api/kernels/{kernel_id}/channels"))


def read_until(ws: websocket.WebSocket, needle: str, timeout: float = 60.0) -> str:
    """Read a terminado websocket's stdout until needle appears; return what was read."""
    out = ""
    deadline = time.monotonic() + timeout
    while needle not in out:
        assert time.monotonic() < deadline, f"{needle!r} not seen in {out[-500:]!r}"
        msg = json.loads(ws.recv())
        if msg[0] == "stdout":
            out += msg[1]
    return out


def run_cell(kc: KernelClient, code: str, cell_id: str | None = None, silent: bool = False) -> dict[str, Any]:
    """Execute code as a notebook cell (``metadata.cellId``) and return the execute_reply."""
    msg = kc.message("shell", "execute_request", {"code": code, "silent": silent, "store_history": not silent,
                                                  "user_expressions": {}, "allow_stdin": False})
    msg["metadata"] = {"cellId": cell_id} if cell_id else {}
    kc.ws.send(json.dumps(msg))
    reply, _ = kc.wait_for(lambda m: m["channel"] == "shell"
                           and m["parent_header"].get("msg_id") == msg["header"]["msg_id"], keep=False)
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """This module's own real salvus-local server."""
    srv = Server(*SERVER_ARGS)
    yield srv
    srv.stop()


@pytest.fixture
def data_dir(server: Server) -> Path:
    """The module server's data dir."""
    return server.data_dir


@pytest.fixture
def api(server: Server) -> Client:
    """An authenticated client of the server's root URLs (/api/...: the default project)."""
    return Client(server)


@pytest.fixture
def project(api: Client) -> dict[str, Any]:
    """A fresh project of its own for this test."""
    r = api.post("/api/projects", json={"title": "Test"})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def client(server: Server, project: dict[str, Any]) -> Client:
    """A client of the fresh project's Jupyter base URL /p/<id>/."""
    return Client(server, f"/p/{project['id']}")


@pytest.fixture
def root(project: dict[str, Any]) -> Path:
    """The fresh project's folder."""
    return Path(project["path"])
