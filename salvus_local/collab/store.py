"""The update store of rooms: every Yjs update in SQLite (table ``collab_updates``), plus per-room bases.

``collab_rooms`` keeps, per (project, path), the file content a room's history began from
(``load_base``) and the content last read from or written to disk (``disk_base``), both as JSON,
so a server restarted with its store intact merges changes made on disk meanwhile as diffs.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from salvus_local.store.db import Store

COMPACT_AFTER = 500  # stored updates of one room before they are merged into one


class UpdateStore:
    """Append-only Yjs updates per room, compacted into one update now and then; counts their bytes.

    Only this process writes these tables, so the byte counts (read once per room from SQLite, then
    kept up to date here) are exact: rooms' caps and the project quota use them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._bytes: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def room_bytes(self, project_id: str, path: str) -> int:
        """Bytes of a room's stored updates."""
        with self._lock:
            if (project_id, path) in self._bytes:
                return self._bytes[(project_id, path)]
        rows = self.store.query("select coalesce(sum(length(data)), 0) as n from collab_updates "
                                "where project_id = ? and path = ?", (project_id, path))
        with self._lock:
            return self._bytes.setdefault((project_id, path), int(rows[0]["n"]))

    def project_bytes(self, project_id: str) -> int:
        """Bytes of the stored updates of every room of a project (open or not)."""
        rows = self.store.query("select path, coalesce(sum(length(data)), 0) as n from collab_updates "
                                "where project_id = ? group by path", (project_id,))
        with self._lock:
            return sum(self._bytes.get((project_id, r["path"]), int(r["n"])) for r in rows)

    def _set(self, project_id: str, path: str, total: int) -> None:
        with self._lock:
            self._bytes[(project_id, path)] = total

    def load(self, project_id: str, path: str) -> tuple[list[bytes], dict[str, Any] | None]:
        """Return (updates in order, room row with decoded bases or None)."""
        rows = self.store.query("select data from collab_updates where project_id = ? and path = ? order by id",
                                (project_id, path))
        meta = self.store.query("select * from collab_rooms where project_id = ? and path = ?", (project_id, path))
        room = None
        if meta:
            room = dict(meta[0])
            for key in ("load_base", "disk_base"):
                room[key] = json.loads(room[key]) if room.get(key) is not None else None
        return [bytes(r["data"]) for r in rows], room

    def append(self, project_id: str, path: str, update: bytes) -> None:
        """Store one update (committed before this returns)."""
        before = self.room_bytes(project_id, path)  # read before the insert: counted once
        with self.store.write() as db:
            db.execute("insert into collab_updates (project_id, path, data, created) values (?, ?, ?, ?)",
                       (project_id, path, update, time.time()))
        self._set(project_id, path, before + len(update))

    def count(self, project_id: str, path: str) -> int:
        """How many updates a room has stored."""
        rows = self.store.query("select count(*) as n from collab_updates where project_id = ? and path = ?",
                                (project_id, path))
        return int(rows[0]["n"])

    def compact(self, project_id: str, path: str, full_update: bytes) -> None:
        """Replace every stored update of a room by one update holding the whole document (one transaction:
        a crash leaves the old updates or the new one)."""
        with self.store.write() as db:
            db.execute("delete from collab_updates where project_id = ? and path = ?", (project_id, path))
            db.execute("insert into collab_updates (project_id, path, data, created) values (?, ?, ?, ?)",
                       (project_id, path, full_update, time.time()))
        self._set(project_id, path, len(full_update))

    def set_bases(self, project_id: str, path: str, kind: str, **bases: Any) -> None:
        """Record load_base and/or disk_base (any JSON value) of a room."""
        row = {"project_id": project_id, "path": path, "kind": kind, "updated": time.time()}
        row.update({k: json.dumps(v) for k, v in bases.items()})
        with self.store.write() as db:
            db["collab_rooms"].upsert(row, pk=("project_id", "path"))

    def reset(self, project_id: str, path: str) -> None:
        """Forget a room's history entirely (its next load starts from the file)."""
        with self.store.write() as db:
            db.execute("delete from collab_updates where project_id = ? and path = ?", (project_id, path))
            db.execute("delete from collab_rooms where project_id = ? and path = ?", (project_id, path))
        self._set(project_id, path, 0)
