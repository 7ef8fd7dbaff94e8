"""Start and stop the two servers under test, and read their processes' memory."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import requests
from api import Server

BIN = Path(sys.executable).parent
URL_RE = re.compile(r"(http://127\.0\.0\.1:\d+)/\S*token=(\w+)")


def free_port() -> int:
    """Ask the OS for a free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll predicate until it is true, or raise after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def answers(url: str, token: str) -> bool:
    """True when GET {url}/api answers 200."""
    try:
        return requests.get(f"{url}/api", headers={"Authorization": f"token {token}"}, timeout=2).ok
    except requests.RequestException:
        return False


class Running:
    """A server process with its log file; stop() ends its whole process group."""

    def __init__(self, server: Server, proc: subprocess.Popen, log: Path):
        self.server, self.proc, self.log = server, proc, log

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL after 15 s."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


def start_jupyter(workdir: Path) -> Running:
    """Start jupyter_server on a free port with a fixed token and wait until it answers."""
    token, port = secrets.token_hex(16), free_port()
    root = workdir / "jupyter-root"
    root.mkdir(parents=True, exist_ok=True)
    log = workdir / "jupyter.log"
    cmd = [str(BIN / "jupyter"), "server", f"--port={port}", "--no-browser", "--ip=127.0.0.1",
           "--ServerApp.port_retries=0", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:  # jupyter refuses root without it (CI and containers run as root)
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    run = Running(Server("jupyter_server", url, token, proc.pid), proc, log)
    try:
        wait_until(lambda: proc.poll() is not None or answers(url, token), 120, "jupyter server")
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter server exited: see {log}")
    except BaseException:
        run.stop()
        raise
    return run


def start_salvus(workdir: Path) -> Running:
    """Start salvus-local on port 0, read the URL it prints, wait until it answers."""
    token = secrets.token_hex(16)
    data = workdir / "salvus-data"
    log = workdir / "salvus.log"
    cmd = [str(BIN / "salvus-local"), "--port", "0", "--no-browser", "--data-dir", str(data), "--token", token]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    found: list[str] = []

    def pump() -> None:
        # Copy the output to the log and pick out the first URL line.
        with log.open("w") as out:
            for line in proc.stdout:
                out.write(line)
                out.flush()
                match = URL_RE.search(line)
                if match and not found:
                    found.append(match.group(1))

    threading.Thread(target=pump, daemon=True).start()
    run = Running(Server("salvus_local", "", token, proc.pid), proc, log)
    try:
        wait_until(lambda: proc.poll() is not None or bool(found), 300, "salvus-local's URL line")
        if proc.poll() is not None:
            raise RuntimeError(f"salvus-local exited with {proc.returncode}: see {log}")
        run.server = Server("salvus_local", found[0], token, proc.pid)
        wait_until(lambda: answers(found[0], token), 60, "salvus-local /api")
    except BaseException:
        run.stop()
        raise
    return run


def descendants(pid: int) -> set[int]:
    """Return the pids of every descendant of pid."""
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def memory(pids: set[int]) -> tuple[int, int, int]:
    """Return the summed (USS, PSS, RSS) in bytes of the given processes."""
    uss = pss = rss = 0
    for pid in pids:
        try:
            info = psutil.Process(pid).memory_full_info()
        except psutil.NoSuchProcess:
            continue
        uss, pss, rss = uss + info.uss, pss + getattr(info, "pss", 0), rss + info.rss
    return uss, pss, rss
