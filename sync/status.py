"""What the badge, ``sync status`` and the server's API show about one project's sync.

``state`` is one of: not linked, synced, ahead (local work not sent yet), behind (the remote has
work not merged here), diverged (both), conflict (both versions kept: look at them), offline (the
remote could not be reached last time), error (sign in again, no access, disk full: see
``last_error``).  Ahead/behind count commits as of the last fetch; nothing here touches the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from salvus_local.store.owner import as_owner
from salvus_local.store.rawstage import pending

from .git import Git
from .state import SyncState, private_dir

# Failures that retrying will not fix: the badge says "error" (with last_error) instead of "offline".
USER_ACTION = ("auth", "forbidden", "not_found", "disk_full", "dubious_ownership", "other")


def project_status(root: Path) -> dict[str, Any]:
    """{state, ahead, behind, uncommitted, conflicts, last_sync, last_attempt, offline, last_error,
    error_kind, remote, url, branch}."""
    git = Git(root)
    state = SyncState.load(private_dir(git.git_dir))
    branch = state.branch or git.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.decode().strip()
    ahead = behind = 0
    tracking = git.rev(f"refs/salvus/remote/{branch}")
    head = git.rev("HEAD")
    if head and tracking:
        counts = git.out("rev-list", "--left-right", "--count", f"{head}...{tracking}").split()
        ahead, behind = int(counts[0]), int(counts[1])
    elif head:
        ahead = int(git.out("rev-list", "--count", head))
    # Not `ls-files -m`: it reads files through the project's .gitattributes filters (store.rawstage).
    uncommitted = pending(lambda *args, input=None: git.run(*args, input=input).stdout, git.root,
                          private_dir(git.git_dir) / "stat-index.json", 2**62, lambda: as_owner(git.root))
    url = git.run("remote", "get-url", state.remote, check=False).stdout.decode().strip() if state.remote else ""
    failed = bool(state.last_error) and (state.last_sync or 0) < (state.last_attempt or 0)
    label = ("conflict" if state.conflicts else "not linked" if not state.remote
             else "offline" if state.offline and failed
             else "error" if failed and (state.last_error_kind or "other") in USER_ACTION
             else "diverged" if ahead and behind else "ahead" if ahead or uncommitted else "behind" if behind
             else "synced")
    return {"state": label, "ahead": ahead, "behind": behind, "uncommitted": uncommitted,
            "conflicts": state.conflicts, "last_sync": state.last_sync, "last_attempt": state.last_attempt,
            "offline": state.offline, "last_error": state.last_error, "error_kind": state.last_error_kind,
            "remote": state.remote, "url": url, "branch": branch}


def git_author(root: Path) -> str | None:
    """user.name <user.email> from git's config, when both are set."""
    out = Git(root).run("config", "-z", "--get-regexp", r"^user\.(name|email)$", check=False).stdout
    found: dict[str, str] = {}
    for item in out.decode("utf-8", "replace").split("\0"):
        key, _, value = item.partition("\n")
        found[key] = value.strip()  # the last one wins, as for `git config user.name`
    name, email = found.get("user.name"), found.get("user.email")
    return f"{name} <{email}>" if name and email else None
