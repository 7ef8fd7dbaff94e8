"""Accounts for multi-user mode: users, login sessions, API tokens, project roles, throttling, joining.

No Flask here: the web server (salvus_local/server/accounts, server/auth.py) and the CLI
(``salvus-local user …``, ``token …``) both use :class:`Accounts` on a data dir's salvus.db, so the
CLI works with the server stopped or running (SQLite WAL, one short write transaction each).
"""

from __future__ import annotations

import getpass
import hmac
import os
import secrets
import threading
from typing import Any

from salvus_local.store.db import Store

from . import passwords
from .errors import BadRequest, Forbidden
from .members import Members
from .sessions import LoginSessions
from .throttle import Throttle
from .tokens import Tokens
from .users import Users

__all__ = ["Accounts"]

JOIN_KEY = "accounts.join"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def default_admin_name() -> str:
    """The first admin's name: the login name of the person at the keyboard, or ``admin``."""
    try:
        return passwords.normalize_username(os.environ.get("USER") or getpass.getuser())
    except (passwords.BadRequest, KeyError, OSError):
        return "admin"


class Accounts:
    """Everything about users of one data dir."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.users = Users(store)
        self.sessions = LoginSessions(store)
        self.tokens = Tokens(store)
        self.members = Members(store, self.first_admin_id)
        self.throttle = Throttle()
        self._home_lock = threading.Lock()

    def first_admin_id(self) -> int | None:
        """Return the id of the oldest live admin (owner of projects that have none)."""
        admins = self.users.admins()
        return admins[0]["id"] if admins else None

    def ensure_admin(self, name: str | None = None) -> dict[str, Any]:
        """Return the first admin, creating it (without a password: the token URL signs it in) on first start."""
        admins = self.users.admins()
        if admins:
            return admins[0]
        return self.users.create(name or default_admin_name(), role="admin", display_name="Administrator")

    # Joining with a class code
    def join_settings(self) -> dict[str, Any]:
        """Return {class_code, approval_required}, making a class code on first use."""
        value = self.store.get_setting(JOIN_KEY)
        if not isinstance(value, dict) or not value.get("class_code"):
            value = {"class_code": self._new_code(), "approval_required": False}
            self.store.set_setting(JOIN_KEY, value)
        return value

    def update_join(self, approval_required: object = None, regenerate_code: object = None) -> dict[str, Any]:
        """Change whether sign-ups wait for approval, and/or make a new class code."""
        value = dict(self.join_settings())
        if approval_required is not None:
            if not isinstance(approval_required, bool):
                raise BadRequest("approval_required must be true or false")
            value["approval_required"] = approval_required
        if regenerate_code is not None:
            if not isinstance(regenerate_code, bool):
                raise BadRequest("regenerate_code must be true or false")
            if regenerate_code:
                value["class_code"] = self._new_code()
        self.store.set_setting(JOIN_KEY, value)
        return value

    def signup(self, username: object, password: object, class_code: object,
               display_name: object = None) -> dict[str, Any]:
        """Create a student with the class code; pending when approval is required; 403 on a wrong code."""
        settings = self.join_settings()
        code = class_code.strip().upper() if isinstance(class_code, str) else ""
        if not hmac.compare_digest(code.encode(), settings["class_code"].encode()):
            raise Forbidden("That class code is not valid; ask your teacher for the current one")
        if not isinstance(password, str):
            raise BadRequest("Choose a password")
        status = "pending" if settings["approval_required"] else "active"
        return self.users.create(username, "student", password, display_name, status=status)  # type: ignore[arg-type]

    @staticmethod
    def _new_code() -> str:
        return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))

    # Home projects: what ``/api/...`` and ``/`` mean for a user in multi-user mode
    def home_owners(self) -> dict[str, str]:
        """Map each home project id to its user's name (the first admin's home is ``default``)."""
        from salvus_local.store.projects import DEFAULT_ID

        homes = {r["home_project"]: r["name"] for r in self.store.query(
            "select home_project, name from users where home_project is not null and deleted is null")}
        first = self.first_admin_id()
        if first is not None:
            homes[DEFAULT_ID] = next((r["name"] for r in self.store.query(
                "select name from users where id = ?", (first,))), "admin")
        return homes

    def home_project(self, user: dict[str, Any], projects: Any) -> str:
        """Return the id of user's home project, creating it on first use (the first admin's is ``default``)."""
        from salvus_local.store.errors import NotFound
        from salvus_local.store.projects import DEFAULT_ID

        if user["id"] == self.first_admin_id():
            return DEFAULT_ID
        with self._home_lock:
            row = self.users.by_id(user["id"]) or user
            if row.get("home_project"):
                try:
                    projects.get(row["home_project"])
                    return row["home_project"]
                except NotFound:
                    pass  # deleted: make a new one
            project = projects.create(f"{row['display_name'] or row['name']} (home)")
            self.members.set_owner(project["id"], user["id"])
            with self.store.write() as db:
                db["users"].update(user["id"], {"home_project": project["id"]})
            return project["id"]
