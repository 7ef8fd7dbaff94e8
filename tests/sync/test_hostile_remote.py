"""A hostile remote: tree entries like '..' or '.git', or a link the commit itself makes, never write outside the project."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from salvus_sync.git import Git
from salvus_sync.report import SyncError
from salvus_sync.worktree import apply_tree

from tests.accounts.conftest import make_user
from tests.conftest import Server

from .conftest import Laptop, sync_token


def _git(repo: Path, *args: str, data: bytes | None = None) -> str:
    proc = subprocess.run(["git", "--git-dir", str(repo), *args], input=data, capture_output=True, check=True)
    return proc.stdout.decode().strip()


def _tree(repo: Path, entries: list[tuple[str, str, str]]) -> str:
    """Write a tree exactly as given (no sorting or checks: hash-object --literally); entries (mode, name, id)."""
    raw = b"".join(m.encode() + b" " + n.encode() + b"\0" + bytes.fromhex(i) for m, n, i in entries)
    return _git(repo, "hash-object", "-t", "tree", "-w", "--literally", "--stdin", data=raw)


def _evil_commit(repo: Path, parent: str, extra: list[tuple[str, str, str]]) -> str:
    """A commit on parent whose root tree also holds the extra entries."""
    base = [(ln.split()[0], ln.split("\t")[1], ln.split()[2])
            for ln in _git(repo, "ls-tree", f"{parent}^{{tree}}").splitlines()]
    entries = sorted(base + extra, key=lambda e: e[1] + ("/" if e[0] == "40000" else ""))
    return _git(repo, "commit-tree", _tree(repo, entries), "-p", parent, "-m", "innocent update", data=b"")


def _nested(repo: Path, names: list[str], leaf: str, blob: str) -> tuple[str, str, str]:
    """The entry names[0] -> names[1] -> ... -> leaf (a file holding blob)."""
    tree = _tree(repo, [("100644", leaf, blob)])
    for name in reversed(names[1:]):
        tree = _tree(repo, [("40000", name, tree)])
    return ("40000", names[0], tree)


HOSTILE = {
    "dotdot": (["..", ".."], "escaped.txt"),
    "dotgit": ([".git", "hooks"], "post-merge"),
    "dotgit-upper": ([".GIT"], "config"),
    "dot": (["."], "dot.txt"),
    "ntfs-alias": (["git~1"], "config"),
}


def _refs(laptop: Laptop) -> str:
    return laptop.git("for-each-ref", "--format=%(refname) %(objectname)")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_pull_from_a_remote_with_a_hostile_tree_is_refused_before_anything_changes(
        laptops: tuple[Laptop, Laptop], hub: Path, workdir: Path, kind: str) -> None:
    a, b = laptops
    names, leaf = HOSTILE[kind]
    blob = _git(hub, "hash-object", "-w", "--stdin", data=b"#!/bin/sh\ntouch /tmp/PWNED\n")
    evil = _evil_commit(hub, _git(hub, "rev-parse", "main"), [_nested(hub, names, leaf, blob)])
    _git(hub, "update-ref", "refs/heads/main", evil)
    refs, files = _refs(b), b.files()
    proc = b.sync("pull", check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "unsafe" in lines[0] and "nothing was changed here" in lines[0], lines[0]
    # Refused while the objects arrived: no ref moved, no file changed, nothing outside the project.
    assert _refs(b) == refs and b.files() == files
    assert not list(workdir.rglob("escaped.txt")) and not (b.root / ".git" / "hooks" / "post-merge").exists()
    assert subprocess.run(["git", "--git-dir", str(b.root / ".git"), "cat-file", "-e", evil]).returncode != 0


def test_the_writer_refuses_unsafe_paths_even_when_git_let_them_in(laptops: tuple[Laptop, Laptop],
                                                                   workdir: Path) -> None:
    """Defence in depth: objects already in the repository (no fetch, so no fsck) with '..' are still refused."""
    _, b = laptops
    repo = b.root / ".git"
    head = _git(repo, "rev-parse", "HEAD")
    blob = _git(repo, "hash-object", "-w", "--stdin", data=b"escaped\n")
    for names in (["..", ".."], [".git", "hooks"], ["sub", ".."]):
        evil = _evil_commit(repo, head, [_nested(repo, names, "escaped.txt", blob)])
        with pytest.raises(SyncError, match="unsafe path"):
            apply_tree(Git(b.root), head, evil, "laptop-b", time.time(), lambda p: "hub")
    assert not list(workdir.rglob("escaped.txt"))


def test_a_link_made_by_the_commit_itself_is_never_followed(laptops: tuple[Laptop, Laptop], workdir: Path) -> None:
    """One tree holding both a link d -> outside and d/f (two entries named d): f never lands outside."""
    _, b = laptops
    outside = workdir / "outside"
    outside.mkdir()
    os.chmod(outside, 0o777)
    repo = b.root / ".git"
    head = _git(repo, "rev-parse", "HEAD")
    link = _git(repo, "hash-object", "-w", "--stdin", data=str(outside).encode())
    blob = _git(repo, "hash-object", "-w", "--stdin", data=b"through the link\n")
    inner = _tree(repo, [("100644", "f", blob)])
    evil = _evil_commit(repo, head, [("120000", "d", link), ("40000", "d", inner)])
    try:
        apply_tree(Git(b.root), head, evil, "laptop-b", time.time(), lambda p: "hub")
    except SyncError as exc:
        assert "link" in str(exc)
    assert list(outside.iterdir()) == []
    # Whatever landed inside the project belongs to the project's owner, not to root.
    owner = os.stat(b.root).st_uid
    for path in b.root.rglob("*"):
        if ".git" not in path.relative_to(b.root).parts:
            assert os.lstat(path).st_uid == owner, path


def test_clone_of_a_hostile_remote_is_refused(hub: Path, workdir: Path, sync_env: dict[str, str]) -> None:
    a = Laptop(workdir, "laptop-a", sync_env).create_and_link(hub)
    a.write("notes.txt", "hello\n")
    a.sync()
    blob = _git(hub, "hash-object", "-w", "--stdin", data=b"escaped\n")
    evil = _evil_commit(hub, _git(hub, "rev-parse", "main"), [_nested(hub, ["..", ".."], "escaped.txt", blob)])
    _git(hub, "update-ref", "refs/heads/main", evil)
    b = Laptop(workdir, "laptop-b", sync_env)
    proc = b.cli("clone", str(hub), check=False)
    assert proc.returncode != 0 and "unsafe" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not list(workdir.rglob("escaped.txt"))


def test_the_hub_refuses_a_push_with_a_hostile_tree(hub_server: Server, workdir: Path,
                                                    sync_env: dict[str, str]) -> None:
    alice = make_user(hub_server, prefix="alice")
    token = sync_token(alice)
    url = hub_server.url(f"/git/{alice.name}/{alice.home()}.git")
    laptop = Laptop(workdir, "laptop-a", {**sync_env, "SALVUS_SYNC_TOKEN": token}).clone(url)
    laptop.write("notes.txt", "hello\n")
    laptop.sync()
    hub_git = Path(hub_server.data_dir) / "projects" / alice.home() / ".git"
    before = _git(hub_git, "rev-parse", "HEAD")
    repo = laptop.root / ".git"
    blob = _git(repo, "hash-object", "-w", "--stdin", data=b"escaped\n")
    evil = _evil_commit(repo, _git(repo, "rev-parse", "HEAD"), [_nested(repo, ["..", ".."], "escaped.txt", blob)])
    proc = Git(laptop.root, token=token).run("push", url, f"{evil}:refs/heads/main", check=False)
    assert proc.returncode != 0
    assert _git(hub_git, "rev-parse", "HEAD") == before
    assert subprocess.run(["git", "--git-dir", str(hub_git), "cat-file", "-e", evil]).returncode != 0
    assert not list(Path(hub_server.data_dir).rglob("escaped.txt")) and not list(workdir.rglob("escaped.txt"))
