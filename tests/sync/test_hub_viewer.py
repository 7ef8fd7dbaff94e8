"""Viewers of a hub project may fetch (clone, pull) it but not push: 403 with a message saying why."""

from __future__ import annotations

from pathlib import Path

from salvus_sync.git import Git
from tests.accounts.conftest import make_user
from tests.conftest import Server

from .conftest import Laptop, sync_token


def test_a_viewer_clones_and_pulls_but_cannot_push(hub_server: Server, workdir: Path,
                                                   sync_env: dict[str, str]) -> None:
    alice = make_user(hub_server, prefix="alice")
    carol = make_user(hub_server, prefix="carol")
    home = alice.home()
    assert alice.put(f"/api/projects/{home}/collaborators/{carol.name}", json={"role": "viewer"}).status_code == 200
    assert alice.put(f"/p/{home}/api/contents/paper.txt",
                     json={"type": "file", "format": "text", "content": "draft 1\n"}).status_code in (200, 201)
    url = hub_server.url(f"/git/{alice.name}/{home}.git")
    token = sync_token(carol)
    viewer = Laptop(workdir, "laptop-carol", {**sync_env, "SALVUS_SYNC_TOKEN": token}).clone(url)
    assert viewer.read("paper.txt") == "draft 1\n"
    # A pull sees alice's later edits.
    alice.put(f"/p/{home}/api/contents/paper.txt", json={"type": "file", "format": "text", "content": "draft 2\n"})
    viewer.sync("pull")
    assert viewer.read("paper.txt") == "draft 2\n"
    # A push is refused with the reason (git shows the hub's message), and nothing changes on the hub.
    viewer.write("paper.txt", "carol's version\n")
    proc = viewer.sync(check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and "403" in proc.stderr, proc.stderr
    r = carol.post(f"/git/{alice.name}/{home}.git/git-receive-pack", data=b"0000",
                   headers={"Content-Type": "application/x-git-receive-pack-request"})
    assert r.status_code == 403 and "viewer" in r.json()["message"], r.text
    assert alice.get(f"/p/{home}/api/contents/paper.txt").json()["content"] == "draft 2\n"


def test_a_viewer_fetches_with_plain_git_and_any_token(hub_server: Server, workdir: Path) -> None:
    """Plain `git clone` with an api token (what a README reader does); a push gets the viewer's 403."""
    import subprocess

    alice = make_user(hub_server, prefix="alice")
    carol = make_user(hub_server, prefix="carol")
    home = alice.home()
    assert alice.put(f"/api/projects/{home}/collaborators/{carol.name}", json={"role": "viewer"}).status_code == 200
    url = hub_server.url(f"/git/{alice.name}/{home}.git")
    for scope in ("api", "sync"):
        token = carol.post("/api/tokens", json={"scope": scope, "note": "git"}).json()["token"]
        env = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
               "GIT_CONFIG_VALUE_0": f"Authorization: token {token}", "PATH": "/usr/bin:/bin",
               "HOME": str(workdir), "GIT_CONFIG_GLOBAL": "/dev/null"}
        dest = workdir / f"carol-{scope}"
        proc = subprocess.run(["git", "clone", "-q", url, str(dest)], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, (scope, proc.stderr)
        subprocess.run(["git", "-C", str(dest), "-c", "user.name=c", "-c", "user.email=c@x", "commit", "-q",
                        "--allow-empty", "-m", "viewer"], env=env, check=True)
        proc = subprocess.run(["git", "-C", str(dest), "push", "-q", "origin", "HEAD"], env=env, capture_output=True,
                              text=True)
        assert proc.returncode != 0 and "403" in proc.stderr, (scope, proc.stderr)
