"""Server-side login sessions: a random id in the browser's (signed) cookie, only its SHA-256 in SQLite.

A session lives while it is used: one idle for ``MAX_IDLE`` seconds is gone.  Revoking deletes the
row, so a copied cookie stops working at once (logout, password change, teacher reset, user removed).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from salvus_local.store.db import Store

MAX_IDLE = 30 * 24 * 3600
TOUCH_EVERY = 60.0  # seconds between last_seen writes of one session (a write per request would be waste)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class LoginSessions:
    """The login_sessions table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, user_id: int, address: str = "", agent: str = "") -> str:
        """Start a session for user_id; return its id (goes only into the signed cookie)."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        with self.store.write() as db:
            db["login_sessions"].insert({"id_hash": _hash(session_id), "user_id": user_id, "created": now,
                                         "last_seen": now, "address": address[:64], "agent": agent[:200]})
        return session_id

    def lookup(self, session_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Return (session, user) for a live session of a live user, else None; records activity."""
        rows = self.store.query(
            "select s.id_hash as s_id, s.last_seen as s_seen, u.* from login_sessions s join users u "
            "on u.id = s.user_id where s.id_hash = ? and u.deleted is null", (_hash(session_id),))
        if not rows:
            return None
        row = rows[0]
        now = time.time()
        if now - row["s_seen"] > MAX_IDLE:
            self.revoke(session_id)
            return None
        if now - row["s_seen"] > TOUCH_EVERY:
            with self.store.write() as db:
                db.execute("update login_sessions set last_seen = ? where id_hash = ?", (now, row["s_id"]))
                db.execute("update users set last_seen = ? where id = ?", (now, row["id"]))
        session = {"id_hash": row.pop("s_id"), "last_seen": row.pop("s_seen")}
        return session, row

    def alive(self, session_id: str) -> bool:
        """Tell whether a session still exists (no activity recorded: open websockets are re-checked with this)."""
        return bool(self.store.query("select 1 from login_sessions where id_hash = ?", (_hash(session_id),)))

    def revoke(self, session_id: str) -> None:
        """End one session."""
        with self.store.write() as db:
            db.execute("delete from login_sessions where id_hash = ?", (_hash(session_id),))

    def revoke_user(self, user_id: int, keep: str | None = None) -> int:
        """End every session of a user except ``keep``; return how many ended."""
        with self.store.write() as db:
            cur = db.execute("delete from login_sessions where user_id = ? and id_hash != ?",
                             (user_id, _hash(keep) if keep else ""))
            return cur.rowcount

    def online(self, within: float = 300.0) -> set[int]:
        """Return ids of users with a session used in the last ``within`` seconds."""
        since = time.time() - within - TOUCH_EVERY
        return {r["user_id"] for r in self.store.query(
            "select distinct user_id from login_sessions where last_seen > ?", (since,))}
