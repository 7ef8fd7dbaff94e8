"""Issue 15.4: code of project A (kernel and terminal) cannot reach project B, the database, the secrets.

As root every project runs as its own uid (store/uids.py) and its folder is 0700; as an ordinary
uid (``setpriv``) each session runs in user + mount + PID namespaces (kernel/sandbox.py) that show its
project, a private /tmp and read-only system folders, and nothing of the data dir.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest

from tests.conftest import KernelClient, Server
from tests.projects.conftest import SERVER_ARGS, read_until

PROBE = """
import os
for path in {paths!r}:
    try:
        with open(path, 'rb') as f:
            f.read(1)
        print('READ', path)
    except OSError as exc:
        print('DENIED', path, type(exc).__name__)
"""


def targets(server: Server, b_file: Path) -> list[str]:
    """What project A must not read: B's file, the database, the cookie secret, the server's environment."""
    data = server.data_dir
    paths = [str(b_file), str(data / "salvus.db"), str(data / "secret"), f"/proc/{server.proc.pid}/environ"]
    paths += [str(p) for p in (data / "run").glob("*")]
    return paths


def make_project(server: Server, title: str) -> tuple[str, Path]:
    """Create a project with one file; return (id, folder)."""
    r = server.post("/api/projects", json={"title": title})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert server.put(f"/p/{pid}/api/contents/private.txt",
                      json={"type": "file", "format": "text", "content": f"secret of {title}"}).status_code == 201
    return pid, Path(server.get(f"/api/projects/{pid}").json()["path"])


def kernel_in(server: Server, pid: str) -> KernelClient:
    r = server.post(f"/p/{pid}/api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    return KernelClient(server.ws(f"/p/{pid}/api/kernels/{r.json()['id']}/channels"))


@pytest.fixture(params=["root", "user"])
def iso_server(request, start_server):
    if request.param == "root" and os.geteuid() != 0:
        pytest.skip("needs root")
    if request.param == "user" and os.geteuid() != 0:
        pytest.skip("the test starts the server as another uid with setpriv")
    extra = ("--session-namespaces", "always") if request.param == "user" else ()  # as multi-user mode does
    return start_server(*SERVER_ARGS, *extra, run_as=12345 if request.param == "user" else None)


def test_kernel_and_terminal_of_a_cannot_read_b_the_database_or_the_secrets(iso_server) -> None:
    server = iso_server
    a, folder_a = make_project(server, "A")
    b, folder_b = make_project(server, "B")
    paths = targets(server, folder_b / "private.txt")
    if not server.run_as and os.stat(server.data_dir / "salvus.db").st_mode & 0o004:
        # As root the database is kept from project uids by its mode: issue 7.2 makes data-dir files 0600.
        pytest.xfail("salvus.db is world-readable here: waiting for the data dir's 0600 modes (issue 7.2)")
    kc = kernel_in(server, a)
    out = kc.execute(PROBE.format(paths=paths)).text
    assert "secret of B" not in out and "READ" not in out, out
    assert out.count("DENIED") == len(paths), out
    # the kernel still reads and writes its own project
    assert kc.execute("print(open('private.txt').read())").text.strip() == "secret of A"
    kc.close()

    name = server.post(f"/p/{a}/api/terminals").json()["name"]
    ws = server.ws(f"/p/{a}/terminals/websocket/{name}", timeout=30)
    quoted = " ".join(f"'{p}'" for p in paths)
    ws.send(json.dumps(["stdin", f"for f in {quoted}; do head -c1 \"$f\" >/dev/null 2>&1 && echo \"READ=$f\" "
                                 f"|| echo \"DENIED=$f\"; done; echo DONE$((6*7))\r"]))
    out = read_until(ws, "DONE42")
    ws.close()
    assert not re.search(r"READ=/", out), out
    assert len(re.findall(r"DENIED=/", out)) == len(paths), out
    server.delete(f"/p/{a}/api/terminals/{name}")


@pytest.mark.skipif(os.geteuid() != 0, reason="a uid per project needs a root server")
def test_projects_get_their_own_uid_and_a_private_folder(start_server) -> None:
    server = start_server(*SERVER_ARGS, "--project-uid-min", "250000", "--project-uid-max", "250002")
    a, folder_a = make_project(server, "A")
    b, folder_b = make_project(server, "B")
    uids = {folder_a.stat().st_uid, folder_b.stat().st_uid}
    assert len(uids) == 2 and uids <= {250000, 250001, 250002}  # (the default project may hold the third)
    for folder in (folder_a, folder_b):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert (folder / "private.txt").stat().st_uid == folder.stat().st_uid
    kc = kernel_in(server, a)
    assert kc.execute("import os; print(os.getuid(), os.getgid())").text.split() == [str(folder_a.stat().st_uid)] * 2
    kc.close()
    # once the range is full, a new project is refused with a message saying what to change
    for title in ("C", "D"):
        r = server.post("/api/projects", json={"title": title})
        if r.status_code != 201:
            break
    assert r.status_code == 409 and "project_uid_max" in r.json()["message"]
    assert title not in [p["title"] for p in server.get("/api/projects").json()]  # nothing half-made
    # the uids are kept in the database and survive a restart
    rows = sqlite3.connect(server.data_dir / "salvus.db").execute("select project_id, uid from project_uids").fetchall()
    assert dict(rows)[a] == folder_a.stat().st_uid and dict(rows)[b] == folder_b.stat().st_uid


SHARED_WRITE = """
import os
for path in {paths!r}:
    with open(path, 'w') as f:
        f.write('answer of A')
    print('MODE', oct(os.stat(path).st_mode & 0o777))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="a uid per project needs a root server")
def test_files_a_leaves_in_shared_tmp_are_private_to_its_project(start_server) -> None:
    """A root server's sessions run with umask 077: B's kernel and terminal cannot read A's /tmp or /dev/shm files."""
    server = start_server(*SERVER_ARGS, "--multi-user")
    a, _ = make_project(server, "A")
    b, _ = make_project(server, "B")
    tag = uuid.uuid4().hex
    paths = [f"/tmp/x_{tag}", f"/dev/shm/y_{tag}"]
    try:
        kc = kernel_in(server, a)
        out = kc.execute(SHARED_WRITE.format(paths=paths)).text  # plain open(): the default modes
        kc.close()
        assert out.split() == ["MODE", "0o600"] * 2, out
        kb = kernel_in(server, b)
        out = kb.execute(PROBE.format(paths=paths)).text
        kb.close()
        assert "READ" not in out and out.count("DENIED") == 2, out
        name = server.post(f"/p/{b}/api/terminals").json()["name"]
        ws = server.ws(f"/p/{b}/terminals/websocket/{name}", timeout=30)
        quoted = " ".join(paths)
        ws.send(json.dumps(["stdin", f"umask; for f in {quoted}; do cat \"$f\" >/dev/null 2>&1 && echo \"READ=$f\" "
                                     f"|| echo \"DENIED=$f\"; done; echo DONE$((6*7))\r"]))
        out = read_until(ws, "DONE42")
        ws.close()
        server.delete(f"/p/{b}/api/terminals/{name}")
        assert not re.search(r"READ=/", out) and len(re.findall(r"DENIED=/", out)) == 2, out
        assert "0077" in out, out  # the terminal's shell has the same umask
    finally:
        for path in paths:
            if os.path.exists(path):
                os.unlink(path)
