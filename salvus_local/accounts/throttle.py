"""Login throttling: growing delays after failures, per address and per account, never a lockout.

How: every failed attempt is counted for its address and for (account, where), where ``where`` is
``console`` for loopback addresses and ``network`` for the rest.  After ``FREE`` failures a key must
wait ``BASE_DELAY * 2 ** (failures - FREE)`` seconds (at most ``MAX_DELAY``) before its next attempt;
an attempt that comes earlier is answered 429 without checking the password, and counts as a failure
(hammering only makes the wait longer).  Failures are forgotten after
``FORGET`` seconds without one, and a success clears its keys.  So a student guessing the teacher's
password from the LAN only slows the network side: the teacher at the machine's own console keeps
signing in, and the printed token URL (not a password) is never throttled.  The state is in memory
(one web-server process) and resets when the server restarts.
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
        """The keys an attempt counts against."""
        where = "console" if is_loopback(address) else "network"
        keys = [] if where == "console" else [f"addr:{address}"]
        return keys + ([f"user:{account.strip().lower()}:{where}"] if account else [])

    def check(self, keys: list[str]) -> None:
        """Raise TooManyAttempts when any key must still wait (the early attempt counts as a failure)."""
        now = time.monotonic()
        with self._lock:
            wait = max((self._state.get(k, (0, 0.0, 0.0))[2] - now for k in keys), default=0.0)
        if wait > 0:
            self.failed(keys)
            with self._lock:
                wait = max(self._state[k][2] - now for k in keys)
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
