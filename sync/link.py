"""Link a project to a git remote: the remote ``salvus`` in .git/config (never a token), branch in sync.json."""

from __future__ import annotations

import os
from pathlib import Path

from .git import Git
from .state import SyncState, private_dir, sync_lock

REMOTE = "salvus"


class LinkError(Exception):
    """Not a usable remote; ``message`` says what to give instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def link_remote(root: str | os.PathLike[str], remote: str, branch: str | None = None) -> SyncState:
    """Make root sync with remote (a URL, or a folder holding a repository); the saved state."""
    url = str(Path(remote).resolve()) if remote and os.path.isdir(remote) else remote
    if not url or url.startswith("-") or any(c in url for c in "\0\n\r"):
        raise LinkError(f"not a git URL or folder: {remote!r}")
    if "@" in url.split("://", 1)[-1].split("/", 1)[0] and ":" in url.split("://", 1)[-1].split("@", 1)[0]:
        raise LinkError("put no password or token in the URL: sign in with `salvus-local sync login` instead")
    git = Git(root)
    verb = "set-url" if git.run("remote", "get-url", REMOTE, check=False).returncode == 0 else "add"
    git.run("remote", verb, REMOTE, url)
    folder = private_dir(git.git_dir)
    with sync_lock(folder):
        state = SyncState.load(folder)
        state.remote = REMOTE
        state.branch = branch or git.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.decode().strip()
        state.save(folder)
    return state
