"""Issue 15.4: a per-project disk quota; writes over it get 507 with a message and leave nothing half-written."""

from __future__ import annotations

import base64
import os

from tests.projects.conftest import SERVER_ARGS


def put(server, pid: str, path: str, size: int, byte: bytes = b"x"):
    body = {"type": "file", "format": "base64", "content": base64.b64encode(byte * size).decode()}
    return server.put(f"/p/{pid}/api/contents/{path}", json=body)


def test_writes_over_the_project_quota_are_refused_whole(start_server) -> None:
    server = start_server(*SERVER_ARGS, "--project-quota-mb", "1")
    pid = server.post("/api/projects", json={"title": "Q"}).json()["id"]
    folder = server.get(f"/api/projects/{pid}").json()["path"]
    assert put(server, pid, "a.bin", 600_000).status_code == 201
    r = put(server, pid, "b.bin", 600_000)
    assert r.status_code == 507, r.text
    assert "quota" in r.json()["message"] and "1 MB" in r.json()["message"]
    assert server.get(f"/p/{pid}/api/contents/b.bin").status_code == 404  # nothing written
    # an over-quota overwrite keeps the old version whole
    r = put(server, pid, "a.bin", 1_200_000, b"y")
    assert r.status_code == 507
    old = server.get(f"/p/{pid}/api/contents/a.bin", params={"format": "base64"}).json()["content"]
    assert base64.b64decode(old) == b"x" * 600_000
    assert [n for n in os.listdir(folder) if n not in (".git", ".salvus", "a.bin")] == []  # no temp files left
    # shrinking a file, and another project, still work
    assert put(server, pid, "a.bin", 100_000).status_code == 200
    assert put(server, pid, "b.bin", 600_000).status_code == 201
    other = server.post("/api/projects", json={"title": "R"}).json()["id"]
    assert put(server, other, "c.bin", 600_000).status_code == 201
