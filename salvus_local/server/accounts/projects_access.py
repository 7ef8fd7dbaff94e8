"""What the projects API needs from accounts: who owns a project, which ones a user sees, who may open folders.

In multi-user mode only admins may open a server folder in place or create a project at a path, and
others clone only over the network (http, https, git, ssh): a ``file://`` or plain path clone could
copy another user's project or any folder the server can read.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, g

from salvus_local.accounts.errors import Forbidden
from salvus_local.store.errors import Conflict

_NETWORK_URL = re.compile(r"^(?:https?|git|ssh)://[^/\s]+/\S*$|^[\w.-]+@[\w.-]+:[^\s]+$")


def _auth() -> Any:
    return current_app.extensions["salvus"].auth


def annotate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the projects the requester may see, each with ``owner`` (username) and ``role``."""
    auth = _auth()
    if not auth.multi_user:
        return [{**r, "owner": "owner", "role": "owner"} for r in rows]
    acc, user = auth.accounts, g.identity.user
    roles = acc.members.roles(user)
    homes = acc.home_owners()
    names = {u["id"]: u["name"] for u in acc.store.query("select id, name from users")}
    first = acc.first_admin_id()
    out = []
    for row in rows:
        if roles is not None and row["id"] not in roles:
            continue
        owner_id = row.get("owner_id") if row.get("owner_id") is not None else first
        role = "owner" if owner_id == user["id"] else (roles or {}).get(row["id"], "admin")
        out.append({**row, "owner": names.get(owner_id), "role": role, "home": row["id"] in homes})
    return out


def check_delete(project_id: str) -> None:
    """409 when the project is someone's home project (it holds their scratchpad and ``/api/...``)."""
    auth = _auth()
    if not auth.multi_user:
        return
    owner = auth.accounts.home_owners().get(project_id)
    if owner is not None:
        raise Conflict(f"This is {owner}'s home project and cannot be deleted; archive it, "
                       "or remove the user (their projects are then archived)")


def check_create(body: dict[str, Any]) -> None:
    """403 when a non-admin asks to open or create at a server path, or to clone a local URL."""
    auth = _auth()
    if not auth.multi_user or g.identity.user["role"] == "admin":
        return
    if body.get("open") or body.get("path"):
        raise Forbidden("Only an admin may open a folder of the server as a project")
    if body.get("clone") and not _NETWORK_URL.match(str(body["clone"])):
        raise Forbidden("Clone from a network URL (https://, git://, ssh://); local paths are for admins")


def created(project_id: str) -> None:
    """Record the requester as the new project's owner."""
    auth = _auth()
    if auth.multi_user:
        auth.accounts.members.set_owner(project_id, g.identity.user["id"])


def owner_recorder() -> Any:
    """A function that records the requester as owner of a project, usable later from a job thread."""
    auth = _auth()
    if not auth.multi_user:
        return lambda project_id: None
    members, user_id = auth.accounts.members, g.identity.user["id"]
    return lambda project_id: members.set_owner(project_id, user_id)
