"""Who may do what in a project: its owner, collaborators (editor, viewer), and admins.

Roles rank viewer < editor < owner < admin.  A project without an owner (made in single-user days,
or the default project) belongs to the first admin.  A user with no role in a project must not
learn that it exists: the caller answers 404 exactly as for an unknown project.
"""

from __future__ import annotations

from typing import Any

from salvus_local.store.db import Store

from .errors import BadRequest, NotFound

RANK = {"viewer": 1, "editor": 2, "owner": 3, "admin": 4}
MEMBER_ROLES = ("editor", "viewer")


def at_least(role: str | None, needed: str) -> bool:
    """Tell whether role ranks at least as high as needed."""
    return RANK.get(role or "", 0) >= RANK[needed]


class Members:
    """Project owners (projects.owner_id) and the project_members table."""

    def __init__(self, store: Store, first_admin: Any) -> None:
        self.store = store
        self._first_admin = first_admin  # () -> id of the first admin, or None

    def owner_id(self, project_id: str) -> int | None:
        """Return the owner's user id (the first admin for unowned projects)."""
        rows = self.store.query("select owner_id from projects where id = ?", (project_id,))
        owner = rows[0]["owner_id"] if rows else None
        return owner if owner is not None else self._first_admin()

    def role(self, user: dict[str, Any], project_id: str) -> str | None:
        """Return user's role in a project: admin, owner, editor, viewer, or None."""
        if user["role"] == "admin":
            return "admin"
        if self.owner_id(project_id) == user["id"]:
            return "owner"
        rows = self.store.query("select role from project_members where project_id = ? and user_id = ?",
                                (project_id, user["id"]))
        return rows[0]["role"] if rows else None

    def roles(self, user: dict[str, Any]) -> dict[str, str] | None:
        """Return {project_id: role} of every project user may see; None for admins (all of them)."""
        if user["role"] == "admin":
            return None
        first = self._first_admin()
        owned = self.store.query("select id from projects where coalesce(owner_id, ?) = ?", (first, user["id"]))
        shared = self.store.query("select project_id, role from project_members where user_id = ?", (user["id"],))
        return {**{r["project_id"]: r["role"] for r in shared}, **{r["id"]: "owner" for r in owned}}

    def set_owner(self, project_id: str, user_id: int) -> None:
        """Record who owns a project."""
        with self.store.write() as db:
            db.execute("update projects set owner_id = ? where id = ?", (user_id, project_id))

    def list(self, project_id: str) -> list[dict[str, Any]]:
        """Return the owner and the collaborators: [{name, display_name, role}]."""
        out = []
        owner = self.owner_id(project_id)
        if owner is not None:
            out += [{"name": r["name"], "display_name": r["display_name"] or r["name"], "role": "owner"}
                    for r in self.store.query("select * from users where id = ?", (owner,))]
        rows = self.store.query("select u.name, u.display_name, m.role from project_members m join users u "
                                "on u.id = m.user_id where m.project_id = ? and u.deleted is null order by u.name",
                                (project_id,))
        return out + [{"name": r["name"], "display_name": r["display_name"] or r["name"], "role": r["role"]}
                      for r in rows]

    def put(self, project_id: str, user: dict[str, Any], role: object) -> None:
        """Make user an editor or viewer of the project."""
        if role not in MEMBER_ROLES:
            raise BadRequest(f"A collaborator's role is editor or viewer, not {role!r}")
        if self.owner_id(project_id) == user["id"]:
            raise BadRequest(f"{user['name']} owns this project already")
        with self.store.write() as db:
            db["project_members"].upsert({"project_id": project_id, "user_id": user["id"], "role": role},
                                         pk=("project_id", "user_id"))

    def remove(self, project_id: str, user: dict[str, Any]) -> None:
        """Take a collaborator off the project; 404 when they were not on it."""
        with self.store.write() as db:
            cur = db.execute("delete from project_members where project_id = ? and user_id = ?",
                             (project_id, user["id"]))
        if cur.rowcount == 0:
            raise NotFound(f"{user['name']} is not a collaborator of this project")
