"""Password hashing (argon2id), one-time passwords, and the username and password rules.

Parameters follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): a classroom of 30 signing in
at once then needs about 570 MB for a moment on a 2-core laptop, not the 2 GB of argon2-cffi's defaults.
A hash made with other parameters still verifies and is re-hashed at the next successful login.
"""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import BadRequest

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_hex(16))

MIN_PASSWORD, MAX_PASSWORD = 8, 1024
ROLES = ("admin", "teacher", "student")
RESERVED = frozenset({"root", "nobody", "system", "api", "login", "logout", "signup", "static", "settings",
                      "teacher", "join", "projects", "null", "none", "anonymous", "owner", "everyone"})
# (rule, message): each username is checked against every rule, in order; the first failure is the 400.
USERNAME_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^.{2,32}$", re.S), "A username has 2 to 32 characters"),
    (re.compile(r"^[a-z]", re.S), "A username starts with a letter a-z"),
    (re.compile(r"^[a-z0-9._-]*$", re.S), "A username may contain only a-z, 0-9, '.', '-' and '_'"),
    (re.compile(r"[a-z0-9]$", re.S), "A username ends with a letter or a digit"),
    (re.compile(r"^(?!.*[._-]{2})", re.S), "A username has no two of '.', '-', '_' in a row"),
]
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off a printed slip


def normalize_username(name: object) -> str:
    """Return the canonical (lower-case, trimmed) username, or raise BadRequest naming the broken rule."""
    if not isinstance(name, str):
        raise BadRequest("A username must be a string")
    name = name.strip().lower()
    for rule, message in USERNAME_RULES:
        if not rule.search(name):
            raise BadRequest(f"{message}: {name!r} is not a valid username")
    if name in RESERVED:
        raise BadRequest(f"The username {name!r} is reserved; choose another")
    return name


def check_password(password: object, username: str = "") -> str:
    """Return password when it is acceptable, else raise BadRequest saying what to fix."""
    if not isinstance(password, str):
        raise BadRequest("A password must be a string")
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"A password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadRequest(f"A password has at most {MAX_PASSWORD} characters")
    if username and password.strip().lower() == username.lower():
        raise BadRequest("A password must not be the username")
    return password


def check_role(role: object) -> str:
    """Return role when it is one of admin, teacher, student; else a 400."""
    if role not in ROLES:
        raise BadRequest(f"A role is one of {', '.join(ROLES)}, not {role!r}")
    return str(role)


def hash_password(password: str) -> str:
    """Return an argon2id hash of password."""
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """Return (matches, new hash when the stored one should be replaced because parameters changed)."""
    if not stored:
        try:
            HASHER.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return False, None
    try:
        HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, (HASHER.hash(password) if HASHER.check_needs_rehash(stored) else None)


def one_time_password() -> str:
    """Return an easy-to-type random password like ``kq7m-p3xa-9tzd`` (about 59 bits)."""
    return "-".join("".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(3))
