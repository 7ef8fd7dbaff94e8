"""What a room accepts from a client: an update that keeps the document valid and fits the room's budget.

Validity (:class:`Checker`): deep observers on the root types see each client update's effect while it
is applied; anything :func:`schema.materialize` would have to repair (a cells entry that is not a
map, an unknown ``cell_type``, a missing id, a ``source`` that is not text, a non-integer
``nbformat``, an embed in a text file, a write to the server's ``state``) marks the update malformed.
The room then rebuilds its doc from the store (which never held it) and closes the sender.
Duplicate cell ids are not refused: two people moving one cell at once make them legitimately.

Budget (:class:`Budget`): the bytes a room's stored updates take are bounded by compaction by
size (when they pass ``COMPACT_RATIO`` × the encoded document plus ``COMPACT_FLOOR``, they become one
update), a per-room cap (setting ``collaboration_room_mb``) and the project's quota, which counts
the rooms' stored bytes with the project's files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Array, Doc, Map, Text

from . import schema

BAD_UPDATE_CLOSE = 4400   # close code: the update could not be applied or would break the document
ROOM_FULL_CLOSE = 4413    # close code: the room's stored history is at its cap
OVER_QUOTA_CLOSE = 4507   # close code: the project is over its disk quota (files + rooms' history)
COMPACT_RATIO = 4         # stored updates may take this many times the encoded document ...
COMPACT_FLOOR = 1 << 20   # ... plus this many bytes before they are compacted into one update


class Checker:
    """Collects what is wrong with the document changes made while ``armed`` (a client's update)."""

    def __init__(self, doc: Doc, kind: str) -> None:
        self.armed = False
        self.errors: list[str] = []
        # The root objects are kept: a subscription lives as long as the object it was made on.
        if kind == schema.TEXT:
            self._roots: list[Any] = [doc.get("source", type=Text)]
            self._subs = [self._roots[0].observe(self._text)]
        else:
            self._roots = [doc.get("cells", type=Array), doc.get("meta", type=Map)]
            self._subs = [self._roots[0].observe_deep(self._cells), self._roots[1].observe_deep(self._meta)]
        self._roots.append(doc.get("state", type=Map))
        self._subs.append(self._roots[-1].observe_deep(self._state))

    def run(self, apply: Callable[[], None]) -> list[str]:
        """Call apply() armed; return the problems found (empty: the update is fine)."""
        self.armed, self.errors = True, []
        try:
            apply()
        finally:
            self.armed = False
        return self.errors

    def _guard(self, fn: Callable[[Any], None], events: Any) -> None:
        if not self.armed:
            return
        try:
            fn(events)
        except Exception as exc:  # reading an odd structure failed: that is malformed too
            self.errors.append(f"unreadable change ({type(exc).__name__})")

    def _text(self, event: Any) -> None:
        self._guard(lambda ev: self._inserts_text(ev.delta, "the text"), event)

    def _state(self, events: Any) -> None:
        self._guard(lambda _evs: self.errors.append("the document's state is written by the server only"), events)

    def _cells(self, events: Any) -> None:
        self._guard(lambda evs: [self._cell_event(ev) for ev in evs], events)

    def _meta(self, events: Any) -> None:
        self._guard(lambda evs: [self._meta_event(ev) for ev in evs], events)

    def _inserts_text(self, delta: Any, where: str) -> None:
        for op in delta or []:
            if "insert" in op and not isinstance(op["insert"], str):
                self.errors.append(f"{where} got an embedded object (only characters are allowed)")

    def _cell_event(self, ev: Any) -> None:
        path = list(ev.path)
        if not path:  # the cells array itself: every inserted entry must be a whole cell
            for op in ev.delta or []:
                for value in op.get("insert") or []:
                    self._check_cell(value)
        elif len(path) == 1:  # keys of one cell
            self._check_cell(ev.target)
        elif path[1] == "source":
            self._inserts_text(getattr(ev, "delta", None), "a cell's source")
        elif path[1] == "outputs" and len(path) == 2:
            for op in ev.delta or []:
                if any(not isinstance(o, (dict, Map)) for o in op.get("insert") or []):
                    self.errors.append("an output must be an nbformat output object")

    def _check_cell(self, cell: Any) -> None:
        if not isinstance(cell, Map):
            self.errors.append(f"a cell must be a map, not {type(cell).__name__}")
            return
        cid, cell_type = cell.get("id"), cell.get("cell_type")
        if not isinstance(cid, str) or not cid or len(cid) > 64:
            self.errors.append("a cell needs an id of 1-64 characters")
        if cell_type not in schema.CELL_TYPES:
            self.errors.append(f"unknown cell_type {str(cell_type)[:20]!r} (code, markdown or raw)")
        if not isinstance(cell.get("source"), (Text, str)):
            self.errors.append("a cell's source must be text")
        if "metadata" in cell and not isinstance(cell.get("metadata"), (Map, dict)):
            self.errors.append("a cell's metadata must be a map")
        if "outputs" in cell and not isinstance(cell.get("outputs"), (Array, list)):
            self.errors.append("a cell's outputs must be a list")
        count = cell.get("execution_count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, (int, float))):
            self.errors.append("execution_count must be a number or null")

    def _meta_event(self, ev: Any) -> None:
        if list(ev.path):
            return  # inside the notebook's metadata: any JSON
        for key in ev.keys:
            value = ev.target.get(key)
            if key in ("nbformat", "nbformat_minor") and not (
                    isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()):
                self.errors.append(f"{key} must be an integer")
            elif key == "metadata" and not isinstance(value, (Map, dict)):
                self.errors.append("the notebook's metadata must be a map")


class Budget:
    """Bytes of one room's stored updates: when to compact them, and whether another update fits."""

    def __init__(self, cap: int = 0, quota: Callable[[str, int], str | None] | None = None) -> None:
        self.cap = cap                    # bytes a room's stored updates may take (0: no cap)
        self.quota = quota or (lambda project_id, adding: None)  # refusal message over the quota, or None

    def should_compact(self, stored: int, state: int, quiet: bool = False) -> bool:
        """True when stored bytes are well above the size of the document they encode (``state``: its size
        at the last compaction).  ``quiet`` (the room is saved, nothing is changing): compact once any
        update came after the last compaction and the history is over COMPACT_FLOOR, since the document
        may have shrunk since (a 4 MB insert compacted, then deleted: the history stays 4 MB, which a
        ``state + COMPACT_FLOOR`` rule never catches).  After a compaction stored == state: no repeat."""
        if quiet:
            return stored > state and stored > COMPACT_FLOOR
        return stored > COMPACT_RATIO * state + COMPACT_FLOOR

    def refusal(self, project_id: str, stored: int, adding: int) -> tuple[int, str] | None:
        """(close code, message) when ``adding`` more bytes must be refused, else None."""
        if self.cap and stored + adding > self.cap:
            return ROOM_FULL_CLOSE, (f"room full: its history is at the {self.cap // 2**20} MB cap "
                                     "(collaboration_room_mb); edits refused")
        message = self.quota(project_id, adding)
        return (OVER_QUOTA_CLOSE, message) if message else None
