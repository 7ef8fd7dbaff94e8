"""A uid per project (as CoCalc does), when the server runs as root: allocated from a range, kept in SQLite.

The project's kernels and terminals run as that uid (gid = uid) and its folder belongs to it with
mode 0700, so code of one project cannot read or write another's.  No ``useradd``: a uid needs no
passwd entry for the kernel's permission checks; a session without one gets ``HOME`` = its private
temp dir (kernel/limits.py) and tools that look the name up (``id -un``, ``whoami``) say it has none.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .db import Store
from .errors import Conflict


class ProjectUids:
    """project id → uid, each unique within [lo, hi]."""

    def __init__(self, store: Store, lo: int, hi: int) -> None:
        if not 0 < lo <= hi:
            raise ValueError(f"project uid range {lo}–{hi} is empty: give 0 < project_uid_min <= project_uid_max")
        self.store, self.lo, self.hi = store, lo, hi

    def get(self, project_id: str) -> int | None:
        """The project's uid, or None when none was assigned yet."""
        rows = self.store.query("select uid from project_uids where project_id = ?", (project_id,))
        return int(rows[0]["uid"]) if rows else None

    def assign(self, project_id: str) -> int:
        """Return the project's uid, allocating the lowest free one in the range; 409 when the range is full."""
        uid = self.get(project_id)
        if uid is not None:
            return uid
        with self.store.write() as db:  # one writer: two first requests cannot take the same uid
            row = db.execute("select uid from project_uids where project_id = ?", (project_id,)).fetchone()
            if row:
                return int(row[0])
            used = {r[0] for r in db.execute("select uid from project_uids where uid between ? and ?",
                                                (self.lo, self.hi))}
            uid = next((u for u in range(self.lo, self.hi + 1) if u not in used), None)
            if uid is None:
                raise Conflict(f"No free project uid left in {self.lo}–{self.hi}: widen project_uid_max")
            db["project_uids"].insert({"project_id": project_id, "uid": uid, "assigned": time.time()})
        return uid

    def pseudo(self, prefix: str) -> list[tuple[str, int]]:
        """(pseudo-project, uid) rows whose name starts with prefix (``~…``: pools, never real projects)."""
        rows = self.store.query("select project_id, uid from project_uids where substr(project_id, 1, ?) = ?",
                                (len(prefix), prefix))
        return [(r["project_id"], int(r["uid"])) for r in rows]

    def drop(self, project_id: str) -> None:
        """Give a pseudo-project's uid back to the range (its owner has made sure nothing of it is left)."""
        if not project_id.startswith("~"):
            raise ValueError("only pseudo-projects give their uid back: a real project's folder still belongs to it")
        with self.store.write() as db:
            db.execute("delete from project_uids where project_id = ?", (project_id,))


def for_config(config: Any, store: Store) -> ProjectUids | None:
    """The allocator of a root server (None when not root or ``project_uid_min`` is 0: one shared uid)."""
    if os.geteuid() != 0 or not config.project_uid_min:
        return None
    return ProjectUids(store, config.project_uid_min, config.project_uid_max)


def give_tree(folder: Path, uid: int, gid: int) -> None:
    """Make uid:gid own folder and everything in it (links themselves, never their targets); folder 0700."""
    for base, dirs, files in os.walk(folder):  # os.walk does not follow links into other folders
        for name in [base, *(os.path.join(base, n) for n in dirs + files)]:
            try:
                os.lchown(name, uid, gid)
            except FileNotFoundError:
                pass
    os.chmod(folder, 0o700)
