"""Shared test fixtures: a REAL ``salvus-local`` server in a subprocess, and clients for it.

Fixtures and helpers (import helpers with ``from tests.conftest import ...`` or use the fixtures):

``server`` (session scope)
    One ``python -m salvus_local --port 0 --no-browser --data-dir TMP --token TOKEN`` for the whole
    run (Sage and Python kernels when Sage is installed).  Treat it as shared: clean up what you
    create (kernels, sessions).  A :class:`Server` with:

    - ``base_url`` (``http://127.0.0.1:PORT``), ``port``, ``token``, ``data_dir`` (Path), ``proc``;
    - ``url(path, **query)``; ``request(method, path, auth=True, **kw)`` → ``requests.Response``
      (``auth=True`` sends ``Authorization: token …``), and ``get/post/put/patch/delete``;
    - ``browser()`` → a ``requests.Session`` logged in by cookie, sending ``X-XSRFToken`` like a browser;
    - ``ws(path, auth=True, **kw)`` → a connected ``websocket.WebSocket`` (websocket-client);
    - ``start_kernel(name="python3", path=None)`` → kernel id; ``kernel_client(kernel_id)`` → :class:`KernelClient`;
    - ``log()`` → what the server wrote on stderr so far.

``start_server`` (function scope)
    Factory for a private server: ``start_server("--allow-host", "x.lan", env={...}, token=..., port=...,
    data_dir=...)``.  Each one is stopped at teardown.

Teardown of every server sends SIGTERM, waits, and fails the test if any process it started
(forkers, web worker, kernels) is still alive: no orphans.

:class:`KernelClient` speaks the Jupyter websocket protocol: ``send(channel, msg_type, content)`` → msg_id,
``execute(code)`` → :class:`Execution` (``.reply``, ``.outputs``, ``.text``, ``.result``, ``.iopub``),
``recv(timeout)`` → next message, ``wait_for(pred)``.

``free_port()`` returns a free TCP port on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
import websocket

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300.0  # the first Sage preload after install compiles a lot
DEFAULT_TIMEOUT = 120.0  # one HTTP answer or websocket frame; a loaded 2-core CI machine can take a while


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll predicate until truthy and return its value (tests wait on conditions, never fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def reachable_by_sessions(path: Path) -> None:
    """As root, sessions run as another uid, which must be able to enter a test's data dir.

    pytest and mkdtemp make private (0700) folders; add only the search bit (o+x) on the way,
    as a real data dir has.  The server itself refuses to start when a folder blocks the way.
    """
    if os.geteuid() != 0:
        return
    path.mkdir(parents=True, exist_ok=True)
    for folder in [path, *path.parents]:
        mode = os.stat(folder).st_mode
        if not mode & 0o001:
            os.chmod(folder, mode | 0o001)


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now, outside the kernel's ephemeral range.

    Tests bind the port later (and bind it again after a restart).  A port from the ephemeral range could
    meanwhile become the local end of some outgoing connection or a ``--port 0`` server of a parallel run;
    ports below that range are handed out by nobody but this function (picked at random between runs).
    """
    low, _high = _ephemeral_range()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a crowded range: fall back to any free port
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpVerbs:
    """``get``/``post``/``put``/``patch``/``delete`` over the class's own ``request(method, path, **kw)``."""

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        raise NotImplementedError

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)


class Server(HttpVerbs):
    """A running ``salvus-local`` subprocess and helpers to talk to it."""

    def __init__(self, *args: str, token: str | None = None, port: int = 0, data_dir: str | Path | None = None,
                 env: dict[str, str] | None = None, run_as: int | None = None) -> None:
        self.token = token or uuid.uuid4().hex
        self.run_as = run_as  # as root: run the server as this ordinary uid/gid (setpriv), as a teacher would
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="salvus-test-"))
        reachable_by_sessions(self.data_dir)
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.server.log"
        argv = [sys.executable, "-m", "salvus_local", "--port", str(port), "--no-browser",
                "--data-dir", str(self.data_dir), "--token", self.token, *args]
        env = dict(env or {})
        if run_as is not None:
            os.chown(self.data_dir, run_as, run_as)
            argv = ["setpriv", f"--reuid={run_as}", f"--regid={run_as}", "--clear-groups", "--", *argv]
            env.setdefault("HOME", str(self.data_dir))
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=self._log,
                                     env={**os.environ, **(env or {})})
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.url_line = self._wait_url()
        self.port = int(self.url_line.split(":")[2].split("/")[0])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._wait_answering()

    def _pump(self) -> None:
        """Keep reading stdout so the server never blocks on a full pipe."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.decode(errors="replace").strip())

    def _wait_url(self) -> str:
        """Wait for the ``http://127.0.0.1:PORT/?token=…`` line."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"salvus-local exited with {self.proc.returncode}:\n{self.log()}") from None
                continue
            if line.startswith("http://127.0.0.1:"):
                return line
        raise RuntimeError(f"salvus-local printed no URL within {START_TIMEOUT}s:\n{self.log()}")

    def _wait_answering(self) -> None:
        """The URL line comes once the port listens; the web worker still loads the app then (under load that
        took over a minute, and tests' first requests timed out): wait for its first answer, however it answers."""
        try:
            requests.get(self.url("/api"), timeout=START_TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            raise RuntimeError(f"salvus-local printed its URL but did not answer: {exc}\n{self.log()}") from None

    def log(self) -> str:
        """Return what the server wrote on stderr so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    # -- HTTP ----------------------------------------------------------------------------
    def url(self, path: str, **query: str) -> str:
        """Return an absolute URL for a path."""
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return self.base_url + path + ("?" + qs if qs else "")

    def request(self, method: str, path: str, auth: bool = True, **kw: Any) -> requests.Response:
        """Make an HTTP request; ``auth`` adds the token header."""
        headers = dict(kw.pop("headers", None) or {})
        if auth:
            headers.setdefault("Authorization", f"token {self.token}")
        kw.setdefault("timeout", DEFAULT_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        return requests.request(method, self.url(path), headers=headers, **kw)

    def browser(self) -> requests.Session:
        """Return a session logged in by cookie (like a browser after opening the URL) that sends X-XSRFToken."""
        s = requests.Session()
        r = s.get(self.url("/", token=self.token), allow_redirects=False, timeout=DEFAULT_TIMEOUT)
        assert r.status_code == 302, r.text
        s.get(self.url("/login"), allow_redirects=False, timeout=DEFAULT_TIMEOUT)  # sets _xsrf
        s.headers["X-XSRFToken"] = s.cookies.get("_xsrf", "")
        return s

    # -- websockets and kernels ------------------------------------------------------------
    def ws(self, path: str, auth: bool = True, **kw: Any) -> websocket.WebSocket:
        """Open a websocket (raises websocket.WebSocketBadStatusException when refused)."""
        header = list(kw.pop("header", []))
        if auth:
            header.append(f"Authorization: token {self.token}")
        kw.setdefault("timeout", DEFAULT_TIMEOUT)
        return websocket.create_connection(self.base_url.replace("http", "ws", 1) + path, header=header, **kw)

    def start_kernel(self, name: str | None = "python3", path: str | None = None) -> str:
        """Start a kernel by REST and return its id."""
        body = {k: v for k, v in {"name": name, "path": path}.items() if v is not None}
        r = self.post("/api/kernels", json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def kernel_client(self, kernel_id: str) -> KernelClient:
        """Open the kernel's channels websocket."""
        return KernelClient(self.ws(f"/api/kernels/{kernel_id}/channels"))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server with sig and assert that no process it started survives."""
        try:
            family = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=60)
        finally:
            self._log.close()
        _gone, alive = psutil.wait_procs(family, timeout=15)
        for p in alive:
            p.kill()
        assert not alive, f"processes left behind by salvus-local: {[(p.pid, p.name()) for p in alive]}"
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.log_path.unlink(missing_ok=True)


@dataclass
class Execution:
    """What one execute_request produced."""

    reply: dict[str, Any]
    iopub: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outputs(self) -> list[dict[str, Any]]:
        """The output messages (stream, display_data, execute_result, error) in order."""
        kinds = {"stream", "display_data", "execute_result", "error", "update_display_data"}
        return [m for m in self.iopub if m["msg_type"] in kinds]

    @property
    def text(self) -> str:
        """Everything streamed to stdout and stderr."""
        return "".join(m["content"]["text"] for m in self.outputs if m["msg_type"] == "stream")

    @property
    def result(self) -> str | None:
        """The execute_result's text/plain, if any."""
        for m in self.outputs:
            if m["msg_type"] == "execute_result":
                return m["content"]["data"].get("text/plain")
        return None


class KernelClient:
    """A Jupyter websocket client of one kernel."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws = ws
        self.session = uuid.uuid4().hex
        self.backlog: list[dict[str, Any]] = []

    def message(self, channel: str, msg_type: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
        """Build a message."""
        header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": self.session,
                  "username": "test", "date": "2024-01-01T00:00:00Z", "version": "5.3"}
        return {"channel": channel, "header": header, "parent_header": {}, "metadata": {},
                "content": content or {}, "buffers": []}

    def send(self, channel: str, msg_type: str, content: dict[str, Any] | None = None) -> str:
        """Send a message; return its msg_id."""
        msg = self.message(channel, msg_type, content)
        self.ws.send(json.dumps(msg))
        return msg["header"]["msg_id"]

    def recv(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Return the next message (from the backlog first)."""
        if self.backlog:
            return self.backlog.pop(0)
        self.ws.settimeout(timeout)
        data = self.ws.recv()
        if not data:  # websocket-client returns "" for the server's close frame
            raise websocket.WebSocketConnectionClosedException("the server closed the websocket")
        if isinstance(data, bytes):
            from salvus_local.server.kernels.wire import decode

            return decode(data)
        return json.loads(data)

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float = DEFAULT_TIMEOUT,
                 keep: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Read until pred(msg); return it and the messages before it (kept in the backlog when keep)."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while True:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            msg = self.recv(max(0.1, deadline - time.monotonic()))
            if pred(msg):
                if keep:
                    self.backlog = seen + self.backlog
                return msg, seen
            seen.append(msg)

    def execute(self, code: str, timeout: float = DEFAULT_TIMEOUT) -> Execution:
        """Run code; return the reply and this request's iopub messages up to status idle."""
        msg_id = self.send("shell", "execute_request", {"code": code, "silent": False, "store_history": True,
                                                        "user_expressions": {}, "allow_stdin": False})
        reply: dict[str, Any] | None = None
        iopub: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        idle = False
        while reply is None or not idle:
            msg = self.recv(max(0.1, deadline - time.monotonic()))
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["channel"] == "shell":
                reply = msg
            elif msg["channel"] == "iopub":
                iopub.append(msg)
                idle = idle or (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle")
        return Execution(reply, iopub)

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One real salvus-local server for the whole test session."""
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """Factory for private servers, each stopped (and checked for orphans) at teardown."""
    started: list[Server] = []

    def start(*args: str, **kw: Any) -> Server:
        srv = Server(*args, **kw)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        if srv.proc.returncode is None:
            srv.stop()




@pytest.fixture(autouse=True)
def _tmp_path_reachable(request: pytest.FixtureRequest) -> None:
    """Tests that hand tmp_path to a server as its data dir need it reachable by sessions too."""
    if "tmp_path" in request.fixturenames:
        reachable_by_sessions(request.getfixturevalue("tmp_path"))


@contextlib.contextmanager
def small_tmpfs(path: Path, size_mb: int) -> Iterator[Path]:
    """Mount a real tmpfs of size_mb MB at path (an empty folder) for a full-disk test; the test is skipped
    where mount is not allowed (not root, no CAP_SYS_ADMIN). Unmounted (lazily) afterwards."""
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0711", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a small file system here: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
