"""The peer review tables of salvus.db (migration 0011_peer_review): rows in, rows out, no policy."""

from __future__ import annotations

import json
import time
from typing import Any

from salvus_local.store.db import Store


class PeerStore:
    """Peer review settings per assignment and one row per (assignment, author, reviewer)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def settings(self, aid: int) -> dict[str, Any] | None:
        """The assignment's peer review settings (``questions`` decoded), or None when it has none."""
        rows = self.store.query("select * from peer_settings where assignment_id = ?", (aid,))
        if not rows:
            return None
        row = rows[0]
        row["questions"] = json.loads(row["questions"] or "[]")
        return row

    def of_course(self, aids: list[int]) -> dict[int, dict[str, Any]]:
        """{assignment id: settings} of those with peer review."""
        return {a: s for a in aids if (s := self.settings(a)) is not None}

    def put_settings(self, aid: int, **fields: Any) -> dict[str, Any]:
        """Insert or change fields of an assignment's settings (``questions`` as a list); the row after."""
        if "questions" in fields:
            fields["questions"] = json.dumps(fields["questions"])
        with self.store.write() as db:
            if db.execute("select 1 from peer_settings where assignment_id = ?", (aid,)).fetchone():
                db["peer_settings"].update(aid, fields)
            else:
                db["peer_settings"].insert({"assignment_id": aid, **fields})
        row = self.settings(aid)
        assert row is not None
        return row

    def delete_settings(self, aid: int) -> None:
        """Turn peer review off (only before it is assigned: peer.py checks)."""
        with self.store.write() as db:
            db.execute("delete from peer_settings where assignment_id = ?", (aid,))

    def assign(self, aid: int, rows: list[dict[str, Any]]) -> None:
        """Store every review of an assignment at once: {author_id, reviewer_id, anon_id}."""
        now = time.time()
        with self.store.write() as db:
            db.execute("delete from peer_reviews where assignment_id = ?", (aid,))
            db["peer_reviews"].insert_all([{"assignment_id": aid, "assigned_at": now, "points": "{}", "comment": "",
                                            **r} for r in rows])
            db["peer_settings"].update(aid, {"assigned_at": now, "closed_at": None})

    def reviews(self, aid: int, *, author_id: int | None = None,
                reviewer_id: int | None = None) -> list[dict[str, Any]]:
        """Review rows (``points`` decoded) with ``author``/``reviewer`` usernames, by anon id."""
        sql = ("select r.*, a.name as author, b.name as reviewer, "
               "coalesce(nullif(b.display_name, ''), b.name) as reviewer_name from peer_reviews r "
               "join users a on a.id = r.author_id join users b on b.id = r.reviewer_id "
               "where r.assignment_id = ?")
        args: list[Any] = [aid]
        if author_id is not None:
            sql += " and r.author_id = ?"
            args.append(author_id)
        if reviewer_id is not None:
            sql += " and r.reviewer_id = ?"
            args.append(reviewer_id)
        rows = self.store.query(sql + " order by r.anon_id", tuple(args))
        for row in rows:
            row["points"] = json.loads(row["points"] or "{}")
        return rows

    def save_review(self, aid: int, anon_id: str, points: dict[str, float], comment: str) -> None:
        """Store a reviewer's points {grade_id: points} and comment."""
        with self.store.write() as db:
            db.execute("update peer_reviews set points = ?, comment = ?, updated = ? where assignment_id = ? "
                       "and anon_id = ?", (json.dumps(points), comment, time.time(), aid, anon_id))

    def close(self, aid: int) -> None:
        """No more changes by reviewers."""
        with self.store.write() as db:
            db["peer_settings"].update(aid, {"closed_at": time.time()})
