"""API tokens: shown once, stored as a SHA-256 hash plus a short prefix for display (as JupyterHub does).

A token is ``slt_`` + 40 random URL-safe characters (240 bits), so a plain SHA-256 is as good as a
slow hash here.  Scopes: ``api`` (every REST route and websocket the user may use) and ``sync``
(git push/pull of the user's projects, plus reading ``/api/me`` and ``/api/projects``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from salvus_local.store.db import Store

from .errors import BadRequest, NotFound

PREFIX = "slt_"
PREFIX_LEN = 8  # "slt_" + 4 characters, shown in lists
SCOPES = ("api", "sync")
MAX_EXPIRES_DAYS = 3650
USE_EVERY = 60.0  # seconds between last_used writes of one token


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of a token (never its value or hash)."""
    return {"id": row["id"], "prefix": row["prefix"], "scope": row["scope"], "note": row["note"] or "",
            "created": row["created"], "expires": row["expires"], "last_used": row["last_used"]}


class Tokens:
    """The api_tokens table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, user_id: int, scope: object = "api", expires_days: object = None,
               note: object = None) -> tuple[str, dict[str, Any]]:
        """Make a token; return (its value, shown only now; its public row)."""
        if scope not in SCOPES:
            raise BadRequest(f"A token scope is one of {', '.join(SCOPES)}, not {scope!r}")
        if expires_days is not None and (isinstance(expires_days, bool) or not isinstance(expires_days, (int, float))
                                         or not 0 < expires_days <= MAX_EXPIRES_DAYS):
            raise BadRequest(f"expires_days is a number of days from 1 to {MAX_EXPIRES_DAYS}, or null for never")
        if note is not None and (not isinstance(note, str) or len(note) > 200):
            raise BadRequest("A token note is text of at most 200 characters")
        token = PREFIX + secrets.token_urlsafe(30)
        now = time.time()
        row = {"user_id": user_id, "prefix": token[:PREFIX_LEN], "hash": _hash(token), "scope": scope,
               "note": note or "", "created": now,
               "expires": now + float(expires_days) * 86400 if expires_days else None}
        with self.store.write() as db:
            row["id"] = db["api_tokens"].insert(row).last_pk
        return token, public({**row, "last_used": None})

    def verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Return (token row, user row) for a valid, unexpired token of a live user, else None."""
        if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 200:
            return None
        digest = _hash(token)
        rows = self.store.query(
            "select t.id as t_id, t.hash as t_hash, t.scope as t_scope, t.expires as t_expires, "
            "t.last_used as t_used, u.* from api_tokens t join users u on u.id = t.user_id "
            "where t.prefix = ? and u.deleted is null", (token[:PREFIX_LEN],))
        now = time.time()
        for row in rows:
            if hmac.compare_digest(row["t_hash"], digest):
                if row["t_expires"] is not None and row["t_expires"] < now:
                    return None
                if row["t_used"] is None or now - row["t_used"] > USE_EVERY:
                    with self.store.write() as db:
                        db.execute("update api_tokens set last_used = ? where id = ?", (now, row["t_id"]))
                tok = {"id": row.pop("t_id"), "scope": row.pop("t_scope"), "expires": row.pop("t_expires")}
                row.pop("t_hash"), row.pop("t_used")
                return tok, row
        return None

    def list(self, user_id: int | None = None) -> list[dict[str, Any]]:
        """Return tokens (of one user, when given) with their user's name, newest first."""
        sql = "select t.*, u.name as user from api_tokens t join users u on u.id = t.user_id"
        rows = self.store.query(sql + (" where t.user_id = ?" if user_id is not None else "") + " order by t.id desc",
                                (user_id,) if user_id is not None else ())
        return [{**public(r), "user": r["user"]} for r in rows]

    def revoke(self, token_id: int, user_id: int | None = None) -> None:
        """Delete a token (only a token of user_id, when given); 404 when there is none."""
        sql = "delete from api_tokens where id = ?" + (" and user_id = ?" if user_id is not None else "")
        with self.store.write() as db:
            cur = db.execute(sql, (token_id, user_id) if user_id is not None else (token_id,))
        if cur.rowcount == 0:
            raise NotFound(f"No such token: {token_id}")
