"""What a sync did (Report) and why it could not complete (SyncError)."""

from __future__ import annotations

from dataclasses import dataclass, field


class SyncError(Exception):
    """Sync could not complete; ``message`` is one line for the user (nothing was lost).

    ``kind``: auth (sign in again), forbidden, not_found, offline, disk_full, other.
    """

    def __init__(self, message: str, offline: bool = False, kind: str = "other") -> None:
        super().__init__(message)
        self.message = message
        self.offline = offline or kind == "offline"
        self.kind = "offline" if offline else kind


@dataclass
class Report:
    """What one sync did."""

    committed: str | None = None  # the commit of local work, if any
    fetched: str | None = None  # the remote tip
    merged: str | None = None  # the new local tip after the merge, if it moved
    pushed: str | None = None
    backup: str | None = None  # refs/salvus/backup/<date> when the remote's history was rewritten
    conflicts: list[dict[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # files over the size limit, not synced
    history: str | None = None  # the remote ref the snapshots went to (--with-history)
    history_error: str | None = None  # why they did not
