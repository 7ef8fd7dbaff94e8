"""What the user sees when a sync cannot complete: revoked/expired tokens, an unreachable hub; progress; history."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from salvus_sync.git import Git
from tests.accounts.conftest import PYTHON_ONLY, make_user
from tests.conftest import REPO, Server, free_port

from .conftest import Laptop, run_cli, sync_token


def signed_in_laptop(hub: Server, workdir: Path, env: dict[str, str], name: str = "laptop-a") -> tuple[Laptop, str]:
    """A laptop signed in to the hub (--token) with alice's home project cloned; (laptop, token)."""
    alice = make_user(hub, prefix="alice")
    token = sync_token(alice)
    laptop = Laptop(workdir, name, env)
    laptop.cli("login", hub.base_url, "--token", token)
    laptop.clone(hub.url(f"/git/{alice.name}/{alice.home()}.git"))
    laptop.alice = alice  # type: ignore[attr-defined]
    return laptop, token


def test_revoked_and_expired_tokens_say_to_sign_in_again(hub_server: Server, workdir: Path,
                                                         sync_env: dict[str, str]) -> None:
    laptop, token = signed_in_laptop(hub_server, workdir, sync_env)
    alice = laptop.alice  # type: ignore[attr-defined]
    expected = (f"Your sync token for {hub_server.base_url} was revoked or expired: run "
                f"`salvus-local sync login {hub_server.base_url}`")
    # Revoked on the hub's Settings page.
    (row,) = [t for t in alice.get("/api/tokens").json()["tokens"] if token.startswith(t["prefix"])]
    assert alice.delete(f"/api/tokens/{row['id']}").status_code == 204
    laptop.write("a.txt", "offline work\n")
    proc = laptop.sync(check=False)  # never a prompt: stdin is not a terminal, and the command ends
    assert proc.returncode == 1 and proc.stderr.strip() == f"Error: {expected}", proc.stderr
    status = laptop.status()
    assert status["last_error"] == expected and not status["offline"] and status["state"] == "error"
    assert status["error_kind"] == "auth" and status["ahead"] >= 1  # the work is committed, waiting
    # Expired: a fresh token whose expiry passed (set in the hub's database, as time would).
    token2 = sync_token(alice)
    laptop.cli("login", hub_server.base_url, "--token", token2)
    db = sqlite3.connect(Path(hub_server.data_dir) / "salvus.db")
    with db:
        db.execute("update api_tokens set expires = ? where prefix = ?", (time.time() - 1, token2[:8]))
    db.close()
    proc = laptop.sync(check=False)
    assert proc.returncode == 1 and expected in proc.stderr
    # Signing in again makes the next sync complete; the offline work arrives.
    laptop.cli("login", hub_server.base_url, "--token", sync_token(alice))
    assert "pushed" in laptop.sync().stdout
    assert alice.get(f"/p/{alice.home()}/api/contents/a.txt").json()["content"] == "offline work\n"


def test_unreachable_hub_is_the_offline_state_and_the_next_sync_completes(start_server, workdir: Path,
                                                                          sync_env: dict[str, str]) -> None:
    data = workdir / "hub-data"
    data.mkdir()
    port = free_port()  # not an ephemeral one, which another socket could take while the hub is down
    hub = start_server("--multi-user", env=PYTHON_ONLY, data_dir=data, port=port)
    laptop, _token = signed_in_laptop(hub, workdir, sync_env)
    hub.stop()
    laptop.write("b.txt", "written while the hub was away\n")
    proc = laptop.sync(check=False)
    assert proc.returncode == 1 and "cannot reach the remote" in proc.stderr and "Traceback" not in proc.stderr
    status = laptop.status()
    assert status["state"] == "offline" and status["offline"] and status["uncommitted"] == 0  # work committed
    hub = start_server("--multi-user", env=PYTHON_ONLY, data_dir=data, port=port, token=hub.token)
    assert "pushed" in laptop.sync().stdout
    assert laptop.status()["state"] == "synced"


def test_progress_bars_on_a_terminal_and_history_on_request(laptops: tuple[Laptop, Laptop], hub: Path) -> None:
    a, _b = laptops
    a.write("big.bin", os.urandom(3 * 1024 * 1024))
    run_cli("project", "--data-dir", str(a.data_dir), "snapshot", a.project, env=a.env)
    # stderr on a terminal: git's progress drawn as bars.
    leader, follower = pty.openpty()
    argv = [sys.executable, "-m", "salvus_local", "sync", "--data-dir", str(a.data_dir), "--machine", a.name, "push",
            "-p", a.project, "--with-history"]
    proc = subprocess.Popen(argv, env=a.env, cwd=REPO, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out = proc.communicate(timeout=180)[0]
    os.close(leader)
    assert proc.returncode == 0, seen.decode(errors="replace")
    drawn = seen.decode(errors="replace")
    assert "Writing objects  [" in drawn and "100%" in drawn and "MiB" in drawn, drawn
    # --with-history: the snapshots went to this machine's own ref; the branch holds only the work.
    assert "snapshots pushed to refs/salvus/machines/laptop-a/snapshots" in out
    assert Git(hub).rev("refs/salvus/machines/laptop-a/snapshots") == Git(a.root).rev("refs/salvus/snapshots")
    assert Git(hub).rev("main") == Git(a.root).rev("HEAD")
    # Without the flag (and without a terminal) snapshots stay local and no bars are drawn.
    a.write("c.txt", "c\n")
    run_cli("project", "--data-dir", str(a.data_dir), "snapshot", a.project, env=a.env)
    plain = a.sync("push")
    assert "[" not in plain.stderr and "snapshots" not in plain.stdout
    assert Git(hub).rev("refs/salvus/machines/laptop-a/snapshots") != Git(a.root).rev("refs/salvus/snapshots")
    assert json.loads(a.cli("status", "-p", a.project, "--json").stdout)["state"] == "synced"


def test_a_remote_folder_of_another_owner_says_dubious_ownership_not_offline(laptops: tuple[Laptop, Laptop],
                                                                              hub: Path) -> None:
    """A path remote owned by another uid than the project's: git refuses it; the message says why and what to fix."""
    import pytest

    if os.geteuid() != 0:
        pytest.skip("needs root to give the remote to another uid")
    a, _b = laptops
    for base, dirs, files in os.walk(hub):  # root's now: readable by the project's uid, but not its own
        for name in [base, *(os.path.join(base, n) for n in dirs + files)]:
            os.lchown(name, 0, 0)
    proc = a.sync("pull", check=False)
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "offline" not in err, err
    assert "owned by another user" in err and "safe.directory" in err and str(hub) in err, err
    assert a.status()["error_kind"] == "dubious_ownership"
