"""Errors of the accounts package: the store's errors (each carries its HTTP status) plus 401 and 429."""

from __future__ import annotations

from salvus_local.store.errors import BadRequest, Conflict, Forbidden, NotFound, StoreError

__all__ = ["BadRequest", "Conflict", "Forbidden", "NotFound", "StoreError", "TooManyAttempts", "Unauthorized"]


class Unauthorized(StoreError):
    """Wrong or missing credentials."""

    status = 401
    reason = "Unauthorized"


class TooManyAttempts(StoreError):
    """Too many failed attempts from this address or on this account: wait ``retry_after`` seconds."""

    status = 429
    reason = "Too Many Requests"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(f"Too many attempts, try again in {self.retry_after} s")
