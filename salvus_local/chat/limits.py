"""How fast one person may post, and how many people one message may mention.

Posting: a token bucket per person (users.id; the single user is one person).  A post or an edit
takes a token; the bucket holds ``burst`` tokens (default 10, the ``chat_burst`` setting) and
refills at ``rate`` tokens a second (default 1, ``chat_rate``).  So a person may send ten quick
messages (a burst of answers in a class), then one a second — far above typing speed, far below the
195 mentions in 5 s a script could send.  A post that comes too early is refused (429 with
``Retry-After``) and takes no token, so hammering never makes the wait longer.  The state is in
memory (one web-server process) and resets on restart.

Mentions: a message may notify at most ``MAX_MENTIONS`` distinct people (400 past it).
"""

from __future__ import annotations

import math
import threading
import time

from salvus_local.store.errors import BadRequest, StoreError

BURST = 10
RATE = 1.0  # tokens a second
MAX_MENTIONS = 10  # distinct people one message may notify


class PostingTooFast(StoreError):
    """A person posted faster than the bucket allows: wait ``retry_after`` whole seconds."""

    status = 429
    reason = "Too Many Requests"

    def __init__(self, retry_after: float, burst: int, rate: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        pace = f"{rate:g} a second" if rate >= 1 else f"one every {1 / rate:g} s"
        super().__init__(f"You are sending messages too fast (at most {burst} at once, then {pace}): "
                         f"try again in {self.retry_after} s")


class PostLimit:
    """A token bucket per person: ``burst`` tokens, refilled at ``rate`` a second; rate 0 = no limit."""

    def __init__(self, burst: int = BURST, rate: float = RATE, max_people: int = 100_000) -> None:
        self.burst, self.rate = max(1, int(burst)), max(0.0, float(rate))
        self.max_people = max_people
        self._buckets: dict[int, tuple[float, float]] = {}  # person id → (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, person_id: int) -> None:
        """Take one token for this person, or raise PostingTooFast (no token taken) saying when to retry."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(person_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[person_id] = (tokens, now)
                raise PostingTooFast((1 - tokens) / self.rate, self.burst, self.rate)
            self._buckets[person_id] = (tokens - 1, now)
            if len(self._buckets) > self.max_people:  # bounded memory: full buckets carry no information
                full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
                for key in full:
                    del self._buckets[key]


def check_mentions(names: list[str]) -> None:
    """400 when a message would notify more than MAX_MENTIONS people (names: whom it mentions)."""
    if len(names) > MAX_MENTIONS:
        shown = ", ".join(f"@{n}" for n in names[:MAX_MENTIONS + 2]) + ("…" if len(names) > MAX_MENTIONS + 2 else "")
        raise BadRequest(f"A message may mention at most {MAX_MENTIONS} people; this one mentions {len(names)} "
                         f"({shown}): write to the project's chat without @ or split the message", reason="too many mentions")
