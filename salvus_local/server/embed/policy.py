"""Who may run code without the token: pages on the origins listed in ``embed_origins``.

Embedding is off while that list is empty.  Anonymous callers get tight limits (see the
``embed_*`` settings) and a per-address rate limit (a token bucket per client address).
"""

from __future__ import annotations

import threading
import time

from flask import Request

from salvus_local.config import Config

from ..auth import origin_key


class RateLimiter:
    """A token bucket per client address: ``rate`` events a minute, bursts up to ``rate``."""

    def __init__(self, per_minute: int, max_addresses: int = 10_000) -> None:
        self.rate = max(1, per_minute) / 60.0
        self.burst = float(max(1, per_minute))
        self.max_addresses = max_addresses
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> float:
        """Take one token for address; return 0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(address, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[address] = (tokens, now)
                return (1 - tokens) / self.rate
            self._buckets[address] = (tokens - 1, now)
            if len(self._buckets) > self.max_addresses:  # forget the oldest addresses (bounded memory)
                for key in list(self._buckets)[: len(self._buckets) - self.max_addresses]:
                    del self._buckets[key]
            return 0.0


class EmbedPolicy:
    """The anonymous-embedding rules of one server."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.origins = {key for key in map(origin_key, config.embed_origins) if key}
        self.any_origin = "*" in config.embed_origins
        self.limiter = RateLimiter(config.embed_rate_limit)

    @property
    def enabled(self) -> bool:
        """Embedding is on when at least one origin is allowed."""
        return bool(self.origins) or self.any_origin

    def origin_allowed(self, origin: str | None) -> bool:
        """Tell whether a page on this Origin may embed cells and run code anonymously."""
        if not origin or not self.enabled:
            return False
        key = origin_key(origin)
        return key is not None and (self.any_origin or key in self.origins)

    def request_allowed(self, req: Request) -> bool:
        """Tell whether a request comes from an allowed embedding page."""
        return self.origin_allowed(req.headers.get("Origin"))

    def wait_time(self, req: Request) -> float:
        """Charge one run to the request's address; 0 when allowed, else seconds until it is."""
        return self.limiter.take(req.remote_addr or "?")
