"""Fixtures that run the real forking compute server and talk to it over its socket.

``forker_factory(kind)`` starts ``python -m salvus_local.kernel`` (one per kind and module),
``KernelClient`` starts sessions in it and executes code the way the web server does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from salvus_local.protocol import SignedConnection, Verb, new_message
from tests.conftest import wait_for  # noqa: F401 - re-exported to the kernel tests

ROOT = Path(__file__).resolve().parents[2]


class Forker:
    """A running compute server process."""

    def __init__(self, kind: str, run_dir: Path, tcp: str = "", secret: str = "") -> None:
        self.kind = kind
        self.key = os.urandom(32)
        self.path = str(run_dir / f"{kind}.sock")
        args = [sys.executable, "-m", "salvus_local.kernel", "--kind", kind, "--socket", self.path]
        if tcp:
            args += ["--tcp", tcp]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        assert self.proc.stdin is not None
        self.proc.stdin.write((self.key.hex() + "\n" + (secret + "\n" if tcp else "")).encode())
        self.proc.stdin.close()
        line = self.proc.stderr.readline().decode()  # "... ready on PATH" once it listens
        assert "ready" in line, line + self.proc.stderr.read().decode()

    def connect(self) -> tuple[SignedConnection, dict[str, Any]]:
        """Open a connection and read the hello."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(60)
        sock.connect(self.path)
        return SignedConnection.connect(sock, self.key)

    def request(self, verb: str, **content: Any) -> dict[str, Any]:
        """Send one request and return the answer."""
        conn, _ = self.connect()
        conn.send({"type": verb, "content": content})
        try:
            return conn.recv()
        finally:
            conn.close()

    def start(self, kernel_id: str | None = None, **kw: Any) -> KernelClient:
        """Start a session and return a client for it."""
        kernel_id = kernel_id or os.urandom(6).hex()
        conn, _ = self.connect()
        conn.send({"type": Verb.START, "content": {"kernel_id": kernel_id, "cwd": kw.pop("cwd", "/tmp"), **kw}})
        started = conn.recv()
        assert started["type"] == Verb.STARTED, started
        return KernelClient(self, conn, kernel_id, started["content"]["pid"])

    def stop(self) -> None:
        """Terminate the compute server."""
        self.proc.terminate()
        self.proc.wait(60)  # it stops its sessions first: slow on a loaded machine
        self.stderr = self.proc.stderr.read().decode()


class KernelClient:
    """Drive one session with Jupyter messages."""

    def __init__(self, forker: Forker, conn: SignedConnection, kernel_id: str, pid: int) -> None:
        self.forker, self.conn, self.kernel_id, self.pid = forker, conn, kernel_id, pid
        self.backlog: list[dict[str, Any]] = []  # messages read while waiting for another request's

    def send(self, msg_type: str, content: dict[str, Any], channel: str = "shell") -> dict[str, Any]:
        """Send a request and return it."""
        msg = new_message(msg_type, content, channel, "test-session")
        self.conn.send({"type": Verb.MSG, **msg})
        return msg

    def recv(self) -> dict[str, Any]:
        """Return the next message from the session."""
        return self.conn.recv()

    def collect(self, msg: dict[str, Any], on_input: Any = None) -> tuple[dict, list[dict]]:
        """Read until the reply to msg and its idle status; return (reply, iopub messages)."""
        msg_id = msg["header"]["msg_id"]
        reply, iopub = None, []
        while True:
            mine = [m for m in self.backlog if m.get("parent_header", {}).get("msg_id") == msg_id]
            if mine:
                m = mine[0]
                self.backlog.remove(m)
            else:
                m = self.recv()
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                self.backlog.append(m)
                continue
            mt = m["header"]["msg_type"]
            if m["channel"] == "stdin" and on_input:
                self.send("input_reply", {"value": on_input(m["content"])}, channel="stdin")
            elif m["channel"] in ("shell", "control"):
                reply = m
            elif mt == "status" and m["content"]["execution_state"] == "idle":
                return reply, iopub
            elif mt != "status":
                iopub.append(m)

    def execute(self, code: str, **content: Any) -> tuple[dict, list[dict]]:
        """Execute code; return (execute_reply, iopub outputs)."""
        on_input = content.pop("on_input", None)
        msg = self.send("execute_request", {"code": code, "silent": False, "allow_stdin": on_input is not None,
                                            **content})
        return self.collect(msg, on_input)

    def result(self, code: str) -> str:
        """Execute code and return its text/plain result (or raise with the error)."""
        reply, iopub = self.execute(code)
        assert reply["content"]["status"] == "ok", reply["content"]
        return next(m["content"]["data"]["text/plain"] for m in iopub if m["header"]["msg_type"] == "execute_result")

    def interrupt(self) -> None:
        """Interrupt through the compute server (SIGINT to the session's process group)."""
        assert self.forker.request(Verb.SIGNAL, kernel_id=self.kernel_id, signum=2)["type"] == Verb.OK

    def wait_exit(self) -> dict[str, Any]:
        """Return the exit record once the session is gone."""
        return self.forker.request(Verb.WAIT, kernel_id=self.kernel_id)["content"]

    def kill(self) -> dict[str, Any]:
        """Stop the session and return its exit record."""
        self.forker.request(Verb.KILL, kernel_id=self.kernel_id, grace=1.0)
        return self.wait_exit()


def text_of(iopub: list[dict], name: str = "stdout") -> str:
    """Concatenate stream text of one stream."""
    return "".join(m["content"]["text"] for m in iopub
                   if m["header"]["msg_type"] == "stream" and m["content"]["name"] == name)


def of_type(iopub: list[dict], msg_type: str) -> list[dict]:
    """The messages of one type."""
    return [m for m in iopub if m["header"]["msg_type"] == msg_type]


@pytest.fixture(scope="module")
def forker_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Start compute servers on demand, one per kind, stopped after the module."""
    started: dict[str, Forker] = {}
    run_dir = tmp_path_factory.mktemp("run")

    def get(kind: str) -> Forker:
        if kind not in started:
            started[kind] = Forker(kind, run_dir)
        return started[kind]

    yield get
    for f in started.values():
        f.stop()


@pytest.fixture(scope="module")
def python_forker(forker_factory: Any) -> Forker:
    """A python compute server."""
    return forker_factory("python")


@pytest.fixture(scope="module")
def sage_forker(forker_factory: Any) -> Forker:
    """A Sage compute server."""
    return forker_factory("sage")


