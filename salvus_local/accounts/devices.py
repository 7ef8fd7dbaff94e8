"""Device-code sign-in for ``salvus-local sync login`` (OAuth 2.0 Device Authorization Grant, RFC 8628).

A laptop asks for a grant (``start``): it gets a long secret ``device_code`` it keeps and a short
``user_code`` it shows.  The person signs in to the hub in a browser and approves that user code
(``approve``); the laptop's next ``poll`` then receives a new API token of scope ``sync`` for the
approving user.  Grants live in memory (the hub is one process): they last ``EXPIRES`` seconds,
and a restart only makes a pending ``sync login`` start again.  The token is made at the first
poll after approval and handed out once, so its value never waits in memory.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .errors import BadRequest, NotFound, TooManyAttempts

EXPIRES = 600  # seconds a grant waits for approval (RFC 8628 leaves it to the server)
INTERVAL = 5  # seconds between polls (RFC 8628's default)
MAX_PENDING = 1000  # grants waiting at once: a flood of starts cannot fill the memory
MAX_PER_ADDRESS = 20  # ...nor, from one address (no sign-in is needed to start), lock everybody else out
# No 0/O, 1/I/L, U/V: a code read aloud or off a phone is typed right (RFC 8628 §6.1).
ALPHABET = "BCDFGHJKMNPQRSTWXZ23456789"
CODE_LEN = 8  # 26^8 ≈ 2·10^11 codes; guesses are throttled per user, and a grant lives 10 minutes


@dataclass
class Grant:
    """One device sign-in waiting for (or given) approval."""

    device_code: str
    user_code: str
    machine: str
    created: float
    expires: float
    last_poll: float = 0.0
    interval: float = INTERVAL
    user_id: int | None = None  # set when approved
    denied: bool = False
    address: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def normalize(user_code: object) -> str:
    """A user code as typed ("bcdf-ghjk", "BCDF GHJK") → its canonical form "BCDFGHJK"."""
    if not isinstance(user_code, str):
        return ""
    return "".join(c for c in user_code.upper() if c.isascii() and c.isalnum())  # compare_digest takes ASCII only


def display(user_code: str) -> str:
    """"BCDFGHJK" → "BCDF-GHJK" (how it is printed and shown)."""
    return f"{user_code[:4]}-{user_code[4:]}"


class DeviceGrants:
    """Pending device sign-ins of one hub."""

    def __init__(self, tokens: Any) -> None:
        self.tokens = tokens  # accounts.tokens.Tokens: makes the sync token on approval
        self._grants: dict[str, Grant] = {}  # by device_code
        self._lock = threading.Lock()

    def start(self, machine: object = None, address: str = "") -> Grant:
        """A new grant for a device naming itself machine (shown on the approve page), asked from address."""
        # Control and format characters (a right-to-left override) would let the name rewrite the page around it.
        name = "".join(c for c in machine if unicodedata.category(c)[0] not in "CZ" or c == " ") \
            if isinstance(machine, str) else ""
        name = name.strip()[:80] or "a device"
        now = time.time()
        with self._lock:
            self._expire(now)
            if sum(g.address == address for g in self._grants.values()) >= MAX_PER_ADDRESS:
                raise TooManyAttempts(min(g.expires for g in self._grants.values() if g.address == address) - now)
            if len(self._grants) >= MAX_PENDING:
                raise BadRequest("Too many sign-ins are waiting for approval; try again in a few minutes")
            codes = {g.user_code for g in self._grants.values()}
            user_code = ""
            while not user_code or user_code in codes:
                user_code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))
            grant = Grant(secrets.token_urlsafe(32), user_code, name, now, now + EXPIRES, address=address)
            self._grants[grant.device_code] = grant
        return grant

    def find(self, user_code: object) -> Grant:
        """The pending grant of a user code; NotFound (one message for wrong, used and expired codes)."""
        code = normalize(user_code)
        with self._lock:
            self._expire(time.time())
            for grant in self._grants.values():
                if hmac.compare_digest(grant.user_code, code) and grant.user_id is None and not grant.denied:
                    return grant
        raise NotFound("No sign-in is waiting for that code: check it, or run `salvus-local sync login` again "
                       "(a code lasts 10 minutes and works once)")

    def approve(self, user_code: object, user_id: int, allow: bool = True) -> Grant:
        """Approve (or deny) the device showing user_code for the signed-in user user_id."""
        grant = self.find(user_code)
        with self._lock:
            if allow:
                grant.user_id = user_id
            else:
                grant.denied = True
        return grant

    def poll(self, device_code: object) -> tuple[str, dict[str, Any]]:
        """("token", {access_token, token_type, scope, user_id}) or (RFC 8628 error code, {}).

        Errors: authorization_pending, slow_down (polled faster than the interval; the interval
        grows by 5 s), access_denied, expired_token (also for an unknown or already used code).
        """
        now = time.time()
        with self._lock:
            grant = self._grants.get(device_code) if isinstance(device_code, str) else None
            if grant is None or grant.expires < now:
                self._grants.pop(device_code, None) if isinstance(device_code, str) else None
                return "expired_token", {}
            if grant.denied:
                del self._grants[device_code]
                return "access_denied", {}
            too_soon = now - grant.last_poll < grant.interval - 0.5  # half a second of network jitter
            grant.last_poll = now
            if grant.user_id is None:
                if too_soon:
                    grant.interval += 5
                    return "slow_down", {"interval": grant.interval}
                return "authorization_pending", {}
            del self._grants[device_code]  # handed out once
        token, row = self.tokens.create(grant.user_id, "sync", None, f"sync login from {grant.machine}")
        return "token", {"access_token": token, "token_type": "bearer", "scope": "sync", "token_id": row["id"],
                         "user_id": grant.user_id}

    def _expire(self, now: float) -> None:
        for code in [c for c, g in self._grants.items() if g.expires < now]:
            del self._grants[code]
