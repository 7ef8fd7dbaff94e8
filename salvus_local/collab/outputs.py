"""The server owns outputs: iopub messages of a cell's execution are written into its room's document.

A kernel listener (``on_message(kernel_id, msg, direction)``) follows every ``execute_request``
whose ``metadata.cellId`` names a cell, when a room is open for the kernel's session path:

- at the request: cell metadata ``execution_state`` = "running" (so every viewer sees a busy cell);
- ``execute_input``: outputs cleared, ``execution_count`` set;
- ``stream``: text appended to the last output when it is a stream of the same name, as received
  (no ``\\r``/``\\b`` processing: the page renders terminal semantics), else a new output;
- ``display_data`` / ``execute_result`` / ``error``: appended (``display_id`` remembered);
- ``update_display_data``: every output shown with that ``display_id`` (any cell of the room) replaced;
- ``clear_output``: outputs cleared now, or before the next output when ``wait`` is true;
- ``status: idle`` of the request: ``execution_state`` = "idle", the execution is done.

The room stays loaded while executions write into it, so outputs keep arriving after every
browser has gone; a dead or restarted kernel ends its executions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map

from .room import Room

MAX_STREAM_CHARS = 1_000_000  # text kept per stream output in the document (the kernel limits output too)


@dataclass
class Execution:
    """One execute_request being written into a room."""

    kernel_id: str
    room: Room
    cell_id: str
    clear_pending: bool = False


def _find(doc: Doc, cell_id: str) -> Map | None:
    for ycell in doc.get("cells", type=Array):
        if ycell.get("id") == cell_id:
            return ycell
    return None


def _outputs(ycell: Map) -> Array:
    outputs = ycell.get("outputs")
    if not isinstance(outputs, Array):
        ycell["outputs"] = outputs = Array()
    return outputs


def _set_state(ycell: Map, state: str) -> None:
    meta = ycell.get("metadata")
    if not isinstance(meta, Map):
        ycell["metadata"] = meta = Map()
    if meta.get("execution_state") != state:
        meta["execution_state"] = state


def to_output(msg_type: str, content: dict[str, Any]) -> dict[str, Any] | None:
    """An iopub message as an nbformat output dict (None for other types)."""
    if msg_type == "stream":
        return {"output_type": "stream", "name": content.get("name", "stdout"), "text": str(content.get("text", ""))}
    if msg_type in ("display_data", "update_display_data"):
        return {"output_type": "display_data", "data": content.get("data") or {},
                "metadata": content.get("metadata") or {}}
    if msg_type == "execute_result":
        return {"output_type": "execute_result", "data": content.get("data") or {},
                "metadata": content.get("metadata") or {}, "execution_count": content.get("execution_count")}
    if msg_type == "error":
        return {"output_type": "error", "ename": str(content.get("ename", "")),
                "evalue": str(content.get("evalue", "")), "traceback": list(content.get("traceback") or [])}
    return None


class OutputWriter:
    """Follows executions of cells of open rooms and writes their outputs (see the module docstring)."""

    def __init__(self, find_room: Callable[[str, str], Room | None],
                 location: Callable[[str], tuple[str, str] | None]) -> None:
        self.find_room = find_room        # (project id, path) → open room or None
        self.location = location          # kernel id → (project id, session path) or None
        self.executions: dict[str, Execution] = {}
        # per room (project id, path): display_id → [(cell id, output index)], for update_display_data
        self.displays: dict[tuple[str, str], dict[str, list[tuple[str, int]]]] = {}
        self._lock = threading.Lock()

    def on_message(self, kernel_id: str, msg: dict[str, Any], direction: str) -> None:
        """Kernel listener: see every message to ("in") and from ("out") a kernel."""
        header = msg.get("header") or {}
        if direction == "in":
            if header.get("msg_type") == "execute_request":
                self._start(kernel_id, header.get("msg_id", ""), msg)
            return
        parent = (msg.get("parent_header") or {}).get("msg_id")
        msg_type = msg.get("msg_type") or header.get("msg_type")
        if msg_type == "status" and (msg.get("content") or {}).get("execution_state") in ("dead", "restarting"):
            self._end_kernel(kernel_id)
            return
        with self._lock:
            ex = self.executions.get(parent or "")
        if ex is None or msg.get("channel") != "iopub":
            return
        ex.room.transact(lambda doc: self._apply(ex, doc, str(msg_type), msg.get("content") or {}))
        if msg_type == "status" and (msg.get("content") or {}).get("execution_state") == "idle":
            self._finish(parent or "")

    def _start(self, kernel_id: str, msg_id: str, msg: dict[str, Any]) -> None:
        cell_id = (msg.get("metadata") or {}).get("cellId")
        where = self.location(kernel_id) if isinstance(cell_id, str) and msg_id else None
        room = self.find_room(*where) if where else None
        if room is None or room.kind != "notebook":
            return
        ex = Execution(kernel_id, room, cell_id)
        with self._lock:
            self.executions[msg_id] = ex
        with room.lock:
            room.busy += 1

        def running(doc: Doc) -> None:
            ycell = _find(doc, cell_id)
            if ycell is not None:
                _set_state(ycell, "running")
        room.transact(running)

    def _finish(self, msg_id: str) -> None:
        with self._lock:
            ex = self.executions.pop(msg_id, None)
        if ex is None:
            return

        def idle(doc: Doc) -> None:
            ycell = _find(doc, ex.cell_id)
            if ycell is not None:
                _set_state(ycell, "idle")
        ex.room.transact(idle)
        with ex.room.lock:
            ex.room.busy -= 1

    def _end_kernel(self, kernel_id: str) -> None:
        with self._lock:
            ids = [m for m, ex in self.executions.items() if ex.kernel_id == kernel_id]
        for msg_id in ids:
            self._finish(msg_id)

    def _apply(self, ex: Execution, doc: Doc, msg_type: str, content: dict[str, Any]) -> None:
        ycell = _find(doc, ex.cell_id)
        if ycell is None:
            return  # the cell was deleted meanwhile
        outputs = _outputs(ycell)
        if msg_type == "execute_input":
            self._clear(ex, outputs)
            if isinstance(content.get("execution_count"), int):
                ycell["execution_count"] = content["execution_count"]
            return
        if msg_type == "clear_output":
            if content.get("wait"):
                ex.clear_pending = True
            else:
                self._clear(ex, outputs)
            return
        if msg_type == "update_display_data":
            self._update_display(ex.room, doc, content)
            return
        output = to_output(msg_type, content)
        if output is None:
            return
        if ex.clear_pending:
            self._clear(ex, outputs)
            ex.clear_pending = False
        if msg_type == "execute_result" and isinstance(content.get("execution_count"), int):
            ycell["execution_count"] = content["execution_count"]
        last = outputs[len(outputs) - 1] if len(outputs) else None
        if output["output_type"] == "stream" and isinstance(last, dict) and last.get("output_type") == "stream" \
                and last.get("name") == output["name"] and len(str(last.get("text", ""))) < MAX_STREAM_CHARS:
            outputs[len(outputs) - 1] = {**last, "text": str(last.get("text", "")) + output["text"]}
            return
        display_id = (content.get("transient") or {}).get("display_id")
        if isinstance(display_id, str):
            with self._lock:
                shown = self.displays.setdefault((ex.room.project_id, ex.room.path), {})
                shown.setdefault(display_id, []).append((ex.cell_id, len(outputs)))
        outputs.append(output)

    def _clear(self, ex: Execution, outputs: Array) -> None:
        """Clear a cell's outputs and forget the displays it showed."""
        outputs.clear()
        with self._lock:
            shown = self.displays.get((ex.room.project_id, ex.room.path), {})
            for display_id in list(shown):
                shown[display_id] = [(c, i) for c, i in shown[display_id] if c != ex.cell_id]
                if not shown[display_id]:
                    del shown[display_id]

    def _update_display(self, room: Room, doc: Doc, content: dict[str, Any]) -> None:
        display_id = (content.get("transient") or {}).get("display_id")
        with self._lock:
            targets = list(self.displays.get((room.project_id, room.path), {}).get(display_id, []))
        for cell_id, index in targets:
            ycell = _find(doc, cell_id)
            outputs = _outputs(ycell) if ycell is not None else None
            if outputs is not None and index < len(outputs) and isinstance(outputs[index], dict):
                outputs[index] = {**outputs[index], "data": content.get("data") or {},
                                  "metadata": content.get("metadata") or {}}
