"""Fixtures of the collaboration tests: a private server with rooms on, clients, notebook files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.collab.yclient import YClient
from tests.conftest import Server, wait_for

ARGS = ("--collaboration", "on", "--kernel", "python", "--kernels", "python")


def room_url(server: Server, path: str, project: str | None = None) -> str:
    """ws:// URL of a room (each path segment URL-encoded, as the browser does)."""
    prefix = f"/p/{project}" if project else ""
    return (server.base_url.replace("http", "ws", 1) + f"{prefix}/api/collab/rooms/"
            + "/".join(quote(part, safe="") for part in path.split("/")))


def client(server: Server, path: str, name: str = "client", headers: list[str] | None = None,
           project: str | None = None, connect: bool = True) -> YClient:
    """A YClient of a room, authenticated with the server token unless headers are given."""
    kind = "notebook" if path.endswith(".ipynb") else "text"
    c = YClient(room_url(server, path, project), headers if headers is not None else
                [f"Authorization: token {server.token}"], kind, name)
    return c.connect() if connect else c


def notebook(*sources: str) -> dict[str, Any]:
    """An nbformat 4.5 notebook with one code cell per source (ids c0, c1, ...)."""
    return {"cells": [{"id": f"c{i}", "cell_type": "code", "source": s, "metadata": {}, "outputs": [],
                       "execution_count": None} for i, s in enumerate(sources)],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def put_notebook(server: Server, path: str, nb: dict[str, Any], project: str | None = None) -> None:
    """Write a notebook through the Contents API."""
    prefix = f"/p/{project}" if project else ""
    r = server.put(f"{prefix}/api/contents/{path}", json={"type": "notebook", "content": nb})
    assert r.status_code in (200, 201), r.text


def disk_notebook(server: Server, path: str) -> dict[str, Any]:
    """The notebook as the Contents API reads it from disk."""
    r = server.get(f"/api/contents/{path}")
    assert r.status_code == 200, r.text
    return r.json()["content"]


def default_dir(server: Server) -> Path:
    """The default project's folder."""
    return server.data_dir / "projects" / "default"


def sources(cells: list[dict[str, Any]]) -> list[str]:
    """The source of each cell."""
    return [str(c.get("source", "")) for c in cells]


@pytest.fixture(scope="module")
def collab_server() -> Iterator[Server]:
    """A single-user server with collaboration on (python kernels only), shared by a test module."""
    srv = Server(*ARGS)
    yield srv
    srv.stop()


def room_status(server: Server, path: str, project: str | None = None) -> dict[str, Any]:
    """The ``room`` part of /api/collab/status?path=."""
    prefix = f"/p/{project}" if project else ""
    r = server.get(f"{prefix}/api/collab/status", params={"path": path})
    assert r.status_code == 200, r.text
    return r.json()["room"]


def settled(server: Server, path: str, project: str | None = None) -> dict[str, Any]:
    """Wait until the room has been checked twice more with nothing left to save; return its status."""
    start = room_status(server, path, project)["ticks"]
    return wait_for(lambda: (st := room_status(server, path, project))["ticks"] >= start + 3 and not st["dirty"]
                    and st, 30, f"room {path} settled")


@pytest.fixture
def clients() -> Iterator[list[YClient]]:
    """Clients made by a test, disconnected at teardown."""
    made: list[YClient] = []
    yield made
    for c in made:
        c.disconnect()


def write_json(path: Path, data: Any) -> None:
    """Write JSON to a file (as another program would)."""
    path.write_text(json.dumps(data, indent=1))
