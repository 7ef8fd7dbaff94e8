"""The hub side of a push: a first push creates the project; edits made on the hub meanwhile are merged, not lost."""

from __future__ import annotations

import json
from pathlib import Path

from salvus_sync.git import Git
from tests.accounts.conftest import make_user
from tests.conftest import Server

from .conftest import Laptop, fsck, run_cli, sync_token


def hub_root(hub: Server, project: str) -> Path:
    return Path(hub.data_dir) / "projects" / project


def test_first_push_creates_the_project_owned_by_the_pusher(hub_server: Server, workdir: Path,
                                                            sync_env: dict[str, str]) -> None:
    alice = make_user(hub_server, prefix="alice")
    bob = make_user(hub_server, prefix="bob")
    laptop = Laptop(workdir, "laptop-a", sync_env)
    laptop.cli("login", hub_server.base_url, "--token", sync_token(alice))
    out = run_cli("project", "--data-dir", str(laptop.data_dir), "create", "Thesis", "--json", env=sync_env)
    laptop.project, laptop.root = json.loads(out.stdout)["id"], Path(json.loads(out.stdout)["path"])
    # `sync link PROJECT HUB`: the project's URL on the hub is made from the signed-in account and the id.
    linked = laptop.cli("link", laptop.project, hub_server.base_url).stdout
    url = hub_server.url(f"/git/{alice.name}/{laptop.project}.git")
    assert url in linked
    laptop.write("chapter1.txt", "It was a dark and stormy night.\n")
    assert "pushed" in laptop.sync().stdout
    # The hub has the project now: same id, the laptop's title, owned by alice, files in its work tree.
    (row,) = [p for p in alice.get("/api/projects").json() if p["id"] == laptop.project]
    assert row["title"] == "Thesis" and row["owner"] == alice.name and row["role"] == "owner"
    r = alice.get(f"/p/{laptop.project}/api/contents/chapter1.txt")
    assert r.status_code == 200 and r.json()["content"] == "It was a dark and stormy night.\n"
    assert not [p for p in bob.get("/api/projects").json() if p["id"] == laptop.project]
    fsck(hub_root(hub_server, laptop.project))
    # Only the account named in the URL creates: bob pushing into alice's name gets 404, nothing made.
    other = Laptop(workdir, "laptop-b", {**sync_env, "SALVUS_SYNC_TOKEN": sync_token(bob)})
    out = run_cli("project", "--data-dir", str(other.data_dir), "create", "Bobs", "--json", env=sync_env)
    other.project = json.loads(out.stdout)["id"]
    other.cli("link", other.project, hub_server.url(f"/git/{alice.name}/{other.project}.git"))
    proc = other.sync(check=False)
    assert proc.returncode == 1 and "no project at" in proc.stderr and "Traceback" not in proc.stderr
    assert alice.get(f"/p/{other.project}/api/contents").status_code == 404
    # A pull (fetch) of a name that does not exist says so and creates nothing.
    missing = other.cli("pull", "-p", other.project, check=False)
    assert missing.returncode == 1 and "no project at" in missing.stderr


def test_edits_on_the_hub_during_a_push_are_merged_there(hub_server: Server, workdir: Path,
                                                         sync_env: dict[str, str]) -> None:
    alice = make_user(hub_server, prefix="alice")
    token = sync_token(alice)
    home = alice.home()
    laptop = Laptop(workdir, "laptop-a", {**sync_env, "SALVUS_SYNC_TOKEN": token})
    laptop.clone(hub_server.url(f"/git/{alice.name}/{home}.git"))
    laptop.write("notes.txt", "one\ntwo\nthree\nfour\nfive\n")
    laptop.write("same.txt", "base\n")
    laptop.sync()
    # Edits on the hub's UI, not yet committed anywhere.
    put = lambda path, text: alice.put(f"/p/{home}/api/contents/{path}",
                                       json={"type": "file", "format": "text", "content": text})
    assert put("from-hub.txt", "typed on the hub\n").status_code in (200, 201)
    assert put("notes.txt", "one\ntwo\nthree\nfour\nFIVE (hub)\n").status_code == 200
    assert put("same.txt", "hub's version\n").status_code == 200
    # Meanwhile a plain git client pushes (no fetch first): the push is a fast-forward and is taken.
    laptop.write("notes.txt", "ONE (laptop)\ntwo\nthree\nfour\nfive\n")
    laptop.write("same.txt", "laptop's version\n")
    laptop.write("from-laptop.txt", "typed on the laptop\n")
    git = Git(laptop.root, token=token)
    git.run("add", "-A")
    git.run("-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m",
            "offline work\n\nSalvus-Machine: laptop-a")
    pushed = git.run("push", "origin", "HEAD:refs/heads/main", check=False)
    assert pushed.returncode == 0, pushed.stderr.decode()
    # On the hub: both sides' work, merged by the laptops' rules; the same-line conflict keeps the hub's
    # version in place and the laptop's beside it.
    read = lambda path: alice.get(f"/p/{home}/api/contents/{path}").json()
    assert read("notes.txt")["content"] == "ONE (laptop)\ntwo\nthree\nfour\nFIVE (hub)\n"
    assert read("from-hub.txt")["content"] == "typed on the hub\n"
    assert read("from-laptop.txt")["content"] == "typed on the laptop\n"
    assert read("same.txt")["content"] == "hub's version\n"
    names = [f["name"] for f in read("")["content"]]
    (beside,) = [n for n in names if n.startswith("same (from laptop-a, ")]
    assert read(beside)["content"] == "laptop's version\n"
    root = hub_root(hub_server, home)
    status = json.loads(run_cli("sync", "status", "-p", str(root), "--json", env=sync_env).stdout)
    assert [c["path"] for c in status["conflicts"]] == ["same.txt"] and status["conflicts"][0]["other"] == beside
    fsck(root)
    # The laptop's next sync brings the merge back: nothing lost on either side.
    laptop.sync()
    assert laptop.read("notes.txt") == "ONE (laptop)\ntwo\nthree\nfour\nFIVE (hub)\n"
    assert laptop.read("from-hub.txt") == "typed on the hub\n" and laptop.read(beside) == "laptop's version\n"
    assert Git(root).run("status", "--porcelain").stdout == b""
