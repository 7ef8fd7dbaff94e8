"""Hub side of ``salvus-local sync login``: the device-code grant (RFC 8628) and the approve page.

    POST   /api/sync/device           {machine?}            → {device_code, user_code, verification_uri,
                                                               verification_uri_complete, interval, expires_in}
    POST   /api/sync/device/token     {device_code}         → 200 {access_token, token_type, scope, user}
                                                               or 400 {error: authorization_pending | slow_down |
                                                               access_denied | expired_token, message}
    GET    /api/sync/device/pending?user_code=C             → {user_code, machine, expires_in} (signed in)
    POST   /api/sync/device/approve   {user_code, allow?}   → {machine} (signed in; a sync token may not)
    DELETE /api/sync/token                                  → 204: revokes the token the request carries
    GET    /sync/device[?code=C]                            the approve page

The first two need no sign-in (the laptop has no credential yet); bodies are JSON, not RFC 8628's
form encoding, like the rest of the API.  Everything else runs after the usual auth.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request

from salvus_local.accounts.devices import DeviceGrants, display
from salvus_local.accounts.errors import NotFound
from salvus_local.server import services
from salvus_local.server.errors import APIError, get_json_body

bp = Blueprint("sync_device", __name__)
PUBLIC = ("/api/sync/device", "/api/sync/device/token")
MESSAGES = {
    "authorization_pending": "Waiting for you to approve this device on the hub",
    "slow_down": "Polling too fast: wait the interval between polls",
    "access_denied": "The sign-in was refused on the hub",
    "expired_token": "This sign-in expired or was used already: run `salvus-local sync login` again",
}


def grants() -> DeviceGrants:
    """The hub's pending device sign-ins (404 on a server without accounts)."""
    found = getattr(services(), "sync_devices", None)
    if found is None:
        raise APIError(404, "This server has no accounts (single-user mode): sign-in to sync needs a hub started "
                            "with --multi-user")
    return found


def _approve_url() -> str:
    return request.host_url.rstrip("/") + request.script_root + "/sync/device"


@bp.post("/api/sync/device")
def start() -> Response:
    """Start a device sign-in: the codes, where to approve, how often to poll."""
    body = get_json_body() or {}
    grant = grants().start(body.get("machine"), request.remote_addr or "")
    code = display(grant.user_code)
    return jsonify({"device_code": grant.device_code, "user_code": code, "verification_uri": _approve_url(),
                    "verification_uri_complete": f"{_approve_url()}?code={code}", "interval": int(grant.interval),
                    "expires_in": int(grant.expires - grant.created)})


@bp.post("/api/sync/device/token")
def token() -> Response:
    """Poll a device sign-in: the token once approved, else an RFC 8628 error (400)."""
    body = get_json_body(required=True) or {}
    outcome, data = grants().poll(body.get("device_code"))
    if outcome != "token":
        response = jsonify({"error": outcome, "error_description": MESSAGES[outcome], "message": MESSAGES[outcome],
                            "reason": outcome, **data})
        response.status_code = 400
        return response
    user = services().auth.accounts.users.by_id(data["user_id"]) or {}
    return jsonify({"access_token": data["access_token"], "token_type": "bearer", "scope": "sync",
                    "user": user.get("name")})


@bp.get("/api/sync/device/pending")
def pending() -> Response:
    """What a user code would approve (the approve page shows the machine before asking)."""
    devices = grants()
    keys = _guess_keys()
    try:
        grant = devices.find(request.args.get("user_code"))
    except NotFound:
        services().auth.accounts.throttle.failed(keys)  # else a free oracle for guessing codes
        raise
    return jsonify({"user_code": display(grant.user_code), "machine": grant.machine,
                    "expires_in": max(0, int(grant.expires - time.time()))})


@bp.post("/api/sync/device/approve")
def approve() -> Response:
    """Approve (allow: true, the default) or refuse a device sign-in as the signed-in user."""
    body = get_json_body(required=True) or {}
    devices = grants()  # 404 first on a single-user server (it has no accounts to approve with)
    user = _signed_in_user()
    acc = services().auth.accounts
    keys = _guess_keys()
    try:
        grant = devices.approve(body.get("user_code"), user["id"], allow=body.get("allow", True) is not False)
    except NotFound:
        acc.throttle.failed(keys)
        raise
    return jsonify({"machine": grant.machine, "allowed": grant.user_id is not None})


@bp.delete("/api/sync/token")
def revoke_own() -> tuple[str, int]:
    """Revoke the API token this request was made with (`sync logout`)."""
    identity = g.get("identity")
    token_id = getattr(identity, "token_id", None)
    if getattr(identity, "method", None) != "apitoken" or token_id is None:
        raise APIError(400, "Send the token to revoke as 'Authorization: token …'")
    services().auth.accounts.tokens.revoke(token_id)
    return "", 204


def _guess_keys() -> list[str]:
    """The throttle keys of the signed-in user's code lookups, checked now (429 while they must wait)."""
    throttle = services().auth.accounts.throttle
    keys = throttle.keys(request.remote_addr or "", f"device:{_signed_in_user()['name']}")
    throttle.check(keys)  # user codes are short: guessing them is slowed down like passwords
    return keys


def _signed_in_user() -> dict[str, Any]:
    identity = g.get("identity")
    user = getattr(identity, "user", None)
    if not user or not getattr(identity, "method", None):
        raise APIError(403, "Sign in to the hub first")
    return user


def init_app(app: Flask) -> None:
    """Keep the hub's device grants (multi-user mode) and let the laptop's two calls through without sign-in."""
    from salvus_local.server.auth import register_public

    svc = app.extensions["salvus"]
    accounts = getattr(svc.auth, "accounts", None)
    svc.sync_devices = DeviceGrants(accounts.tokens) if accounts is not None else None
    register_public(app, lambda: request.method == "POST" and request.path in PUBLIC)
    app.register_blueprint(bp)
