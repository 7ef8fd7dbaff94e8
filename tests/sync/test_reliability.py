"""kill -9 mid-sync, stale locks, and the token: nothing lost, git fsck clean, refs at old or new."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from salvus_sync.git import Git
from tests.conftest import REPO, wait_for

from .conftest import Laptop, fsck, give_to_sessions

# A bounded number of random trials (raise it for a soak run: SALVUS_SYNC_KILL_TRIALS=100).
TRIALS = int(os.environ.get("SALVUS_SYNC_KILL_TRIALS", "8"))


def start_sync(laptop: Laptop, verb: str) -> subprocess.Popen:
    """Start `salvus-local sync [verb]` in its own process group (so kill -9 takes git with it)."""
    argv = [sys.executable, "-m", "salvus_local", "sync", "--data-dir", str(laptop.data_dir), "--machine",
            laptop.name, *([verb] if verb else []), "-p", laptop.project]
    return subprocess.Popen(argv, env=laptop.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def test_kill_9_mid_sync_leaves_both_sides_consistent(laptops: tuple[Laptop, Laptop], hub: Path) -> None:
    a, b = laptops
    rng = random.Random(int(os.environ.get("SALVUS_SYNC_SEED", "0")) or None)
    expected: dict[str, str] = {"notes.txt": a.read("notes.txt")}
    # Measure one undisturbed sync, so kill points fall across its whole length.
    for i in range(40):
        b.write(f"b/file{i}.txt", f"b {i} v0\n")
        expected[f"b/file{i}.txt"] = f"b {i} v0\n"
    started = time.monotonic()
    b.sync()
    span = time.monotonic() - started
    a.sync()
    for trial in range(TRIALS):
        # Both sides have new work, so the killed command fetches, merges, updates files and pushes.
        for i in rng.sample(range(40), 15):
            expected[f"b/file{i}.txt"] = f"b {i} v{trial + 1}\n"
            b.write(f"b/file{i}.txt", expected[f"b/file{i}.txt"])
        expected[f"a/t{trial}.txt"] = f"a {trial}\n"
        a.write(f"a/t{trial}.txt", expected[f"a/t{trial}.txt"])
        a.sync()
        hub_before = Git(hub).rev("main")
        proc = start_sync(b, rng.choice(["", "", "pull", "push"]))
        time.sleep(rng.uniform(0, span))  # the random kill point is what this test is about
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it finished first: also a valid trial
        proc.wait()
        wait_for(lambda: not _git_alive(b.root, hub), timeout=60, what="git processes of the killed sync to end")
        fsck(hub)
        fsck(b.root)
        hub_after = Git(hub).rev("main")
        # The hub's branch is at its old value or at a commit the laptop made (and pushed whole).
        assert hub_after == hub_before or Git(b.root).is_ancestor(hub_before, hub_after), trial
        b.sync()  # the next sync completes
        a.sync()
        for laptop in (a, b):
            got = {f: laptop.read(f) for f in laptop.files()}
            assert got == expected, (trial, sorted(set(got.items()) ^ set(expected.items()))[:6])
    fsck(hub)
    fsck(a.root)


def _git_alive(*folders: Path) -> bool:
    from salvus_sync.git import git_busy_in

    return git_busy_in(*folders)


def test_stale_lock_files_from_a_killed_git_are_handled(laptops: tuple[Laptop, Laptop], hub: Path) -> None:
    a, b = laptops
    for path in (b.root / ".git" / "index.lock", b.root / ".git" / "refs" / "heads" / "main.lock",
                 hub / "refs" / "heads" / "main.lock"):
        path.write_text("")
        give_to_sessions(path)
        old = time.time() - 60
        os.utime(path, (old, old))
    b.write("after-crash.txt", "still syncs\n")
    b.sync()
    a.sync()
    assert a.read("after-crash.txt") == "still syncs\n"
    assert not (b.root / ".git" / "index.lock").exists()
    fsck(hub)


def test_token_travels_only_in_the_environment(laptops: tuple[Laptop, Laptop], workdir: Path) -> None:
    a, _b = laptops
    token = "sekrit-token-4f9a1c"
    real_git = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True).stdout.strip()
    shim_dir = workdir / "shim"
    shim_dir.mkdir()
    log = workdir / "git-calls.log"
    log.write_text("")
    os.chmod(log, 0o666)
    # A git in front of the real one: records each call's argv and whether the header came by env.
    (shim_dir / "git").write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "argv: $*" >> {log}\n'
        f'[ -n "$GIT_CONFIG_COUNT" ] && env | grep -q "^GIT_CONFIG_VALUE_.*=Authorization: token {token}$" '
        f'&& echo "env: header" >> {log}\n'
        f'exec {real_git} "$@"\n')
    os.chmod(shim_dir / "git", 0o755)
    a.env = {**a.env, "PATH": f"{shim_dir}:{a.env['PATH']}", "SALVUS_SYNC_TOKEN": token}
    a.write("t.txt", "token test\n")
    proc = a.sync()
    calls = log.read_text()
    assert "argv: " in calls and "fetch" in calls and "push" in calls
    assert "env: header" in calls  # the token reached git, through the environment
    assert token not in "\n".join(line for line in calls.splitlines() if line.startswith("argv:"))
    assert token not in proc.stdout + proc.stderr
    for path in (a.root / ".git" / "config", a.root / ".git" / "salvus" / "sync.json"):
        assert token not in path.read_text()
    assert token not in subprocess.run(["git", "-C", str(a.root), "log", "--all", "--format=%B"],
                                       capture_output=True, text=True, env=a.env).stdout


@pytest.mark.parametrize("bad", [["link", "no-such-project", "/tmp/x.git"], ["-p", "no-such-project"],
                                 ["clone", "-oops"]])
def test_bad_input_is_one_line_exit_2(laptops: tuple[Laptop, Laptop], bad: list[str]) -> None:
    a, _b = laptops
    proc = a.cli(*bad, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Error: ") and len(proc.stderr.strip().splitlines()) == 1
