"""Realtime collaboration: rooms of Yjs documents per (project, path), no Flask.

``wire`` (y-protocols framing), ``schema`` (file ↔ YNotebook / Y.Text), ``room`` (sync, awareness,
stale clients), ``rooms`` (load, debounced save, disk merge, eviction), ``merge`` (three-way diffs
into a doc), ``store`` (the SQLite update store), ``outputs`` (kernel iopub → the document).
"""

from __future__ import annotations

from .room import STALE_CLOSE, Room
from .rooms import RoomManager
from .schema import ContentError
from .store import UpdateStore

__all__ = ["STALE_CLOSE", "ContentError", "Room", "RoomManager", "UpdateStore"]
