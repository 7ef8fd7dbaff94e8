"""Teachers' and admins' user management: list, create, approve, change role, reset password, remove, import.

A teacher manages students only (and creates only students); admins manage everyone.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from salvus_local.accounts import passwords
from salvus_local.accounts import users as user_rows
from salvus_local.accounts.errors import BadRequest, Forbidden
from salvus_local.server.errors import get_json_body

from .me import accounts

bp = Blueprint("accounts", __name__)
MAX_CSV = 1024 * 1024


def _may_manage(target_role: str) -> None:
    """403 unless the requester may manage a user of target_role."""
    if g.identity.user["role"] != "admin" and target_role != "student":
        raise Forbidden("Teachers manage students only; ask an admin")


def _model(row: dict[str, Any], online: set[int]) -> dict[str, Any]:
    return {**user_rows.public(row), "online": row["id"] in online}


def list_users() -> Response:
    """``{users: [{id, name, display_name, role, status, online, created, last_seen}]}``."""
    acc = accounts()
    online = acc.sessions.online()
    return jsonify({"users": [_model(r, online) for r in acc.users.list()]})


def create_user() -> tuple[Response, int]:
    """``{username, display_name?, role?, password?}`` → 201 ``{user, one_time_password?}``."""
    body = get_json_body(required=True) or {}
    role = body.get("role") or "student"
    _may_manage(str(role))
    password, one_time = body.get("password"), None
    if password is None:
        password = one_time = passwords.one_time_password()
    user = accounts().users.create(body.get("username"), role, password, body.get("display_name"),
                                   must_change_password=one_time is not None)
    out: dict[str, Any] = {"user": user_rows.public(user)}
    if one_time:
        out["one_time_password"] = one_time
    return jsonify(out), 201


def patch_user(name: str) -> Response:
    """``{role?, status?: "active", display_name?}``: approve, promote, rename."""
    body = get_json_body(required=True) or {}
    acc = accounts()
    target = acc.users.get(name)
    _may_manage(target["role"])
    if body.get("role") is not None:
        _may_manage(str(body["role"]))
    user = acc.users.update(name, body.get("role"), body.get("status"), body.get("display_name"))
    return jsonify({"user": user_rows.public(user)})


def reset_password(name: str) -> Response:
    """A new one-time password (changed at the next login); ends the user's login sessions."""
    acc = accounts()
    target = acc.users.get(name)
    _may_manage(target["role"])
    one_time = passwords.one_time_password()
    acc.users.set_password(target["id"], one_time, must_change=True)
    acc.sessions.revoke_user(target["id"])
    return jsonify({"one_time_password": one_time})


def delete_user(name: str) -> tuple[str, int]:
    """Remove a user: sessions and tokens end; their projects are kept, archived."""
    acc = accounts()
    target = acc.users.get(name)
    _may_manage(target["role"])
    if target["id"] == g.identity.user["id"]:
        raise BadRequest("You cannot remove yourself")
    acc.users.remove(name)
    return "", 204


def import_users() -> Response:
    """Body text/csv ``username,display_name[,role]`` → ``{created: [...one_time_password], errors: [{line, message}]}``."""
    if request.mimetype not in ("text/csv", "application/csv"):
        raise BadRequest("Send the class list as Content-Type: text/csv, lines of username,display_name[,role]")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_CSV:
        raise BadRequest("A class list is at most 1 MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The class list is not UTF-8 text; save it as CSV UTF-8") from None
    roles = None if g.identity.user["role"] == "admin" else ("student",)
    created, errors = accounts().users.import_csv(text, roles)
    return jsonify({"created": created, "errors": errors})


for rule, view, methods in (
    ("/api/users", list_users, ["GET"]),
    ("/api/users", create_user, ["POST"]),
    ("/api/users/import", import_users, ["POST"]),
    ("/api/users/<name>", patch_user, ["PATCH"]),
    ("/api/users/<name>", delete_user, ["DELETE"]),
    ("/api/users/<name>/reset-password", reset_password, ["POST"]),
):
    bp.add_url_rule(rule, view_func=view, methods=methods)
