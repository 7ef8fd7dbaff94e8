"""The update store of rooms: every Yjs update in SQLite (table ``collab_updates``), plus per-room bases.

``collab_rooms`` keeps, per (project, path), the file content a room's history began from
(``load_base``) and the content last read from or written to disk (``disk_base``), both as JSON,
so a server restarted with its store intact merges changes made on disk meanwhile as diffs.
"""

from __future__ import annotations

import json
import time
from typing import Any

from salvus_local.store.db import Store

COMPACT_AFTER = 500  # stored updates of one room before they are merged into one


class UpdateStore:
    """Append-only Yjs updates per room, compacted into one update now and then."""

    def __init__(self, store: Store) -> None:
        self.store = store

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
        with self.store.write() as db:
            db.execute("insert into collab_updates (project_id, path, data, created) values (?, ?, ?, ?)",
                       (project_id, path, update, time.time()))

    def count(self, project_id: str, path: str) -> int:
        """How many updates a room has stored."""
        rows = self.store.query("select count(*) as n from collab_updates where project_id = ? and path = ?",
                                (project_id, path))
        return int(rows[0]["n"])

    def compact(self, project_id: str, path: str, full_update: bytes) -> None:
        """Replace every stored update of a room by one update holding the whole document."""
        with self.store.write() as db:
            db.execute("delete from collab_updates where project_id = ? and path = ?", (project_id, path))
            db.execute("insert into collab_updates (project_id, path, data, created) values (?, ?, ?, ?)",
                       (project_id, path, full_update, time.time()))

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
