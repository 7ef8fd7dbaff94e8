"""``salvus-local desktop`` under a private Xvfb: a real window showing the client, no orphans."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO

BRAND = (29, 59, 99)  # the client's top bar colour (#1d3b63)
WAIT = 240.0


def screenshot(display: str) -> object:
    """A PIL image of the whole X screen."""
    from PIL import Image

    png = subprocess.run(["import", "-display", display, "-window", "root", "png:-"],
                         capture_output=True, timeout=60, check=True).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def shows_client(img: object) -> bool:
    """Tell whether the screen is not blank and shows the client's top bar."""
    small = img.resize((img.width // 4, img.height // 4))
    colors = small.getcolors(maxcolors=1 << 16) or []
    brand = sum(n for n, c in colors if all(abs(a - b) <= 6 for a, b in zip(c, BRAND)))
    return len(colors) > 40 and brand > 200


@pytest.fixture
def xvfb() -> str:
    """A private X server; yields its DISPLAY."""
    for tool in ("Xvfb", "import"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (make system-deps)")
    pytest.importorskip("webview")
    pytest.importorskip("PyQt6.QtWebEngineWidgets")
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        display = ":" + f.readline().strip()
    yield display
    proc.terminate()
    proc.wait(timeout=30)


def test_desktop_window_shows_client_and_leaves_no_orphans(xvfb: str) -> None:
    data_dir = tempfile.mkdtemp(prefix="salvus-desktop-")
    env = {**os.environ, "DISPLAY": xvfb, "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu"}
    log = open(Path(data_dir).parent / f"{Path(data_dir).name}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "salvus_local", "desktop", "--data-dir", data_dir],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WAIT
        shot = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, Path(log.name).read_text(errors="replace")
            shot = screenshot(xvfb)
            if shows_client(shot):
                break
            time.sleep(1)  # polling the screen: nothing to wait on but the pixels
        shot.save(Path(data_dir).parent / "salvus-desktop.png")
        assert shows_client(shot), "the window never showed the client; see salvus-desktop.png"
        family = psutil.Process(proc.pid).children(recursive=True)
        assert any("salvus_local" in " ".join(p.cmdline()) for p in family)  # the server is a subprocess
    finally:
        family = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    _gone, alive = psutil.wait_procs(family, timeout=30)
    for p in alive:
        p.kill()
    assert not alive, f"left behind: {[(p.pid, p.name()) for p in alive]}"
    shutil.rmtree(data_dir, ignore_errors=True)
