"""The signed-in user's own routes: /api/me, password change, API tokens, and sign-up with a class code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from salvus_local.accounts import users as user_rows
from salvus_local.accounts.errors import BadRequest, Forbidden, TooManyAttempts
from salvus_local.server.errors import APIError, get_json_body

from .identity import SINGLE_USER

bp = Blueprint("accounts_me", __name__)


def auth() -> Any:
    """The app's Auth."""
    return current_app.extensions["salvus"].auth


def accounts() -> Any:
    """The app's Accounts (multi-user mode), or a 404 in single-user mode."""
    found = auth().accounts
    if found is None:
        raise APIError(404, "There are no accounts in single-user mode; start with --multi-user or --lan")
    return found


def isolation() -> dict[str, Any]:
    """What isolates users' code from each other (filled in by the isolation layer; see config)."""
    config = current_app.extensions["salvus"].config
    info = dict(config.extra.get("isolation") or {})
    info.setdefault("shared_uid", bool(getattr(config, "allow_shared_uid", False)))
    return info


def me() -> Response:
    """``{mode, user, isolation, join_url?}`` for whoever asks (any signed-in user, even pending)."""
    user = g.identity.user or SINGLE_USER
    body: dict[str, Any] = {"mode": "multi" if auth().multi_user else "single", "user": user_rows.public(user),
                            "isolation": isolation()}
    if auth().multi_user and user["role"] in ("admin", "teacher"):
        from .join import join_urls

        body["join_url"] = join_urls()[0]
    return jsonify(body)


def change_password() -> tuple[str, int]:
    """``{old_password, new_password}`` → 204; ends the user's other login sessions."""
    body = get_json_body(required=True) or {}
    acc, identity = accounts(), g.identity
    user = identity.user
    keys = acc.throttle.keys(request.remote_addr or "", user["name"])
    acc.throttle.check(keys)
    if user["password_hash"] and acc.users.verify(user["name"], str(body.get("old_password") or "")) is None:
        acc.throttle.failed(keys)
        raise Forbidden("The old password is wrong")
    new = body.get("new_password")
    if not isinstance(new, str):
        raise BadRequest("Give the new password as new_password")
    acc.users.set_password(user["id"], new, must_change=False)
    acc.sessions.revoke_user(user["id"], keep=identity.session_id)
    return "", 204


def signup() -> tuple[Response, int]:
    """``{username, password, display_name?, class_code}`` → 201 ``{user}``, signed in (pending if approval is on)."""
    acc = accounts()
    body = get_json_body(required=True) or {}
    keys = [f"signup:{request.remote_addr}"]
    acc.throttle.check(keys)  # class codes are short: guessing them is slowed down like passwords
    try:
        user = acc.signup(body.get("username"), body.get("password"), body.get("class_code"), body.get("display_name"))
    except Forbidden:
        acc.throttle.failed(keys)
        raise
    response = jsonify({"user": user_rows.public(user)})
    auth().login(response, user)
    return response, 201


def list_tokens() -> Response:
    """The user's API tokens (never their values)."""
    return jsonify({"tokens": accounts().tokens.list(g.identity.user["id"])})


def create_token() -> tuple[Response, int]:
    """``{scope: api|sync, expires_days?, note?}`` → 201 with the token, shown this once."""
    body = get_json_body() or {}
    token, row = accounts().tokens.create(g.identity.user["id"], body.get("scope", "api"), body.get("expires_days"),
                                          body.get("note"))
    return jsonify({**row, "token": token}), 201


def revoke_token(token_id: int) -> tuple[str, int]:
    """Delete one of the user's tokens (admins: anyone's)."""
    user = g.identity.user
    accounts().tokens.revoke(token_id, None if user["role"] == "admin" else user["id"])
    return "", 204


def _on_too_many(exc: TooManyAttempts) -> Response:
    response = jsonify({"message": exc.message, "reason": exc.reason})
    response.status_code = 429
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


for rule, view, methods in (
    ("/api/me", me, ["GET"]),
    ("/api/me/password", change_password, ["POST"]),
    ("/api/signup", signup, ["POST"]),
    ("/api/tokens", list_tokens, ["GET"]),
    ("/api/tokens", create_token, ["POST"]),
    ("/api/tokens/<int:token_id>", revoke_token, ["DELETE"]),
):
    bp.add_url_rule(rule, view_func=view, methods=methods)


def on_too_many(exc: TooManyAttempts) -> Response:
    """429 JSON with Retry-After (registered on the app)."""
    return _on_too_many(exc)
