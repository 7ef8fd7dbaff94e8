"""Who a session without a project runs as (docs/internals.md, "Compute API identities").

A fresh compute-API session of a signed-in user runs as the uid of that user's home project
(single-user: the default project), so it can touch nothing that user could not.  Anonymous
sessions (embedded cells, anonymous ``/api/v1/execute``) each lease a uid from a pool reserved in
the project uid range: pseudo-projects ``~anonymous-<n>`` in the same ``project_uids`` table, so
no real project ever gets one, and no two live sessions share one.  Before a uid is leased again,
nothing may still run as it: a slot is "clean" when the forker confirmed its last session was
reaped (its cgroup or subreaper killed what it started); otherwise every process of the uid is
killed, which needs a scan of /proc.  A slot is unknown (scanned) the first time it is leased.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from ..errors import APIError

POOL_PREFIX = "~anonymous-"  # "~" never appears in a project id (store/projects.slug)


def pool_size(config: Any) -> int:
    """Anonymous uids reserved: embedded sessions plus as many concurrent anonymous runs."""
    return max(1, 2 * int(config.embed_max_sessions))


class AnonymousUids:
    """A pool of uids for anonymous sessions: ``lease`` → (uid, gid) no other live session has."""

    def __init__(self, config: Any, services: Any) -> None:
        self.size = pool_size(config)
        self.services = services
        self._free = list(range(self.size))
        self._leased: dict[int, tuple[int, int]] = {}  # slot → (uid, gid)
        self._clean: set[int] = set()  # slots whose uid is known to run nothing (in memory, no /proc scan)
        self._uids: dict[int, int] = {}  # slot → its uid (assigned once for good)
        self._lock = threading.Lock()

    def _allocator(self) -> Any:
        ws = getattr(self.services, "workspace", None)
        return getattr(getattr(ws, "projects", None), "uids", None)

    def lease(self) -> tuple[int, tuple[int, int] | None]:
        """Take a slot; return (slot, (uid, gid)), or (slot, None) when sessions do not get uids of their own.

        Raise a 503 when every anonymous uid is in use."""
        with self._lock:
            if not self._free:
                raise APIError(503, "Too many anonymous sessions are running: try again in a minute")
            slot = next((n for n in self._free if n in self._clean), self._free[0])
            self._free.remove(slot)
            clean = slot in self._clean
            self._clean.discard(slot)
        try:
            uids = self._allocator()
            if uids is None:  # not root, or one shared uid: namespaces (or nothing) keep sessions apart
                ids = None
            else:
                uid = self._uids.get(slot)
                if uid is None:
                    uid = self._uids[slot] = uids.assign(f"{POOL_PREFIX}{slot}")
                ids = (uid, uid)
                if not clean:
                    kill_uid(uid)  # nothing of an earlier visitor may still run as it
        except BaseException:
            with self._lock:
                self._free.append(slot)
            raise
        if ids is not None:
            with self._lock:
                self._leased[slot] = ids
        return slot, ids

    def release(self, slot: int, reaped: bool = False) -> None:
        """End a lease after its session ended; ``reaped``: the forker confirmed it and all it started are gone.

        Without that confirmation every process still running as the uid is killed now (a /proc scan)."""
        with self._lock:
            ids = self._leased.pop(slot, None)
        if ids is not None and not reaped:
            kill_uid(ids[0])
        with self._lock:
            if ids is not None:
                self._clean.add(slot)
            if slot not in self._free:
                self._free.append(slot)


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real uid is ``uid`` (root servers, Linux /proc); return how many."""
    if os.geteuid() != 0 or uid == 0:
        return 0
    killed = 0
    for _round in range(3):  # a fork between our scan and our kill shows up in the next round
        found = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                    line = next((x for x in f if x.startswith("Uid:")), "")
                if line.split()[1:2] == [str(uid)]:
                    os.kill(int(entry.name), signal.SIGKILL)
                    found += 1
            except (OSError, IndexError):
                continue  # gone meanwhile
        killed += found
        if not found:
            break
    return killed
