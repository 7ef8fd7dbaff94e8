"""Secrets a session could reach (issue 7, item 2): from a real kernel and a real terminal of a root server.

The token must appear in no process's argv and in no session's environment; the root processes'
environments, the database (and -wal/-shm), the cookie secret, the run folder and the state folder
must be unreadable by the sessions' uid; projects/ must still be passable.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import KernelClient

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs a root server whose sessions run as another uid")

PROBE = r'''
import json, os
token = {token!r}
data = {data!r}
out = {{"uid": os.getuid(), "cmdline_hits": [], "environ_readable": [], "env_has_token": False, "readable": []}}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if token in open(f"/proc/{{pid}}/cmdline", "rb").read().decode(errors="replace"):
            out["cmdline_hits"].append(pid)
    except OSError:
        pass
    if int(pid) in {server_pids!r}:
        try:
            environ = open(f"/proc/{{pid}}/environ", "rb").read()
            uids = open(f"/proc/{{pid}}/status").read().split("Uid:")[1].split()[:2]
            if "0" in uids:  # still root's (a spare child that became a session since is the session's)
                out["environ_readable"].append(pid)
        except OSError:
            pass
out["env_has_token"] = any(token in v for v in os.environ.values())
for rel in ("salvus.db", "salvus.db-wal", "salvus.db-shm", "secret", "run/server.json", "run"):
    p = os.path.join(data, rel)
    try:
        os.listdir(p) if os.path.isdir(p) else open(p, "rb").read(1)
        out["readable"].append(rel)
    except OSError:
        pass
for rel in ("", "state", "run"):
    try:
        os.listdir(os.path.join(data, rel))
        out["readable"].append("list:" + rel)
    except OSError:
        pass
print("PROBE" + json.dumps(out) + "END")
'''


def _server_pids(server) -> list[int]:
    """The launcher, the web worker and the forkers (root's; sessions and terminals are not theirs)."""
    root = psutil.Process(server.proc.pid)
    return [root.pid] + [p.pid for p in root.children(recursive=True)
                         if p.uids().real == 0 and "salvus_local" in " ".join(p.cmdline())]


def _check(result: dict, server) -> None:
    assert result["uid"] != 0
    assert result["cmdline_hits"] == [], "the token is visible in a process's argv"
    assert result["environ_readable"] == [], "a root process's environment is readable"
    assert not result["env_has_token"], "the session inherited the token"
    assert result["readable"] == [], f"readable by a session: {result['readable']}"


def test_a_kernel_cannot_read_the_servers_secrets(start_server, tmp_path: Path) -> None:
    server = start_server("--kernels", "python", "--kernel", "python", env={"SALVUS_LOCAL_TOKEN": "unused"})
    # The token was given as --token (tests/conftest.py): it must have left argv at once.
    assert server.token not in " ".join(psutil.Process(server.proc.pid).cmdline())
    data = str(server.data_dir)
    kid = server.start_kernel("python3")
    kc = server.kernel_client(kid)
    try:
        code = PROBE.format(token=server.token, data=data, server_pids=_server_pids(server))
        ex = kc.execute(code)
        assert ex.reply["content"]["status"] == "ok", ex.reply
        text = ex.text
        result = json.loads(text[text.index("PROBE") + 5:text.index("END")])
    finally:
        kc.close()
        server.delete(f"/api/kernels/{kid}")
    _check(result, server)
    # Modes on disk: 0600 files, 0700 private folders, passable (not listable) data dir and projects/.
    for rel in ("salvus.db", "secret"):
        assert stat.S_IMODE(os.stat(server.data_dir / rel).st_mode) == 0o600, rel
    for rel, mode in (("run", 0o700), ("", 0o711), ("projects", 0o711)):
        assert stat.S_IMODE(os.stat(server.data_dir / rel).st_mode) == mode, rel


def test_a_terminal_cannot_read_the_servers_secrets(start_server) -> None:
    server = start_server("--kernels", "python", "--kernel", "python")
    r = server.post("/api/terminals")
    assert r.status_code == 200, r.text
    name = r.json()["name"]
    ws = server.ws(f"/terminals/websocket/{name}", timeout=30)
    try:
        probe = PROBE.format(token=server.token, data=str(server.data_dir), server_pids=_server_pids(server))
        script = server.data_dir / "projects" / "default" / "probe.py"
        script.write_text(probe)
        os.chmod(script, 0o644)
        ws.send(json.dumps(["stdin", f"{sys.executable} probe.py; echo DONE$((1+1))\r"]))
        out = ""
        deadline = time.monotonic() + 60
        while "DONE2" not in out and time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg[0] == "stdout":
                out += msg[1]
        assert "PROBE{" in out, out[-2000:]
        result = json.loads(out[out.index("PROBE{") + 5:out.index("END", out.index("PROBE{"))].replace("\r\n", ""))
    finally:
        ws.close()
        server.delete(f"/api/terminals/{name}")
    _check(result, server)


def test_modes_are_repaired_at_start(start_server, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server("--kernels", "python", "--kernel", "python", data_dir=data)
    assert server.get("/api/contents").status_code == 200  # creates the database
    server.stop()
    for rel in ("salvus.db", "secret"):
        os.chmod(data / rel, 0o644)
    os.chmod(data / "run", 0o755)
    os.chmod(data, 0o755)
    server = start_server("--kernels", "python", "--kernel", "python", data_dir=data)
    for rel in ("salvus.db", "secret"):
        assert stat.S_IMODE(os.stat(data / rel).st_mode) == 0o600, rel
    assert stat.S_IMODE(os.stat(data / "run").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o711


def test_token_file_and_environment(start_server, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    server = start_server("--token-file", str(token_file), "--kernels", "python", "--kernel", "python",
                          token="ignored-by-token-file")
    assert "token=from-a-file" in server.url_line
    assert server.get("/api/status", headers={"Authorization": "token from-a-file"}).status_code == 200


def test_unreadable_token_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess

    r = subprocess.run([sys.executable, "-m", "salvus_local", "--token-file", str(tmp_path / "missing"),
                        "--no-browser", "--port", "0", "--data-dir", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "token file" in r.stderr and "Traceback" not in r.stderr
