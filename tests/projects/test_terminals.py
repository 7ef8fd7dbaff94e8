"""Terminals: Jupyter REST + terminado websocket with a real pty, echo and git status, resize, kill."""

from __future__ import annotations

import json
import time

import psutil
import websocket

from tests.conftest import Server
from tests.projects.conftest import SERVER_ARGS, Client, read_until


def connect(server: Server, name: str, prefix: str = "") -> websocket.WebSocket:
    return server.ws(f"{prefix}/terminals/websocket/{name}", timeout=30)


def sleepers(server: Server) -> list[psutil.Process]:
    """The server's descendants running ``sleep 1000``."""
    found = []
    for p in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            if p.cmdline() == ["sleep", "1000"]:
                found.append(p)
        except psutil.Error:  # exited (or a zombie) meanwhile
            pass
    return found


def test_terminal_echo_git_status_resize_and_kill(start_server) -> None:
    server = start_server(*SERVER_ARGS)  # a fresh server: no terminals yet, names start at "1"
    client = Client(server)
    root = server.data_dir / "projects" / "default"
    assert client.get("/api/terminals").json() == []
    r = client.post("/api/terminals")
    assert r.status_code == 200 and r.json()["name"] == "1" and "last_activity" in r.json()
    name = r.json()["name"]
    assert client.get(f"/api/terminals/{name}").json()["name"] == name
    ws = connect(server, name)
    assert json.loads(ws.recv()) == ["setup", {}]
    ws.send(json.dumps(["set_size", 40, 123]))
    ws.send(json.dumps(["stdin", "echo hello-$((6*7)); stty size; pwd\r"]))
    # The three answers may arrive in one chunk: read until the last one, then check them all.
    # (The prompt shows the folder too, maybe before the answers: wait for pwd's line after stty's.)
    out = ""
    while "40 123" not in out or str(root.resolve()) not in out.split("40 123", 1)[1]:
        out += read_until(ws, "\n")
    assert "hello-42" in out
    ws.send(json.dumps(["stdin", "git status\r"]))
    read_until(ws, "No commits yet")
    ws.send(json.dumps(["stdin", "sleep 1000 &\r"]))
    ws.send(json.dumps(["stdin", "echo bg=$!\r"]))
    read_until(ws, "bg=")
    second = client.post("/api/terminals").json()["name"]
    assert {t["name"] for t in client.get("/api/terminals").json()} == {name, second}
    procs_before = sleepers(server)
    assert procs_before
    assert client.delete(f"/api/terminals/{name}").status_code == 204
    assert json.loads(ws.recv())[0] in ("disconnect", "stdout")
    deadline = time.monotonic() + 60
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in procs_before):
        assert time.monotonic() < deadline, "the terminal's process group survived"
        time.sleep(0.05)
    assert client.get(f"/api/terminals/{name}").status_code == 404
    assert client.delete(f"/api/terminals/{name}").status_code == 404
    assert client.delete(f"/api/terminals/{second}").status_code == 204


def test_project_terminal_starts_in_project(server: Server, api: Client) -> None:
    p = api.post("/api/projects", json={"title": "T"}).json()
    name = api.post(f"/p/{p['id']}/api/terminals").json()["name"]
    ws = connect(server, name, f"/p/{p['id']}")
    ws.send(json.dumps(["stdin", "pwd\r"]))
    read_until(ws, p["path"])
    assert api.get(f"/api/terminals/{name}").status_code == 200
    assert api.get(f"/p/{p['id']}/api/terminals/{name}").status_code == 200
    assert api.get(f"/p/default/api/terminals/{name}").status_code == 404  # another project's terminal
    assert api.post("/api/terminals", json={"cwd": "../"}).status_code == 400
    assert api.post("/api/terminals", json={"cwd": "nope"}).status_code == 400
    api.delete(f"/api/terminals/{name}")


def test_each_terminal_has_its_own_tmpdir_home_and_user_name(start_server) -> None:
    import os
    import stat
    from pathlib import Path

    from tests.conftest import wait_for

    server = start_server(*SERVER_ARGS)
    client = Client(server)
    names = [client.post("/api/terminals").json()["name"] for _ in range(2)]
    seen = []
    for name in names:
        ws = connect(server, name)
        ws.send(json.dumps(["stdin", "echo \"T=$TMPDIR H=$HOME U=$USER L=$LOGNAME E=end\"; "
                                     "echo \"P=${PS1@P}=P\"; echo done-$((40+2))\r"]))
        out = read_until(ws, "done-42")
        line = next(x for x in out.splitlines() if x.startswith("T=") and "E=end" in x)
        fields = dict(part.split("=", 1) for part in line.split()[:4])
        tmp = Path(fields["T"])
        st = tmp.stat()
        assert stat.S_IMODE(st.st_mode) == 0o700 and tmp.is_dir()
        if os.geteuid() == 0:  # sessions run as another uid: HOME and names are the session's, not root's
            assert st.st_uid != 0 and fields["H"] == str(tmp)
            assert fields["U"] == fields["L"] and fields["U"] not in ("", "root")
            assert "I have no name!" not in out and f"P={fields['U']}@" in out
        seen.append(tmp)
        ws.close()
    assert seen[0] != seen[1]  # per terminal, like a kernel's
    for name in names:
        assert client.delete(f"/api/terminals/{name}").status_code == 204
    wait_for(lambda: not any(p.exists() for p in seen), what="the terminals' temp dirs to be removed")
