"""Awareness relay of a room (y-protocols/awareness): who is here, their cursors and active cell.

The server keeps the latest state of every awareness client id, so a joiner and a query-awareness
get them all.  States are relayed as sent, except ``user``, which the server sets from the socket's
account (name, colour), so nobody shows up under another person's name.  When a socket closes, its
client ids are announced gone (state null, clock + 1), as y-protocols' ``removeAwarenessStates``.
"""

from __future__ import annotations

import threading
from typing import Any

from . import wire


class AwarenessRelay:
    """client id → (clock, state), and which socket announced each id."""

    def __init__(self) -> None:
        self.states: dict[int, tuple[int, Any]] = {}
        self.owners: dict[int, Any] = {}
        self._lock = threading.Lock()

    def update(self, client: Any, payload: bytes) -> bytes | None:
        """Record an awareness update from a socket; return the frame to relay to the others (or None)."""
        entries = wire.decode_awareness(payload)
        relayed = []
        with self._lock:
            for cid, clock, state in entries:
                known = self.states.get(cid)
                if known is not None and self.owners.get(cid) not in (None, client):
                    continue  # another socket's id: not this one's to change
                if known is not None and clock < known[0]:
                    continue
                if isinstance(state, dict):
                    user = getattr(client, "user", None)
                    if user:
                        state = {**state, "user": {**(state.get("user") or {}), **user}}
                if state is None:
                    self.states.pop(cid, None)
                    self.owners.pop(cid, None)
                else:
                    self.states[cid] = (clock, state)
                    self.owners[cid] = client
                relayed.append((cid, clock, state))
        return wire.awareness_frame(wire.encode_awareness(relayed)) if relayed else None

    def drop(self, client: Any) -> bytes | None:
        """Forget every id a socket announced; return the frame that tells the others (or None)."""
        with self._lock:
            ids = [cid for cid, owner in self.owners.items() if owner is client]
            gone = [(cid, self.states[cid][0] + 1, None) for cid in ids if cid in self.states]
            for cid in ids:
                self.states.pop(cid, None)
                self.owners.pop(cid, None)
        return wire.awareness_frame(wire.encode_awareness(gone)) if gone else None

    def all_frame(self) -> bytes | None:
        """A frame with every known state, or None when nobody announced one."""
        with self._lock:
            entries = [(cid, clock, state) for cid, (clock, state) in self.states.items()]
        return wire.awareness_frame(wire.encode_awareness(entries)) if entries else None

    def users(self) -> list[dict[str, Any]]:
        """The ``user`` of every present state (for status pages)."""
        with self._lock:
            return [state.get("user") or {} for _clock, state in self.states.values() if isinstance(state, dict)]
