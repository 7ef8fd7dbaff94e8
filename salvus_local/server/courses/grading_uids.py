"""The uids autograding runs as on a root server: a small pool, each uid leased for one run and then cleaned.

Pseudo-projects ``~grader-<n>`` in ``project_uids`` (as the compute API's ``~anonymous-<n>``): never a
real project's uid, so never the uid a student's live kernels run as (which could attach to or signal
the grading session).  A uid serves one run at a time; the pool grows to the most runs ever at once.
Releasing kills whatever still runs as the uid and deletes what it left at the top of the shared
temporary folders, so the next submission graded as that uid finds nothing of the last one.

Before this pool each student project had a uid of its own for grading (``~grading-<project>``),
never given back; :meth:`GradingUids.reclaim` cleans and frees those once.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from typing import Any

from ..compute_api.identity import kill_uid

PREFIX = "~grader-"  # "~" never appears in a project id (store/projects.slug)
OLD_PREFIX = "~grading-"
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")


def sweep(uid: int, folders: tuple[str, ...] = SHARED_TMP) -> int:
    """Delete every entry owned by uid at the top of the shared temporary folders (links themselves, never their
    targets); return how many.  Its processes must be gone first (kill_uid), so nothing races us."""
    removed = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
                if st.st_uid != uid:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(entry.path, ignore_errors=True)  # rmtree does not follow links out of it
                else:
                    os.unlink(entry.path)
                removed += 1
            except OSError:
                continue
    return removed


class GradingUids:
    """``lease()`` → a uid no other grading run has; ``release(uid)`` after the run ended."""

    def __init__(self, uids: Any) -> None:
        self.uids = uids  # store/uids.ProjectUids
        self._free: list[int] = []
        self._slots = 0
        self._lock = threading.Lock()

    def lease(self) -> tuple[int, int]:
        """A (uid, gid) for one grading run, cleaned of anything an earlier run (or server) left."""
        with self._lock:
            if self._free:
                uid = self._free.pop()
                return uid, uid
            slot = self._slots
            self._slots += 1
        uid = self.uids.assign(f"{PREFIX}{slot}")
        self._clean(uid)  # first lease since the server started: the last server may have left something
        return uid, uid

    def release(self, uid: int) -> None:
        """End a lease: nothing of the run may stay running or lie in the shared temporary folders."""
        self._clean(uid)
        with self._lock:
            self._free.append(uid)

    @staticmethod
    def _clean(uid: int) -> None:
        kill_uid(uid)
        sweep(uid)

    def reclaim(self) -> int:
        """Clean and free the per-project grading uids of older servers (``~grading-<project>``); return how many."""
        old = self.uids.pseudo(OLD_PREFIX)
        for project_id, uid in old:
            self._clean(uid)
            self.uids.drop(project_id)
        return len(old)
