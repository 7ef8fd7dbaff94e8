"""Errors the store raises, each carrying the HTTP status a handler should answer with."""

from __future__ import annotations


class StoreError(Exception):
    """A failure with a user-facing message, an HTTP status and a short reason."""

    status = 500
    reason = "Internal Server Error"

    def __init__(self, message: str, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if reason is not None:
            self.reason = reason


class BadRequest(StoreError):
    """The request itself is wrong (bad path, bad notebook, bad argument)."""

    status = 400
    reason = "Bad Request"


class Forbidden(StoreError):
    """The target exists but may not be touched (permissions, protected folder)."""

    status = 403
    reason = "Forbidden"


class NotFound(StoreError):
    """No such file, project, version or job."""

    status = 404
    reason = "Not Found"


class Conflict(StoreError):
    """The target already exists or changed underneath the request."""

    status = 409
    reason = "Conflict"


class InsufficientStorage(StoreError):
    """The disk (or a quota) is full; nothing was written."""

    status = 507
    reason = "Insufficient Storage"
