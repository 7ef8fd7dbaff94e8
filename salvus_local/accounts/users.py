"""Users: create, find, list, change, remove; password checks with argon2id; CSV class lists."""

from __future__ import annotations

import csv
import io
import threading
import time
from typing import Any

from salvus_local.store.db import Store

from . import passwords
from .errors import BadRequest, Conflict, NotFound

STATUSES = ("active", "pending")
MAX_DISPLAY_NAME = 100


def public(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of a user (never the password hash)."""
    return {"id": row["id"], "name": row["name"], "display_name": row["display_name"] or row["name"],
            "role": row["role"], "status": row["status"], "must_change_password": bool(row["must_change_password"]),
            "created": row["created"], "last_seen": row["last_seen"]}


def _display_name(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_DISPLAY_NAME or any(ord(c) < 32 for c in value):
        raise BadRequest(f"A display name is text of at most {MAX_DISPLAY_NAME} characters on one line")
    return value.strip()


class Users:
    """The users table of one salvus.db."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[int, float] = {}  # user id → when last_seen was last written (in memory)
        self._seen_lock = threading.Lock()

    # Reading
    def find(self, name: str) -> dict[str, Any] | None:
        """Return the live user called name (any case), or None."""
        if not isinstance(name, str):
            return None
        rows = self.store.query("select * from users where name = ? and deleted is null", (name.strip().lower(),))
        return rows[0] if rows else None

    def get(self, name: str) -> dict[str, Any]:
        """Return the live user called name, or raise a 404."""
        user = self.find(name)
        if user is None:
            raise NotFound(f"No such user: {name}")
        return user

    def by_id(self, user_id: int) -> dict[str, Any] | None:
        """Return a live user by id, or None."""
        rows = self.store.query("select * from users where id = ? and deleted is null", (user_id,))
        return rows[0] if rows else None

    def list(self) -> list[dict[str, Any]]:
        """Return every live user, by name."""
        return self.store.query("select * from users where deleted is null order by name")

    def admins(self) -> list[dict[str, Any]]:
        """Return live admins, oldest first."""
        return self.store.query("select * from users where role = 'admin' and deleted is null order by id")

    # Changing
    def create(self, name: str, role: str = "student", password: str | None = None, display_name: object = None,
               status: str = "active", must_change_password: bool = False) -> dict[str, Any]:
        """Create a user; 400 naming the broken rule, 409 when the name is taken."""
        name = passwords.normalize_username(name)
        role = passwords.check_role(role)
        shown = _display_name(display_name)
        hashed = passwords.hash_password(passwords.check_password(password, name)) if password is not None else None
        with self.store.write() as db:
            if db.execute("select 1 from users where name = ? and deleted is null", (name,)).fetchone():
                raise Conflict(f"The username {name!r} is taken; choose another")
            user_id = db["users"].insert({"name": name, "display_name": shown, "role": role, "status": status,
                                          "password_hash": hashed, "must_change_password": int(must_change_password),
                                          "created": time.time()}).last_pk
        return self.by_id(user_id)  # type: ignore[return-value]

    def update(self, name: str, role: object = None, status: object = None,
               display_name: object = None) -> dict[str, Any]:
        """Change a user's role, status (``active`` approves a pending user) or display name."""
        user = self.get(name)
        changes: dict[str, Any] = {}
        if role is not None:
            changes["role"] = passwords.check_role(role)
            if user["role"] == "admin" and role != "admin" and len(self.admins()) == 1:
                raise Conflict("This is the last admin; make another admin first")
        if status is not None:
            if status not in STATUSES:
                raise BadRequest(f"A status is one of {', '.join(STATUSES)}, not {status!r}")
            changes["status"] = status
        if display_name is not None:
            changes["display_name"] = _display_name(display_name)
        if changes:
            with self.store.write() as db:
                db["users"].update(user["id"], changes)
        return self.get(name)

    def set_password(self, user_id: int, password: str, must_change: bool = False) -> None:
        """Replace a user's password (validated), optionally forcing a change at the next login."""
        user = self.by_id(user_id)
        if user is None:
            raise NotFound("No such user")
        hashed = passwords.hash_password(passwords.check_password(password, user["name"]))
        with self.store.write() as db:
            db["users"].update(user_id, {"password_hash": hashed, "must_change_password": int(must_change)})

    def verify(self, name: str, password: str) -> dict[str, Any] | None:
        """Return the user when name and password match (re-hashing an outdated hash), else None."""
        user = self.find(name) if isinstance(name, str) else None
        if not isinstance(password, str) or len(password) > passwords.MAX_PASSWORD:
            return None
        ok, new_hash = passwords.verify_password(user["password_hash"] if user else None, password)
        if not ok or user is None:
            return None
        if new_hash:
            with self.store.write() as db:
                db["users"].update(user["id"], {"password_hash": new_hash})
        return user

    def seen(self, user_id: int, every: float = 60.0) -> None:
        """Record that a user was active now: at most one write per ``every`` seconds and user."""
        now = time.time()
        with self._seen_lock:
            if now - self._seen.get(user_id, 0.0) < every:
                return
            self._seen[user_id] = now
        with self.store.write() as db:
            db.execute("update users set last_seen = ? where id = ?", (now, user_id))

    def remove(self, name: str) -> dict[str, Any]:
        """Remove a user: their login sessions and tokens go; their projects stay, archived (owner kept)."""
        user = self.get(name)
        if user["role"] == "admin" and len(self.admins()) == 1:
            raise Conflict("This is the last admin; make another admin first")
        with self.store.write() as db:
            db.execute("delete from login_sessions where user_id = ?", (user["id"],))
            db.execute("delete from api_tokens where user_id = ?", (user["id"],))
            db.execute("delete from project_members where user_id = ?", (user["id"],))
            db.execute("update projects set archived = 1 where owner_id = ?", (user["id"],))
            db["users"].update(user["id"], {"deleted": time.time()})
        return user

    def import_csv(self, text: str, roles: tuple[str, ...] | None = None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Create students from CSV lines ``username,display_name[,role]`` with one-time passwords.

        Returns (created [{username, display_name, role, one_time_password}], errors [{line, message}]);
        each line is created whole or not at all.  A first line ``username,...`` is a header.
        ``roles`` limits the roles a line may give (a teacher imports students only).
        """
        created: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [c.strip() for c in row]
            if not any(cells) or (number == 1 and cells[0].lower() in ("username", "user", "name")):
                continue
            try:
                if len(cells) > 3:
                    raise BadRequest("A line has at most 3 fields: username,display_name,role")
                role = cells[2].lower() if len(cells) > 2 and cells[2] else "student"
                if roles is not None and role not in roles:
                    raise BadRequest(f"You may import only {', '.join(roles)} accounts, not {role!r}")
                otp = passwords.one_time_password()
                user = self.create(cells[0], role, otp, cells[1] if len(cells) > 1 else "", must_change_password=True)
            except (BadRequest, Conflict) as exc:
                errors.append({"line": number, "message": exc.message})
                continue
            created.append({"username": user["name"], "display_name": user["display_name"] or user["name"],
                            "role": user["role"], "one_time_password": otp})
        return created, errors
