"""Device-code sign-in for ``salvus-local sync login`` (OAuth 2.0 Device Authorization Grant, RFC 8628).

A laptop asks for a grant (``start``): it gets a long secret ``device_code`` it keeps and a short
``user_code`` it shows.  The person signs in to the hub in a browser and approves that user code
(``approve``); the laptop's next ``poll`` then receives a new API token of scope ``sync`` for the
approving user.  Grants are kept in SQLite (table ``sync_device_grants``), so a hub restarted
between the code being printed and its approval still finishes the sign-in; they last ``EXPIRES``
seconds.  Both codes are stored only as SHA-256 hashes (a copy of the database approves nothing).
The token is made at the first poll after approval and handed out once, so its value is never stored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .errors import BadRequest, NotFound, TooManyAttempts

EXPIRES = 600  # seconds a grant waits for approval (RFC 8628 leaves it to the server)
INTERVAL = 5  # seconds between polls (RFC 8628's default)
MAX_PENDING = 1000  # grants waiting at once: a flood of starts cannot fill the database
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


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class DeviceGrants:
    """Pending device sign-ins of one hub (rows of sync_device_grants)."""

    def __init__(self, tokens: Any) -> None:
        self.tokens = tokens  # accounts.tokens.Tokens: makes the sync token on approval
        self.store = tokens.store

    def start(self, machine: object = None, address: str = "") -> Grant:
        """A new grant for a device naming itself machine (shown on the approve page), asked from address."""
        # Control and format characters (a right-to-left override) would let the name rewrite the page around it.
        name = "".join(c for c in machine if unicodedata.category(c)[0] not in "CZ" or c == " ") \
            if isinstance(machine, str) else ""
        name = name.strip()[:80] or "a device"
        now = time.time()
        with self.store.write() as db:
            self._expire(db, now)
            count, first = db.execute("select count(*), min(expires) from sync_device_grants where address = ?",
                                      (address,)).fetchone()
            if count >= MAX_PER_ADDRESS:
                raise TooManyAttempts(first - now)
            if db.execute("select count(*) from sync_device_grants").fetchone()[0] >= MAX_PENDING:
                raise BadRequest("Too many sign-ins are waiting for approval; try again in a few minutes")
            while True:
                user_code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))
                if not db.execute("select 1 from sync_device_grants where user_hash = ?",
                                  (_hash(user_code),)).fetchone():
                    break
            grant = Grant(secrets.token_urlsafe(32), user_code, name, now, now + EXPIRES, address=address)
            db["sync_device_grants"].insert({"device_hash": _hash(grant.device_code), "user_hash": _hash(user_code),
                                             "machine": name, "address": address, "created": now,
                                             "expires": grant.expires,
                                             "last_poll": 0.0, "interval": float(INTERVAL), "denied": 0})
        return grant

    def find(self, user_code: object) -> Grant:
        """The pending grant of a user code; NotFound (one message for wrong, used and expired codes)."""
        code = normalize(user_code)
        # Looked up by hash: the time a lookup takes says nothing about how close a guess was.
        rows = self.store.query("select * from sync_device_grants where user_hash = ? and expires >= ? "
                                "and user_id is null and denied = 0", (_hash(code), time.time()))
        if not code or not rows:
            raise NotFound("No sign-in is waiting for that code: check it, or run `salvus-local sync login` again "
                           "(a code lasts 10 minutes and works once)")
        return _grant(rows[0], user_code=code)

    def approve(self, user_code: object, user_id: int, allow: bool = True) -> Grant:
        """Approve (or deny) the device showing user_code for the signed-in user user_id."""
        grant = self.find(user_code)
        with self.store.write() as db:
            changed = db.execute("update sync_device_grants set user_id = ?, denied = ? where user_hash = ? "
                                 "and user_id is null and denied = 0",
                                 (user_id if allow else None, 0 if allow else 1, _hash(grant.user_code))).rowcount
        if not changed:  # approved or refused by someone else in between
            return self.find(user_code)
        grant.user_id, grant.denied = (user_id, False) if allow else (None, True)
        return grant

    def poll(self, device_code: object) -> tuple[str, dict[str, Any]]:
        """("token", {access_token, token_type, scope, user_id}) or (RFC 8628 error code, {}).

        Errors: authorization_pending, slow_down (polled faster than the interval; the interval
        grows by 5 s), access_denied, expired_token (also for an unknown or already used code).
        """
        now = time.time()
        if not isinstance(device_code, str) or not device_code:
            return "expired_token", {}
        key = _hash(device_code)
        with self.store.write() as db:  # one transaction: two polls at once hand out one token
            row = db.execute("select expires, denied, user_id, last_poll, interval, machine from sync_device_grants "
                             "where device_hash = ?", (key,)).fetchone()
            if row is None or row[0] < now:
                db.execute("delete from sync_device_grants where device_hash = ?", (key,))
                return "expired_token", {}
            _, denied, user_id, last_poll, interval, machine = row
            if denied:
                db.execute("delete from sync_device_grants where device_hash = ?", (key,))
                return "access_denied", {}
            too_soon = now - last_poll < interval - 0.5  # half a second of network jitter
            if user_id is None:
                interval += 5 if too_soon else 0
                db.execute("update sync_device_grants set last_poll = ?, interval = ? where device_hash = ?",
                           (now, interval, key))
                return ("slow_down", {"interval": interval}) if too_soon else ("authorization_pending", {})
            db.execute("delete from sync_device_grants where device_hash = ?", (key,))  # handed out once
            token, tok = self.tokens.create(user_id, "sync", None, f"sync login from {machine}")  # same transaction
        return "token", {"access_token": token, "token_type": "bearer", "scope": "sync", "token_id": tok["id"],
                         "user_id": user_id}

    @staticmethod
    def _expire(db: Any, now: float) -> None:
        db.execute("delete from sync_device_grants where expires < ?", (now,))


def _grant(row: dict[str, Any], user_code: str) -> Grant:
    """A Grant from its row (the codes themselves are not stored: user_code is the one just typed)."""
    return Grant("", user_code, row["machine"], row["created"], row["expires"], row["last_poll"], row["interval"],
                 row["user_id"], bool(row["denied"]), row["address"] or "")
