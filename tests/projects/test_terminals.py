"""Terminals: Jupyter REST + terminado websocket with a real pty, echo and git status, resize, kill."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psutil
import websocket
from conftest import TOKEN


def connect(server: str, name: str, prefix: str = "") -> websocket.WebSocket:
    url = server.replace("http://", "ws://").rstrip("/") + f"{prefix}/terminals/websocket/{name}"
    return websocket.create_connection(url, header=[f"Authorization: token {TOKEN}"], timeout=30)


def read_until(ws: websocket.WebSocket, needle: str, timeout: float = 30.0) -> str:
    out = ""
    deadline = time.monotonic() + timeout
    while needle not in out:
        assert time.monotonic() < deadline, f"{needle!r} not seen in {out[-500:]!r}"
        msg = json.loads(ws.recv())
        if msg[0] == "stdout":
            out += msg[1]
    return out


def test_terminal_echo_git_status_resize_and_kill(client, server: str, root: Path) -> None:
    assert client.get("/api/terminals").json() == []
    r = client.post("/api/terminals")
    assert r.status_code == 200 and r.json()["name"] == "1" and "last_activity" in r.json()
    name = r.json()["name"]
    assert client.get(f"/api/terminals/{name}").json()["name"] == name
    ws = connect(server, name)
    assert json.loads(ws.recv()) == ["setup", {}]
    ws.send(json.dumps(["set_size", 40, 123]))
    ws.send(json.dumps(["stdin", "echo hello-$((6*7)); stty size; pwd\r"]))
    out = read_until(ws, "40 123")
    assert "hello-42" in out
    read_until(ws, str(root.resolve()))
    ws.send(json.dumps(["stdin", "git status\r"]))
    read_until(ws, "No commits yet")
    ws.send(json.dumps(["stdin", "sleep 1000 &\r"]))
    ws.send(json.dumps(["stdin", "echo bg=$!\r"]))
    read_until(ws, "bg=")
    second = client.post("/api/terminals").json()["name"]
    assert {t["name"] for t in client.get("/api/terminals").json()} == {name, second}
    procs_before = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "1000"]]
    assert procs_before
    assert client.delete(f"/api/terminals/{name}").status_code == 204
    assert json.loads(ws.recv())[0] in ("disconnect", "stdout")
    deadline = time.monotonic() + 20
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in procs_before):
        assert time.monotonic() < deadline, "the terminal's process group survived"
        time.sleep(0.05)
    assert client.get(f"/api/terminals/{name}").status_code == 404
    assert client.delete(f"/api/terminals/{name}").status_code == 404
    assert client.delete(f"/api/terminals/{second}").status_code == 204


def test_project_terminal_starts_in_project(client, server: str) -> None:
    p = client.post("/api/projects", json={"title": "T"}).json()
    name = client.post(f"/p/{p['id']}/api/terminals").json()["name"]
    ws = connect(server, name, f"/p/{p['id']}")
    ws.send(json.dumps(["stdin", "pwd\r"]))
    read_until(ws, p["path"])
    assert client.get(f"/api/terminals/{name}").status_code == 200
    assert client.post("/api/terminals", json={"cwd": "../"}).status_code == 400
    assert client.post("/api/terminals", json={"cwd": "nope"}).status_code == 400
    client.delete(f"/api/terminals/{name}")
