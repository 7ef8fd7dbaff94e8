"""Login throttling: growing delays after failures, per (account, address) and per address, never a lockout.

How: a failed attempt counts for the pair (account, address) and, for a network address, for that
address alone (one address guessing many accounts).  After ``FREE`` failures a key must wait
``BASE_DELAY * 2 ** (failures - FREE)`` seconds (at most ``MAX_DELAY``) before its next attempt; an
attempt that comes earlier is answered 429 without checking the password and is NOT counted, so
hammering never makes a wait longer than the last real failure set it.  Failures are forgotten after
``FORGET`` seconds without one, and a success clears its keys.

Why this shape: a student guessing the teacher's password from their laptop slows only the pair
(teacher, that laptop) and that laptop's address: the teacher at the machine's own console, or at any
other address, signs in at once.  Loopback addresses get no per-address key (everyone on this machine
shares 127.0.0.1, and one person's typos must not delay another's login).  The printed token URL (not a
password) is never throttled.  The state is in memory (one web-server process) and resets on restart.
"""

from __future__ import annotations

import ipaddress
import threading
import time

from .errors import TooManyAttempts

FREE = 5  # failures allowed before any delay
BASE_DELAY = 5.0  # seconds of the first delay
MAX_DELAY = 300.0
FORGET = 3600.0


def is_loopback(address: str) -> bool:
    """Tell whether an address is this machine's own (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


class Throttle:
    """Failure counts and the earliest next attempt, per key."""

    def __init__(self, free: int = FREE, max_delay: float = MAX_DELAY) -> None:
        self.free, self.max_delay = free, max_delay
        self._state: dict[str, tuple[int, float, float]] = {}  # key → (failures, last failure, next allowed)
        self._lock = threading.Lock()

    @staticmethod
    def keys(address: str, account: str | None) -> list[str]:
        """The keys an attempt counts against: ``pair:<account>|<address>`` and (network only) ``addr:<address>``."""
        keys = [] if is_loopback(address) else [f"addr:{address}"]
        return keys + ([f"pair:{account.strip().lower()[:200]}|{address}"] if account else [])

    def check(self, keys: list[str]) -> None:
        """Raise TooManyAttempts when any key must still wait (the early attempt is not counted)."""
        now = time.monotonic()
        with self._lock:
            wait = max((self._state.get(k, (0, 0.0, 0.0))[2] - now for k in keys), default=0.0)
        if wait > 0:
            raise TooManyAttempts(wait)

    def failed(self, keys: list[str]) -> None:
        """Count a failure against every key."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                count, last, _ = self._state.get(key, (0, 0.0, 0.0))
                count = 1 if now - last > FORGET else count + 1
                delay = 0.0 if count < self.free else min(self.max_delay, BASE_DELAY * 2.0 ** (count - self.free))
                self._state[key] = (count, now, now + delay)
            if len(self._state) > 100_000:  # bound the memory an attacker can make us use
                self._state = {k: v for k, v in self._state.items() if now - v[1] < FORGET}

    def succeeded(self, keys: list[str]) -> None:
        """Forget the failures of these keys."""
        with self._lock:
            for key in keys:
                self._state.pop(key, None)
