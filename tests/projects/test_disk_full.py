"""A write the disk refuses (here: a file-size limit, EFBIG) answers a clear 507 and loses nothing."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager

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
