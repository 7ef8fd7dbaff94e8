"""The server's side of courses/files.py: project files through the Workspace, always as the project's owner.

A file crosses from one project to another in memory: read with the first project owner's rights,
written with the second's (store/owner.py), never through a folder both could write.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from salvus_local.store import paths
from salvus_local.store.errors import NotFound
from salvus_local.store.owner import as_owner

MAX_FILE = 100 * 1024 * 1024  # larger files are not course material; they are left out


class WorkspaceFiles:
    """ProjectFiles over a Workspace (server/projects/workspace.py) and the accounts' members."""

    def __init__(self, workspace: Any, accounts: Any) -> None:
        self.ws = workspace
        self.accounts = accounts

    def create_project(self, title: str, owner_id: int, editors: list[int]) -> str:
        """A new project owned by owner_id, with editors; its folder handed to its uid at once."""
        row = self.ws.projects.create(title)
        self.accounts.members.set_owner(row["id"], owner_id)
        for user_id in editors:
            self.add_editor(row["id"], user_id)
        self.ws.projects.ids_of(row["id"])  # root servers: the folder belongs to the project's uid from now on
        return row["id"]

    def add_editor(self, project_id: str, user_id: int) -> None:
        """Make a user an editor of a project (nothing when they own it)."""
        user = self.accounts.users.by_id(user_id)
        if user is not None and self.accounts.members.owner_id(project_id) != user_id:
            self.accounts.members.put(project_id, user, "editor")

    def read_tree(self, project_id: str, folder: str) -> dict[str, bytes]:
        """Regular files under folder (hidden names and links skipped), read as the project's owner."""
        root = self.ws.projects.root(project_id)
        out: dict[str, bytes] = {}
        with as_owner(root):
            try:
                top = paths.resolve(root, folder)
            except NotFound:
                return {}
            if not top.is_dir() or top.is_symlink():
                return {}
            for base, dirs, names in os.walk(top):  # never follows links into folders
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.startswith("."):
                        continue
                    data = _read_regular(os.path.join(base, name))
                    if data is not None:
                        out[os.path.relpath(os.path.join(base, name), top).replace(os.sep, "/")] = data
        return out

    def read(self, project_id: str, path: str) -> bytes | None:
        """A regular file's bytes as the owner reads them, or None."""
        root = self.ws.projects.root(project_id)
        with as_owner(root):
            try:
                return _read_regular(str(paths.resolve(root, path)))
            except NotFound:
                return None

    def write(self, project_id: str, path: str, data: bytes) -> None:
        """Write a file atomically as the owner (folders made as needed); the watcher and snapshots see it."""
        cm = self.ws.contents(project_id)
        root = self.ws.projects.root(project_id)
        with as_owner(root):
            parent = paths.resolve(root, path).parent
            parent.mkdir(parents=True, exist_ok=True)
            cm.write_bytes(path, data)

    def remove(self, project_id: str, path: str) -> None:
        """Delete a file through the contents manager (it goes to the project's trash)."""
        try:
            self.ws.contents(project_id).delete(path)
        except NotFound:
            pass

    def snapshot_tree(self, project_id: str, folder: str, message: str) -> tuple[str | None, float | None,
                                                                                   dict[str, bytes]]:
        """Take a snapshot now, then read folder from it: what the student had at that instant."""
        self.ws.contents(project_id)  # watched from now on
        snap = self.ws.autosnap.take_now(project_id, message)
        snaps = self.ws.snapshots(project_id)
        version = snap.commit or snaps.head()
        if not version:
            return None, None, {}
        prefix = paths.normalize(folder) + "/"
        listing = snaps.git("ls-tree", "-r", "-z", version, "--", prefix).decode("utf-8", "surrogateescape")
        out: dict[str, bytes] = {}
        for record in filter(None, listing.split("\0")):
            info, path = record.split("\t", 1)
            if info.split()[1] == "blob" and info.split()[0] != "120000":  # not a symlink
                out[path[len(prefix):]] = snaps.git("cat-file", "blob", f"{version}:{path}")
        last = snaps.git("log", "-1", "--format=%ct", version, "--", prefix).decode().strip()
        return version, float(last) if last else None, out

    def run_as(self, project_id: str) -> tuple[int, int] | None:
        """(uid, gid) that grading of this student project's submissions runs as; None: a uid of the grading pool.

        With per-project uids (root servers) None: the executor leases a uid of its pool for each run
        (server/courses/grading_uids.py), never the uid of the student's live sessions, whose kernel could
        otherwise attach to or signal the grading session, or change the files it reads.
        Without per-project uids: the project's own ids (a non-root server isolates sessions by namespaces).
        """
        if self.ws.projects.uids is None:
            return self.ws.projects.ids_of(project_id)
        return None


def _read_regular(path: str) -> bytes | None:
    """A regular file's bytes without following a final link; None for anything else or too large."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)
