"""Read markers (per person, project and chat) and what is still unread: counts and mentions.

A marker is the id of the last message a person has seen in one chat; it only moves forward.
Unread = messages of others after the marker.  A mention is unread while its message is.
"""

from __future__ import annotations

from typing import Any

from salvus_local.store.db import Store

_UNREAD = """
    select m.project_id, m.path, count(*) as count,
           sum(exists(select 1 from chat_mentions n where n.message_id = m.id and n.user_id = :user)) as mentions
    from chat_messages m
    left join chat_reads r on r.user_id = :user and r.project_id = m.project_id and r.path = m.path
    where m.author_id != :user and m.id > coalesce(r.up_to, 0) {project}
    group by m.project_id, m.path
    order by m.project_id, m.path
"""


class ReadMarkers:
    """The chat_reads table and unread counts."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def marker(self, user_id: int, project_id: str, path: str) -> int:
        """The id of the last message this person has read in a chat (0: none)."""
        rows = self.store.query("select up_to from chat_reads where user_id = ? and project_id = ? and path = ?",
                                (user_id, project_id, path))
        return int(rows[0]["up_to"]) if rows else 0

    def mark(self, user_id: int, project_id: str, path: str, up_to: int | None) -> int:
        """Move the marker forward to ``up_to`` (the chat's latest message when None); return the marker."""
        with self.store.write() as db:
            if up_to is None:
                row = db.execute("select max(id) from chat_messages where project_id = ? and path = ?",
                                 (project_id, path)).fetchone()
                up_to = int(row[0] or 0)
            db.execute("insert into chat_reads (user_id, project_id, path, up_to) values (?, ?, ?, ?) "
                       "on conflict (user_id, project_id, path) do update set up_to = max(up_to, excluded.up_to)",
                       (user_id, project_id, path, up_to))
            return int(db.execute("select up_to from chat_reads where user_id = ? and project_id = ? and path = ?",
                                  (user_id, project_id, path)).fetchone()[0])

    def counts(self, user_id: int, project_id: str | None = None) -> list[dict[str, Any]]:
        """``[{project_id, path, count, mentions}]`` of chats with unread messages (one project, or all)."""
        sql = _UNREAD.format(project="and m.project_id = :project" if project_id else "")
        rows = self.store.query(sql, {"user": user_id, "project": project_id})
        return [{"project_id": r["project_id"], "path": r["path"] or None, "count": r["count"],
                 "mentions": r["mentions"] or 0} for r in rows]

    def mentions(self, user_id: int, limit: int = 50) -> list[dict[str, Any]]:
        """The latest messages that mention this person, newest first, each with ``unread``."""
        return self.store.query(
            "select m.*, m.id > coalesce(r.up_to, 0) as unread from chat_mentions n "
            "join chat_messages m on m.id = n.message_id "
            "left join chat_reads r on r.user_id = n.user_id and r.project_id = m.project_id and r.path = m.path "
            "where n.user_id = ? order by m.id desc limit ?", (user_id, max(1, min(limit, 200))))
