"""The hub: a multi-user salvus-local serving git smart HTTP at /git/<owner>/<project>.git to laptops."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from salvus_sync.git import Git, git_env
from tests.accounts.conftest import PYTHON_ONLY, make_user
from tests.conftest import Server

from .conftest import Laptop, fsck, sync_token




def test_laptop_clones_pushes_and_pulls_through_the_hub(hub_server: Server, workdir: Path,
                                                        sync_env: dict[str, str]) -> None:
    alice = make_user(hub_server, prefix="alice")
    home = alice.home()
    url = hub_server.url(f"/git/{alice.name}/{home}.git")
    env = {**sync_env, "SALVUS_SYNC_TOKEN": sync_token(alice)}
    laptop = Laptop(workdir, "laptop-a", env).clone(url)  # type: ignore[arg-type]
    laptop.write("from-laptop.txt", "written offline\n")
    out = laptop.sync().stdout
    assert "pushed" in out
    # The push updated the hub's own work tree: the file opens in the hub's UI.
    r = alice.get(f"/p/{home}/api/contents/from-laptop.txt")
    assert r.status_code == 200 and r.json()["content"] == "written offline\n", r.text
    # An edit made in the hub's browser UI reaches the laptop on the next sync.
    r = alice.put(f"/p/{home}/api/contents/from-hub.txt", json={"type": "file", "format": "text",
                                                               "content": "edited on the hub\n"})
    assert r.status_code in (200, 201), r.text
    laptop.sync()
    assert laptop.read("from-hub.txt") == "edited on the hub\n"
    hub_root = Path(hub_server.data_dir) / "projects" / home
    if hub_root.is_dir():
        fsck(hub_root)


def test_hub_refuses_strangers_missing_tokens_and_force_pushes(hub_server: Server, workdir: Path,
                                                               sync_env: dict[str, str]) -> None:
    alice = make_user(hub_server, prefix="alice")
    bob = make_user(hub_server, prefix="bob")
    home = alice.home()
    url = hub_server.url(f"/git/{alice.name}/{home}.git")
    no_token = Laptop(workdir, "nobody", sync_env).cli("clone", url, check=False)
    assert no_token.returncode == 2 and "403" in no_token.stderr and "Traceback" not in no_token.stderr
    stranger = Laptop(workdir, "bob", {**sync_env, "SALVUS_SYNC_TOKEN": sync_token(bob)}).cli("clone", url, check=False)
    assert stranger.returncode == 2 and "not found" in stranger.stderr  # 404: as if it did not exist
    wrong_owner = hub_server.url(f"/git/{bob.name}/{home}.git")
    assert Laptop(workdir, "a2", {**sync_env, "SALVUS_SYNC_TOKEN": sync_token(alice)}).cli(
        "clone", wrong_owner, check=False).returncode == 2
    # Fast-forward only: a force push of rewritten history moves no hub ref.
    env = {**sync_env, "SALVUS_SYNC_TOKEN": sync_token(alice)}
    laptop = Laptop(workdir, "laptop-a", env).clone(url)  # type: ignore[arg-type]
    laptop.write("a.txt", "1\n")
    laptop.sync()
    before = subprocess.run(["git", "ls-remote", url, "refs/heads/*"], capture_output=True, text=True,
                            env=git_env(env["SALVUS_SYNC_TOKEN"], base=env)).stdout
    git = Git(laptop.root, token=env["SALVUS_SYNC_TOKEN"])
    git.run("checkout", "-q", "--orphan", "rewrite")
    laptop.write("b.txt", "rewritten\n")
    git.run("add", "-A")
    git.run("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "rewrite")
    proc = git.run("push", "--force", "origin", "rewrite:refs/heads/main", check=False)
    assert proc.returncode != 0 and b"non-fast-forward" in proc.stderr + proc.stdout or b"denied" in proc.stderr
    after = subprocess.run(["git", "ls-remote", url, "refs/heads/*"], capture_output=True, text=True,
                           env=git_env(env["SALVUS_SYNC_TOKEN"], base=env)).stdout
    assert after == before and after.strip()


def test_login_keeps_the_token_private_and_lists_projects(hub_server: Server, workdir: Path,
                                                          sync_env: dict[str, str]) -> None:
    alice = make_user(hub_server, prefix="alice")
    home_id = alice.home()  # made on first sign-in to the projects page
    token = sync_token(alice)
    laptop = Laptop(workdir, "laptop-a", sync_env)
    out = laptop.cli("login", hub_server.base_url, "--token", token).stdout
    assert f"as {alice.name}" in out
    stored = laptop.data_dir / "sync-tokens.json"
    assert stored.stat().st_mode & 0o777 == 0o600 and token in stored.read_text()
    # The projects the token's user may sync, with their git URLs.
    import requests

    r = requests.get(hub_server.url("/api/sync/projects"), headers={"Authorization": f"token {token}"}, timeout=60)
    assert r.status_code == 200, r.text
    (home,) = [p for p in r.json() if p["id"] == home_id]
    assert home["git_url"] == hub_server.url(f"/git/{alice.name}/{home['id']}.git") and home["role"] == "owner"
    # Clone and sync with the stored token (no environment variable).
    laptop.clone(home["git_url"])
    laptop.write("x.txt", "x\n")
    assert "pushed" in laptop.sync().stdout
    bad = laptop.cli("login", hub_server.base_url, "--token", "slt_not-a-real-token", check=False)
    assert bad.returncode == 1 and "refused the token" in bad.stderr
    assert "signed out" in laptop.cli("logout", hub_server.base_url).stdout
    assert token not in stored.read_text()
