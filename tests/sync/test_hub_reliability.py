"""Against a real hub over HTTP: kill -9 of the client mid-push/pull, the hub killed mid-transfer, a full disk.

Afterwards both sides pass `git fsck`, the hub's branch is at its old value or at a commit the laptop
sent whole, the next sync completes with every file right on the laptops AND in the hub's work tree.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from salvus_sync.git import Git
from tests.accounts.conftest import PYTHON_ONLY, make_user
from tests.conftest import Server, free_port, small_tmpfs, wait_for

from .conftest import Laptop, fsck, give_to_sessions, sync_token
from .test_reliability import TRIALS, _git_alive, start_sync

HUB_TRIALS = max(1, TRIALS // 3)


def hub_files(root: Path) -> dict[str, str]:
    """The hub work tree's files (outside .git and .salvus) and their text."""
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*")
            if p.is_file() and not {".git", ".salvus"} & set(p.relative_to(root).parts)}


def two_laptops(hub: Server, workdir: Path, env: dict[str, str]) -> tuple[Laptop, Laptop, Path, str]:
    """alice's home project cloned on two laptops; (a, b, the hub's folder of it, token)."""
    alice = make_user(hub, prefix="alice")
    token = sync_token(alice)
    env = {**env, "SALVUS_SYNC_TOKEN": token}
    url = hub.url(f"/git/{alice.name}/{alice.home()}.git")
    a = Laptop(workdir, "laptop-a", env).clone(url)
    a.write("notes.txt", "start\n")
    a.sync()
    b = Laptop(workdir, "laptop-b", env).clone(url)
    return a, b, Path(hub.data_dir) / "projects" / alice.home(), token


def kill_tree(server: Server) -> None:
    """kill -9 the hub and every process it started, all at once (a crash or power cut)."""
    procs = [psutil.Process(server.proc.pid)] + psutil.Process(server.proc.pid).children(recursive=True)
    for p in procs:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=30)
    server.proc.wait()


def check_hub(root: Path, laptop: Laptop, expected: dict[str, str]) -> None:
    fsck(root)
    assert Git(root).rev("HEAD") == Git(laptop.root).rev("HEAD")
    assert hub_files(root) == expected
    assert Git(root).run("status", "--porcelain", "--untracked-files=all").stdout == b""


def test_client_killed_mid_push_and_pull_over_http(hub_server: Server, workdir: Path,
                                                   sync_env: dict[str, str]) -> None:
    a, b, root, _token = two_laptops(hub_server, workdir, sync_env)
    rng = random.Random(int(os.environ.get("SALVUS_SYNC_SEED", "0")) or None)
    expected = {"notes.txt": "start\n"}
    for i in range(30):
        expected[f"b/f{i}.txt"] = f"b {i} v0\n"
        b.write(f"b/f{i}.txt", expected[f"b/f{i}.txt"])
    started = time.monotonic()
    b.sync()
    span = time.monotonic() - started
    a.sync()
    for trial in range(HUB_TRIALS):
        for i in rng.sample(range(30), 10):
            expected[f"b/f{i}.txt"] = f"b {i} v{trial + 1}\n"
            b.write(f"b/f{i}.txt", expected[f"b/f{i}.txt"])
        expected[f"a/t{trial}.txt"] = f"a {trial}\n"
        a.write(f"a/t{trial}.txt", expected[f"a/t{trial}.txt"])
        a.sync()
        before = Git(root).rev("HEAD")
        proc = start_sync(b, rng.choice(["", "pull", "push"]))
        time.sleep(rng.uniform(0, span))  # the random kill point is what this test is about
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        wait_for(lambda: not _git_alive(b.root), timeout=60, what="the killed sync's git to end")
        fsck(b.root)
        fsck(root)
        after = Git(root).rev("HEAD")
        assert after == before or Git(root).is_ancestor(before, after), trial
        b.sync()
        a.sync()
        for laptop in (a, b):
            assert {f: laptop.read(f) for f in laptop.files()} == expected, trial
        check_hub(root, a, expected)


def _receiving(hub: Server) -> bool:
    """True while the hub's git is taking in a pack (receive-pack's index-pack or unpack-objects runs)."""
    for child in psutil.Process(hub.proc.pid).children(recursive=True):
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "index-pack" in line or "unpack-objects" in line:
            return True
    return False


def test_client_killed_while_the_hub_takes_in_its_pack(hub_server: Server, workdir: Path,
                                                       sync_env: dict[str, str]) -> None:
    """kill -9 of the laptop exactly mid-push: while the hub's receive-pack reads the pack over HTTP."""
    a, b, root, _token = two_laptops(hub_server, workdir, sync_env)
    (a.root / "big").mkdir()
    blobs = {f"big/{i}.bin": os.urandom(150_000) for i in range(160)}  # 24 MB that no compression shrinks
    for rel, data in blobs.items():
        (a.root / rel).write_bytes(data)
    give_to_sessions(a.root / "big")
    before = Git(root).rev("HEAD")
    proc = start_sync(a, "push")
    wait_for(lambda: _receiving(hub_server), timeout=300, what="the hub to start taking in the pack")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_for(lambda: not _git_alive(a.root), timeout=30, what="the killed push's git to end")
    wait_for(lambda: not _receiving(hub_server), timeout=60, what="the hub to drop the cut-off pack")
    fsck(a.root)
    fsck(root)
    after = Git(root).rev("HEAD")  # the hub's branch: its old value, or the laptop's commit sent whole
    assert after == before or after == Git(a.root).rev("HEAD")
    a.sync()  # the next sync completes, on both sides
    b.sync()
    assert {rel: (b.root / rel).read_bytes() for rel in blobs} == blobs
    a.sync()
    assert (root / "notes.txt").read_text() == "start\n"
    assert {rel: (root / rel).read_bytes() for rel in blobs} == blobs  # the hub's work tree has the push
    fsck(root)
    assert Git(root).rev("HEAD") == Git(a.root).rev("HEAD")


def test_hub_killed_mid_transfer_then_the_next_sync_completes(start_server, workdir: Path,
                                                               sync_env: dict[str, str]) -> None:
    data = workdir / "hub-data"
    data.mkdir()
    # a port of its own (not an ephemeral one another socket could take while the hub is down)
    hub = start_server("--multi-user", env=PYTHON_ONLY, data_dir=data, port=free_port())
    a, b, root, _token = two_laptops(hub, workdir, sync_env)
    rng = random.Random(int(os.environ.get("SALVUS_SYNC_SEED", "0")) or None)
    digest = lambda path: hashlib.sha1(path.read_bytes()).hexdigest()
    expected = {"notes.txt": hashlib.sha1(b"start\n").hexdigest()}
    for trial in range(HUB_TRIALS + 1):
        # A transfer worth interrupting: a few MB of new, incompressible files.
        (a.root / "big").mkdir(exist_ok=True)
        for i in range(20):
            blob = os.urandom(200_000)
            (a.root / f"big/t{trial}-{i}.bin").write_bytes(blob)
            expected[f"big/t{trial}-{i}.bin"] = hashlib.sha1(blob).hexdigest()
        give_to_sessions(a.root / "big")
        before = Git(root).rev("HEAD")
        proc = start_sync(a, "push")
        time.sleep(rng.uniform(0.2, 3.0))  # the random kill point is what this test is about
        kill_tree(hub)
        proc.wait(timeout=120)
        hub = start_server("--multi-user", env=PYTHON_ONLY, data_dir=data, port=hub.port, token=hub.token)
        fsck(root)
        after = Git(root).rev("HEAD")
        assert after == before or after == Git(a.root).rev("HEAD"), trial
        a.sync()  # the next sync completes (stale locks and a half-integrated push are handled)
        b.sync()
        for laptop in (a, b):
            assert {f: digest(laptop.root / f) for f in laptop.files()} == expected, trial
            fsck(laptop.root)
        fsck(root)
        on_hub = {p.relative_to(root).as_posix(): digest(p) for p in root.rglob("*")
                  if p.is_file() and not {".git", ".salvus"} & set(p.relative_to(root).parts)}
        assert on_hub == expected, trial
        assert Git(root).rev("HEAD") == Git(a.root).rev("HEAD")
        assert Git(root).run("status", "--porcelain", "--untracked-files=all").stdout == b""


@pytest.fixture
def small_disk(workdir: Path) -> Iterator[Path]:
    """A 12 MB tmpfs (a real, small file system); skipped where mount is not allowed."""
    (workdir / "small-disk").mkdir()
    with small_tmpfs(workdir / "small-disk", 12) as path:
        yield path


def fill_up(disk: Path, leave_kb: int) -> Path:
    """A filler file leaving about leave_kb KB free on disk."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_kb * 1024))
    return filler


def test_a_full_disk_on_either_side_loses_nothing(small_disk: Path, hub: Path, workdir: Path,
                                                  sync_env: dict[str, str]) -> None:
    # Laptop A lives on the small disk; the bare "hub" first lives on the big one.
    a = Laptop(small_disk, "laptop-a", sync_env).create_and_link(hub)
    a.write("notes.txt", "small disk\n")
    a.sync()
    b = Laptop(workdir, "laptop-b", sync_env).clone(hub)
    big = os.urandom(3 * 1024 * 1024)
    b.write("big.bin", big)
    b.sync()
    filler = fill_up(small_disk, 1024)  # 1 MB left: the 3 MB pull cannot fit
    before = Git(a.root).rev("HEAD")
    proc = a.sync("pull", check=False)
    assert proc.returncode == 1 and "full" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    fsck(a.root)
    assert Git(a.root).rev("HEAD") == before and a.read("notes.txt") == "small disk\n"
    filler.unlink()
    a.sync()  # space again: the next sync completes
    assert (a.root / "big.bin").read_bytes() == big
    fsck(a.root)
    # The remote's disk full: a bare repository on the small disk receives a push that does not fit.
    remote = small_disk / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    give_to_sessions(remote)
    b.cli("link", b.project, str(remote))
    filler = fill_up(small_disk, 1024)
    proc = b.sync(check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "full" in proc.stderr or "No space" in proc.stderr, proc.stderr
    fsck(remote)
    assert Git(remote).rev("refs/heads/main") is None  # no ref moved
    filler.unlink()
    b.sync()
    fsck(remote)
    assert Git(remote).rev("refs/heads/main") == Git(b.root).rev("HEAD")
