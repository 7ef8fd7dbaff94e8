"""Find the server a CLI command talks to, and make authenticated REST calls to it.

- ``--server URL``: that server; the token comes from ``SALVUS_LOCAL_TOKEN`` (never from argv,
  where other users could read it in the process list).
- otherwise the server running on the data dir, found in ``<data_dir>/run/server.json``
  (its URL and token, file mode 0600);
- otherwise a private server is started for this one command (``--port 0``, no browser) and
  stopped when the command ends; its token is read from the URL line it prints.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

START_TIMEOUT = 300.0  # seconds a private server may take to preload Sage on a slow machine
# A busy machine can keep a live server from answering for a while; a shorter wait would take it
# for gone and start a second server on the same data dir (the command then ran somewhere else).
STATUS_TIMEOUT = 120.0  # as long as any other call of the CLI


class ClientError(Exception):
    """A one-line problem the CLI reports with exit code 2 (no server, refused, bad answer)."""


class NoAnswer(ClientError):
    """The server accepted the request (or the connection) but did not answer in time."""


class Connection:
    """A base URL and token; ``call`` makes one JSON request."""

    def __init__(self, url: str, token: str, proc: subprocess.Popen | None = None) -> None:
        parts = urlsplit(url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.token = token
        self.proc = proc  # the private server we started, if any

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 120) -> Any:
        """Make a request; return its JSON (None for 204); raise ClientError with the server's message."""
        data = json.dumps(body).encode() if body is not None else None
        raw = self.raw(method, path, data, "application/json" if data is not None else None, timeout)
        return json.loads(raw) if raw else None

    def raw(self, method: str, path: str, data: bytes | None = None, content_type: str | None = None,
            timeout: float = 120) -> bytes:
        """Make a request with any body (CSV, JSON bytes); return the answer's bytes; ClientError on failure."""
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read() or b"{}").get("message") or exc.reason
            except ValueError:
                message = exc.reason
            raise ClientError(f"{method} {path}: {exc.code} {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            kind = NoAnswer if isinstance(reason, TimeoutError) else ClientError
            raise kind(f"cannot reach the server at {self.base}: {reason}") from None

    def ws_url(self, path: str) -> str:
        """Return the websocket URL of a path on this server."""
        return self.base.replace("http", "ws", 1) + path

    def close(self) -> None:
        """Stop the private server, if we started one."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_server(data_dir: str) -> Connection | None:
    """Return a connection to the server recorded in ``<data_dir>/run/server.json`` when it still runs."""
    path = Path(data_dir) / "run" / "server.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not _alive(int(info.get("pid") or 0)):
        return None
    conn = Connection(str(info.get("url") or ""), str(info.get("token") or ""))
    try:
        conn.call("GET", "/api/status", timeout=STATUS_TIMEOUT)
    except NoAnswer:
        raise ClientError(f"the server of {data_dir} (pid {info.get('pid')}) did not answer within "
                          f"{STATUS_TIMEOUT:.0f} s: try again when the machine is less busy, or stop it") from None
    except ClientError:  # refused: a stale file (the pid is another process now)
        return None
    return conn


def start_private_server(data_dir: str, kernel: str | None = None) -> Connection:
    """Start ``salvus-local`` on a free port for this command; return a connection to it."""
    argv = [sys.executable, "-m", "salvus_local", "serve", "--port", "0", "--no-browser", "--data-dir", data_dir]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    lines: queue.Queue[str] = queue.Queue()
    errors: list[str] = []
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout, proc.stderr
    threading.Thread(target=lambda: [lines.put(raw.decode(errors="replace").strip()) for raw in out], daemon=True).start()
    err_reader = threading.Thread(target=lambda: [errors.append(raw.decode(errors="replace").strip()) for raw in err],
                                  daemon=True)
    err_reader.start()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:  # it failed (e.g. the data dir is in use): say why now, not at the deadline
                break
            continue
        if line.startswith("http://") and "token=" in line:
            token = line.split("token=", 1)[1].split("&")[0]
            return Connection(line, token, proc)
    proc.terminate()
    proc.wait()
    err_reader.join(10)  # its last words (the reason) may still be in the pipe
    last = next((e for e in reversed(errors) if e), "no output")
    raise ClientError(f"could not start a local server: {last}")


def connect(server: str | None, data_dir: str) -> Connection:
    """Return a connection: --server, else the running server of the data dir, else a private one."""
    if server:
        if not urlsplit(server).scheme.startswith("http"):
            raise ClientError(f"--server must be an http(s) URL such as http://127.0.0.1:8765, not {server!r}")
        if "token=" in server:
            raise ClientError("do not put the token on the command line (other users can read it there): "
                              "give --server without it and set SALVUS_LOCAL_TOKEN")
        token = os.environ.get("SALVUS_LOCAL_TOKEN", "")
        return Connection(server, token)
    return running_server(data_dir) or start_private_server(data_dir)
