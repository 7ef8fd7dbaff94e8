"""ISO-8601 UTC times of the courses API ↔ the epoch seconds stored in SQLite."""

from __future__ import annotations

import datetime as dt

from salvus_local.store.errors import BadRequest


def iso(ts: float | None) -> str | None:
    """Epoch seconds → ``2026-11-30T09:00:00Z`` (None stays None)."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse(value: object, field: str = "due") -> float | None:
    """ISO-8601 text (a naive time is UTC) or null → epoch seconds; 400 naming the field otherwise."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{field}' must be an ISO-8601 time like 2026-12-01T09:00:00Z, or null")
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadRequest(f"'{field}' {value[:40]!r} is not an ISO-8601 time like 2026-12-01T09:00:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()
