"""``--compute-tcp HOST:PORT``: the server's compute server also listens on TCP with a shared secret (finding 10).

The secret reaches the forker on its stdin, never on any argv: ``--compute-secret S`` is moved into the
environment before anything starts (like ``--token``), or it comes from SALVUS_LOCAL_COMPUTE_SECRET or
``--compute-secret-file``.  A remote web server then starts a session over TCP and runs code in it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from salvus_local.protocol import SignedConnection, Verb
from tests.conftest import REPO, free_port
from tests.kernel.conftest import KernelClient

PYTHON_ONLY = ("--kernels", "python", "--kernel", "python")


class RemoteForker:
    """The part of tests/kernel's Forker that KernelClient needs, over TCP with the shared secret."""

    def __init__(self, port: int, secret: str) -> None:
        self.port, self.secret = port, secret.encode()

    def connect(self) -> tuple[SignedConnection, dict[str, Any]]:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        return SignedConnection.connect(sock, self.secret)

    def request(self, verb: str, **content: Any) -> dict[str, Any]:
        conn, _ = self.connect()
        try:
            conn.send({"type": verb, "content": content})
            return conn.recv()
        finally:
            conn.close()


def cmdlines() -> str:
    """Every process's command line (what any local user can read)."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    return "\n".join(out)


def test_compute_tcp_starts_and_a_remote_session_round_trips(start_server, tmp_path: Path) -> None:
    port, secret = free_port(), "remote-secret-" + uuid.uuid4().hex
    server = start_server(*PYTHON_ONLY, "--compute-tcp", f"127.0.0.1:{port}", "--compute-secret", secret)
    assert secret not in cmdlines()  # not in the launcher's argv (re-exec), nor the forker's
    remote = RemoteForker(port, secret)
    info = remote.request(Verb.INFO)
    assert info["type"] == Verb.INFO_REPLY, info
    if os.geteuid() == 0:  # a remote client never gets a root session
        refused = remote.request(Verb.START, kernel_id=uuid.uuid4().hex, cwd=str(tmp_path))
        assert refused["type"] == Verb.ERROR and "unprivileged uid" in str(refused), refused
    conn, _ = remote.connect()
    kernel_id = uuid.uuid4().hex
    start = {"kernel_id": kernel_id, "cwd": str(tmp_path)}
    if os.geteuid() == 0:
        start.update(uid=65534, gid=65534)  # a remote web server names the unprivileged uid it wants
    conn.send({"type": Verb.START, "content": start})
    started = conn.recv()
    assert started["type"] == Verb.STARTED, started
    session = KernelClient(remote, conn, kernel_id, started["content"]["pid"])  # type: ignore[arg-type]
    try:
        assert session.result("6 * 7") == "42"
    finally:
        session.kill()
        conn.close()
    # the local web server keeps working beside it
    assert server.post("/api/v1/execute", json={"code": "1 + 1"}).json()["result"]["text/plain"] == "2"
    bad = socket.create_connection(("127.0.0.1", port), timeout=30)
    c, _ = SignedConnection.connect(bad, b"not-the-secret-at-all")
    c.send({"type": Verb.INFO, "content": {}})
    assert bad.recv(1) == b""  # a wrong secret gets nothing
    assert secret not in server.log()


def test_compute_secret_from_a_file(start_server, tmp_path: Path) -> None:
    port, secret = free_port(), "file-secret-" + uuid.uuid4().hex
    path = tmp_path / "secret"
    path.write_text(secret + "\n")
    start_server(*PYTHON_ONLY, "--compute-tcp", f"127.0.0.1:{port}", "--compute-secret-file", str(path))
    assert RemoteForker(port, secret).request(Verb.INFO)["type"] == Verb.INFO_REPLY


def test_compute_tcp_without_a_good_secret_is_one_line_exit_2(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "salvus_local", "--no-browser", "--port", "0", "--data-dir", str(tmp_path / "d"),
            *PYTHON_ONLY, "--compute-tcp", f"127.0.0.1:{free_port()}"]
    env = {k: v for k, v in os.environ.items() if k != "SALVUS_LOCAL_COMPUTE_SECRET"}
    for extra in ([], ["--compute-secret", "short"]):
        r = subprocess.run(base + extra, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        assert "shared secret of at least 16 characters" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = subprocess.run(base[:-2] + ["--compute-tcp", "nonsense", "--compute-secret", "x" * 20], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "HOST:PORT" in r.stderr, r.stderr
