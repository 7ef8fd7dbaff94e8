"""kill -9 during saves and snapshots: old or new content, no temp files, git fsck clean."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from salvus_local.store.atomic import atomic_write, sweep_temp_files
from salvus_local.store.snapshots import REF, Snapshots

ROOT = Path(__file__).resolve().parents[2]

SAVER = """
import sys, itertools
from salvus_local.store.atomic import atomic_write
path = sys.argv[1]
print("ready", flush=True)
for i in itertools.count():
    atomic_write(path, (str(i % 10) * 200_000).encode())
"""

SNAPPER = """
import sys, itertools, os
from salvus_local.store.snapshots import Snapshots
s = Snapshots(sys.argv[1])
print("ready", flush=True)
for i in itertools.count():
    with open(os.path.join(sys.argv[1], f"f{i % 50}.txt"), "w") as f:
        f.write(str(i) * 1000)
    s.take(f"snap {i}")
"""


def _run_and_kill(script: str, arg: str, rng: random.Random) -> None:
    proc = subprocess.Popen([sys.executable, "-c", script, arg], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout and proc.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, 0.3))  # a random point in the loop, not a wait for a condition
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_kill_during_saves_never_truncates(tmp_path: Path) -> None:
    target = tmp_path / "notebook.ipynb"
    atomic_write(target, b"0" * 200_000)
    rng = random.Random(1234)
    for _ in range(15):
        _run_and_kill(SAVER, str(target), rng)
        data = target.read_bytes()
        assert len(data) == 200_000 and len(set(data)) == 1, "truncated or mixed content"
        sweep_temp_files(tmp_path)  # what the next save does first
        assert [p.name for p in tmp_path.iterdir()] == ["notebook.ipynb"]


def test_kill_during_snapshots_keeps_git_fsck_clean(tmp_path: Path) -> None:
    repo = tmp_path / "p"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    rng = random.Random(99)
    for _ in range(8):
        _run_and_kill(SNAPPER, str(repo), rng)
        fsck = subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo, capture_output=True, text=True)
        assert fsck.returncode == 0 and "error" not in fsck.stderr.lower(), fsck.stderr
    snap = Snapshots(repo).take("after the crashes")  # stale locks do not block the next snapshot
    assert Snapshots(repo).head() is not None
    assert snap.commit or Snapshots(repo).head()


def test_stale_locks_are_removed(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("a")
    s = Snapshots(tmp_path)
    s.take("first")
    (s.private_dir / "index.lock").write_text("")
    (s.git_dir / f"{REF}.lock").write_text("")
    (tmp_path / "a.txt").write_text("b")
    assert s.take("second").commit


def test_big_files_are_skipped(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "small.txt").write_text("s")
    (tmp_path / "big.bin").write_bytes(b"x" * 2048)
    snap = Snapshots(tmp_path, max_file_size=1024).take("first")
    assert snap.skipped == ["big.bin"] and snap.commit
    files = subprocess.run(["git", "ls-tree", "-r", "--name-only", REF], cwd=tmp_path, capture_output=True,
                           text=True).stdout.split()
    assert "small.txt" in files and "big.bin" not in files
