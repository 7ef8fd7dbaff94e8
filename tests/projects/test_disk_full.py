"""A write the disk refuses (here: a file-size limit, EFBIG) answers a clear 507 and loses nothing."""

from __future__ import annotations

import os
import resource
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import small_tmpfs
from tests.projects.conftest import SERVER_ARGS, Client

LIMIT = 4 * 1024 * 1024


@contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Lower this process's soft RLIMIT_FSIZE, so a server started meanwhile inherits it; restore it after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_write_refused_by_the_disk_keeps_old_content(start_server) -> None:
    with file_size_limit(LIMIT):
        server = start_server(*SERVER_ARGS)
    client = Client(server)
    root = server.data_dir / "projects" / "default"
    ok = client.put("/api/contents/data.txt", json={"type": "file", "format": "text", "content": "precious"})
    assert ok.status_code == 201
    r = client.put("/api/contents/data.txt", json={"type": "file", "format": "text", "content": "x" * (5 * 1024 * 1024)})
    assert r.status_code == 507 and "larger than allowed" in r.json()["message"]
    assert str(server.data_dir) not in r.text
    assert (root / "data.txt").read_text() == "precious"
    assert not [p.name for p in root.iterdir() if p.name.startswith(".~salvus")]


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 16 MB tmpfs (a real, small file system); skipped where mount is not allowed."""
    with small_tmpfs(Path(tempfile.mkdtemp(prefix="salvus-small-")), 16) as path:
        yield path


def test_a_snapshot_on_a_full_disk_says_so(start_server, small_disk: Path) -> None:
    # It was a 500 carrying git's message and the data dir's path.
    server = start_server("--kernels", "python", "--kernel", "python", "--snapshot-interval", "120",
                          data_dir=small_disk / "data")
    client = Client(server)
    for n in range(3):
        r = client.put(f"/api/contents/f{n}.txt", json={"type": "file", "format": "text", "content": f"v{n}"})
        assert r.status_code == 201, r.text
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    with open(server.data_dir / "projects" / "default" / "f0.txt", "r+b") as f:
        f.write(b"w0")  # a change to snapshot, written in place (no new block needed)
    r = client.post("/api/projects/default/snapshots", json={"message": "full"})
    assert r.status_code == 507 and "disk is full" in r.json()["message"], r.text
    assert str(small_disk) not in r.text
    filler.unlink()
    r = client.post("/api/projects/default/snapshots", json={"message": "room again"})
    assert r.status_code == 200, r.text
    newest = client.get("/api/projects/default/versions", params={"path": "f0.txt"}).json()[0]["id"]
    r = client.get(f"/api/projects/default/versions/{newest}", params={"path": "f0.txt"})
    assert r.json()["content"] == "w0", r.text
