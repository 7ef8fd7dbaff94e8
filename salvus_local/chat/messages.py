"""Chat messages in SQLite: post, page through, edit, delete; rows turned into the API's JSON shape."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from salvus_local.store.db import Store
from salvus_local.store.errors import BadRequest, Forbidden, NotFound
from salvus_local.store.paths import normalize

MAX_BODY = 20_000  # characters of markdown per message: a long explanation with formulas fits, a pasted log does not
PAGE_MAX = 200
MAX_ID = 2**62  # SQLite integers are 64-bit: a larger id in a URL names no message (404), never an overflow (500)


def iso(ts: float | None) -> str | None:
    """Epoch seconds → ISO 8601 UTC (``…Z``), None stays None."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def chat_path(path: object) -> str:
    """The key of a chat: '' for the project's own chat, else the file's normalized API path (400 when bad)."""
    if path is None:
        return ""
    if not isinstance(path, str):
        raise BadRequest("path must be a string (a file's path in the project), or absent for the project's chat")
    return normalize(path) if path.strip("/") else ""


def check_body(body: object) -> str:
    """The message text, or a 400 saying what to fix (empty, not text, too long)."""
    if not isinstance(body, str):
        raise BadRequest('Send {"body": "your message"} (markdown text)')
    if not body.strip():
        raise BadRequest("The message is empty: write something")
    if len(body) > MAX_BODY:
        raise BadRequest(f"The message is too long: {len(body)} characters, at most {MAX_BODY}; "
                         "split it or attach a file to the project instead", status=413, reason="too long")
    return body


def public(row: dict[str, Any], mentions: list[str], display: dict[str, str]) -> dict[str, Any]:
    """A row as the API shows it: ``{id, project_id, path, author: {name, display_name}, time, edited, body, mentions}``."""
    return {"id": row["id"], "project_id": row["project_id"], "path": row["path"] or None,
            "author": {"name": row["author"], "display_name": display.get(row["author"], row["author"])},
            "time": iso(row["time"]), "edited": iso(row["edited"]), "body": row["body"], "mentions": mentions}


class Messages:
    """The chat_messages and chat_mentions tables."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def insert(self, project_id: str, path: str, author_id: int, author: str, body: str,
               mentioned: list[int]) -> int:
        """Store a message and its mentions (one transaction); return its id."""
        with self.store.write() as db:
            cur = db.execute("insert into chat_messages (project_id, path, author_id, author, body, time) "
                             "values (?, ?, ?, ?, ?, ?)", (project_id, path, author_id, author, body, time.time()))
            message_id = int(cur.lastrowid or 0)
            db.conn.executemany("insert or ignore into chat_mentions (message_id, user_id) values (?, ?)",
                                [(message_id, uid) for uid in mentioned])
        return message_id

    def get(self, project_id: str, message_id: int) -> dict[str, Any]:
        """One message row of this project (404 otherwise: ids of other projects are not revealed)."""
        rows = (self.store.query("select * from chat_messages where id = ? and project_id = ?", (message_id, project_id))
                if 0 <= message_id < MAX_ID else [])
        if not rows:
            raise NotFound(f"No such chat message: {message_id}")
        return rows[0]

    def page(self, project_id: str, path: str, before: int | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` messages before id ``before`` (newest page when None), oldest first; and whether more exist."""
        limit = max(1, min(limit, PAGE_MAX))
        rows = self.store.query(
            "select * from chat_messages where project_id = ? and path = ? and id < ? order by id desc limit ?",
            (project_id, path, min(before, MAX_ID) if before is not None else MAX_ID, limit + 1))
        return list(reversed(rows[:limit])), len(rows) > limit

    def mentions_of(self, ids: list[int]) -> dict[int, list[int]]:
        """message id → ids of the users it mentions."""
        out: dict[int, list[int]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.store.query(f"select message_id, user_id from chat_mentions where message_id in ({marks})",
                                      tuple(chunk)):
                out[r["message_id"]].append(r["user_id"])
        return out

    def update(self, row: dict[str, Any], author_id: int, body: str, mentioned: list[int]) -> list[int]:
        """Replace the body (author only, 403 otherwise); return the newly mentioned user ids."""
        if row["author_id"] != author_id:
            raise Forbidden("Only its author may edit a message")
        with self.store.write() as db:
            before = {r[0] for r in db.execute("select user_id from chat_mentions where message_id = ?", (row["id"],))}
            db.execute("update chat_messages set body = ?, edited = ? where id = ?", (body, time.time(), row["id"]))
            db.execute("delete from chat_mentions where message_id = ?", (row["id"],))
            if mentioned:
                db.conn.executemany("insert or ignore into chat_mentions (message_id, user_id) values (?, ?)",
                                    [(row["id"], uid) for uid in mentioned])
        return [uid for uid in mentioned if uid not in before]

    def remove(self, row: dict[str, Any]) -> None:
        """Delete a message and its mentions (the caller decided who may)."""
        with self.store.write() as db:
            db.execute("delete from chat_mentions where message_id = ?", (row["id"],))
            db.execute("delete from chat_messages where id = ?", (row["id"],))

    def move(self, project_id: str, old: str, new: str) -> int:
        """Re-key the chats of a renamed file or folder (and everything under it) to its new path; return the count."""
        # A folder moves every chat below it; substr, not LIKE, so '%' and '_' in names match only themselves.
        where = "project_id = ? and (path = ? or substr(path, 1, ?) = ?)"
        args = (project_id, old, len(old) + 1, old + "/")
        new_path = "? || substr(path, ?)"
        with self.store.write() as db:
            moved = db.execute(f"update chat_messages set path = {new_path} where {where}",
                               (new, len(old) + 1, *args)).rowcount
            # Read markers follow too; a marker already at the new path (an older chat there) keeps the larger.
            db.execute(f"update or ignore chat_reads set path = {new_path} where {where}", (new, len(old) + 1, *args))
            db.execute(f"delete from chat_reads where {where}", args)
        return int(moved or 0)
