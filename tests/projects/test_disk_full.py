"""A write the disk refuses (here: a file-size limit, EFBIG) answers a clear 507 and loses nothing."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from conftest import HERE, ROOT, TOKEN, Client


def test_write_refused_by_the_disk_keeps_old_content(data_dir: Path) -> None:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4 * 1024 * 1024, 4 * 1024 * 1024))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(HERE / "serve_app.py"), str(data_dir), TOKEN], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT, preexec_fn=limit)
    try:
        client = Client(proc.stdout.readline().strip())
        root = data_dir / "projects" / "default"
        ok = client.put("/api/contents/data.txt", json={"type": "file", "format": "text", "content": "precious"})
        assert ok.status_code == 201
        r = client.put("/api/contents/data.txt", json={"type": "file", "format": "text", "content": "x" * (5 * 1024 * 1024)})
        assert r.status_code == 507 and "larger than allowed" in r.json()["message"]
        assert str(data_dir) not in r.text
        assert (root / "data.txt").read_text() == "precious"
        assert not [p.name for p in root.iterdir() if p.name.startswith(".~salvus")]
    finally:
        proc.terminate()
        proc.wait(10)
