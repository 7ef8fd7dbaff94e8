"""Fixtures: a real server process (tests/projects/serve_app.py) and an HTTP client for it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TOKEN = "test-token-projects"


class Client(requests.Session):
    """requests.Session bound to a base URL, sending the token."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")
        self.headers["Authorization"] = f"token {TOKEN}"

    def request(self, method: str, url: str, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", 60)
        return super().request(method, self.base + url, *args, **kwargs)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A fresh data dir per test, reachable by the kernels' uid when tests run as root."""
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="salvus-projects-test-"))
    d.chmod(0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(data_dir: Path) -> Iterator[str]:
    """Start the server in its own process; yield its base URL; stop it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(HERE / "serve_app.py"), str(data_dir), TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("http"):
        proc.kill()
        raise RuntimeError(f"server did not start: {line}{proc.stderr.read() if proc.stderr else ''}")
    yield line.strip()
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def client(server: str) -> Client:
    """An authenticated HTTP client of the server."""
    return Client(server)


@pytest.fixture
def root(client: Client, data_dir: Path) -> Path:
    """The default project's folder."""
    return data_dir / "projects" / "default"
