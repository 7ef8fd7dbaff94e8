"""The desktop window: ``salvus-local desktop``.

The server runs as a SUBPROCESS (``salvus-local --no-browser --port 0``) with its own random
token: the compute server must never be forked from a GUI process, and a crash of either
side cannot take the other down.  The window is pywebview (Qt backend).  When the window
closes, or this process is killed, the server is stopped: nothing is left behind.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
from typing import IO

from salvus_local.config import Config
from salvus_local.ui.launcher import LaunchError

URL_LINE = re.compile(r"^http://127\.0\.0\.1:\d+/\?token=\S+$")
START_TIMEOUT = 300.0  # the first Sage preload after install compiles a lot
STOP_GRACE = 10.0
PR_SET_PDEATHSIG = 1


def server_command(config: Config, token: str) -> list[str]:
    """The command line of the server subprocess."""
    return [sys.executable, "-m", "salvus_local", "serve", "--no-browser", "--ip", "127.0.0.1", "--port", "0",
            "--data-dir", config.data_dir, "--token", token, "--kernel", config.kernel]


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the desktop process dies, however it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the window-close path below still stops the server


def start_server(config: Config) -> tuple[subprocess.Popen, str]:
    """Start the server subprocess and return it with the URL it printed."""
    token = secrets.token_urlsafe(32)
    proc = subprocess.Popen(server_command(config, token), stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=START_TIMEOUT)
            if line is None:
                raise LaunchError(f"the server exited with code {proc.wait()} before it was ready")
            if URL_LINE.match(line):
                return proc, line
    except queue.Empty:
        stop_server(proc)
        raise LaunchError(f"the server printed no URL within {START_TIMEOUT:.0f}s") from None
    except BaseException:
        stop_server(proc)
        raise


def _pump(stream: IO[bytes], lines: queue.Queue) -> None:
    """Forward the server's stdout lines (and keep its pipe from filling up)."""
    for raw in stream:
        line = raw.decode(errors="replace").strip()
        lines.put(line)
        if not URL_LINE.match(line):
            print(line, flush=True)  # never echo the token URL
    lines.put(None)


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the server (it stops its compute servers), SIGKILL after a grace period."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def prepare_environment() -> None:
    """QtWebEngine's Chromium cannot sandbox itself as root; say so before Qt starts."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --no-sandbox").strip()


def run(config: Config) -> None:
    """Open salvus-local in a desktop window; return when the window is closed."""
    try:
        import webview
    except ImportError:
        raise LaunchError('pywebview is not installed: pip install "pywebview[qt]"') from None
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise LaunchError("no display: run it in a desktop session (or under xvfb-run)")
    prepare_environment()
    proc, url = start_server(config)
    # Python signal handlers would wait for the Qt loop to hand control back (maybe never):
    # let SIGINT/SIGTERM end this process at once; the server then gets its SIGTERM
    # from PR_SET_PDEATHSIG.  Closing the window ends webview.start() and the finally runs.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    try:
        webview.create_window("Salvus Local", url, width=1200, height=820, min_size=(420, 360))
        webview.start(gui="qt", private_mode=False)
    finally:
        stop_server(proc)
