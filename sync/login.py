"""The laptop side of ``salvus-local sync login``: the device-code grant (RFC 8628) against a hub.

``device_login`` asks the hub for a code, shows it with the approve page's address (and opens a
browser when this machine has one), then polls until the person approved it on the hub, refused
it, or the code expired.  Every wait is bounded; nothing here ever prompts on the terminal.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

# One answer from the hub; a busy 2-core hub took over 30 s (the login then said the hub was unreachable).
HTTP_TIMEOUT = 120.0
UNREACHABLE_FOR = 120.0  # seconds polls may fail in a row (a hub restarting) before login gives up


class LoginError(Exception):
    """The sign-in did not complete; ``message`` is one line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _post(origin: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    import requests

    headers = {"Authorization": f"token {token}"} if token else {}
    try:
        return requests.post(f"{origin}{path}", json=body, headers=headers, timeout=HTTP_TIMEOUT)
    except requests.RequestException as exc:
        raise LoginError(f"cannot reach {origin}: {type(exc).__name__} (is the hub running? check the URL)") from None


def can_open_browser() -> bool:
    """True when a browser window can appear here (a desktop session), never a text browser in this terminal."""
    if os.environ.get("SALVUS_SYNC_NO_BROWSER"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def device_login(origin: str, machine: str, show: Callable[[str], None], open_browser: bool = True,
                 sleep: Callable[[float], None] = time.sleep) -> tuple[str, str]:
    """Sign this machine in to the hub at origin; (token, user name). LoginError on refusal or expiry."""
    r = _post(origin, "/api/sync/device", {"machine": machine})
    if r.status_code == 404:
        raise LoginError(f"{origin} does not offer sign-in (not a salvus-local hub in --multi-user mode?); "
                         "make a sync token there and use `--token`")
    if r.status_code != 200:
        raise LoginError(f"{origin} refused to start a sign-in (HTTP {r.status_code}): {_message(r)}")
    grant = r.json()
    show(f"To let {machine} sync as you, open {grant['verification_uri']}")
    show(f"and enter the code {grant['user_code']} (or open {grant['verification_uri_complete']})")
    if open_browser and can_open_browser():
        import webbrowser

        try:
            webbrowser.open(grant["verification_uri_complete"])
        except Exception:  # no browser after all: the printed address is enough
            pass
    show("Waiting for you to approve it there (Ctrl-C to stop)…")
    interval = float(grant.get("interval") or 5)
    deadline = time.monotonic() + float(grant.get("expires_in") or 600)
    unreachable_since: float | None = None
    while time.monotonic() < deadline:
        sleep(interval)
        try:
            r = _post(origin, "/api/sync/device/token", {"device_code": grant["device_code"]})
        except LoginError:
            # The hub restarting (it keeps pending sign-ins), the Wi-Fi flickering: keep trying a while.
            unreachable_since = unreachable_since or time.monotonic()
            if time.monotonic() - unreachable_since > UNREACHABLE_FOR:
                raise
            continue
        unreachable_since = None
        if r.status_code == 200:
            data = r.json()
            return data["access_token"], data.get("user") or ""
        error = (r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}).get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5
            continue
        if error == "access_denied":
            raise LoginError(f"the sign-in was refused on {origin}")
        if error == "expired_token":
            break
        raise LoginError(f"{origin} answered HTTP {r.status_code}: {_message(r)}")
    raise LoginError(f"the code expired before it was approved: run `salvus-local sync login {origin}` again")


def check_token(origin: str, token: str) -> str:
    """The user name a token signs in as; LoginError when the hub refuses it or cannot be reached."""
    import requests

    try:
        r = requests.get(f"{origin}/api/me", headers={"Authorization": f"token {token}"}, timeout=HTTP_TIMEOUT)
    except requests.RequestException as exc:
        raise LoginError(f"cannot reach {origin}: {type(exc).__name__}") from None
    if r.status_code != 200:
        raise LoginError(f"{origin} refused the token (HTTP {r.status_code}): make a new one on its Settings page, "
                         f"or run `salvus-local sync login {origin}` without --token")
    body = r.json() if isinstance(r.json(), dict) else {}
    return (body.get("user") or {}).get("name") or ""


def revoke(origin: str, token: str) -> str | None:
    """Revoke the token on the hub; None when done (or already invalid), else why it could not be."""
    import requests

    try:
        r = requests.delete(f"{origin}/api/sync/token", headers={"Authorization": f"token {token}"}, timeout=HTTP_TIMEOUT)
    except requests.RequestException as exc:
        return f"cannot reach {origin} ({type(exc).__name__})"
    if r.status_code in (204, 401):
        return None
    return f"{origin} answered HTTP {r.status_code}: {_message(r)}"


def _message(r: Any) -> str:
    try:
        return str(r.json().get("message") or r.reason)
    except ValueError:
        return str(r.reason)
