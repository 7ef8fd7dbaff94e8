"""Record every executed cell from the KernelManager's message stream into the history store.

An ``execute_request`` (to the kernel) opens a pending record keyed by its msg_id; outputs whose
parent is that msg_id (stream, execute_result, display_data text/plain, error) accumulate; the
``execute_reply`` closes it and writes one row.  Listener calls come from kernel reader threads;
the store serializes the writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from salvus_local.store import history
from salvus_local.store.db import Store

log = logging.getLogger("salvus_local.server.history")
MAX_PENDING = 2000  # executions awaiting their reply; the oldest are dropped beyond this
MAX_OUTPUT = 100_000

Resolver = Callable[[str], "tuple[str | None, str | None]"]  # kernel_id -> (project_id, path)


def _text_of(msg: dict[str, Any]) -> str:
    content = msg.get("content") or {}
    return {
        "stream": lambda: str(content.get("text", "")),
        "execute_result": lambda: str((content.get("data") or {}).get("text/plain", "")) + "\n",
        "display_data": lambda: str((content.get("data") or {}).get("text/plain", "")) + "\n",
        "error": lambda: f"{content.get('ename', '')}: {content.get('evalue', '')}\n",
    }.get(msg.get("header", {}).get("msg_type", ""), lambda: "")()


class Recorder:
    """A KernelManager listener; see the module docstring."""

    def __init__(self, store: Store, resolve: Resolver) -> None:
        self.store = store
        self.resolve = resolve
        self._pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, kernel_id: str, msg: dict[str, Any], direction: str) -> None:
        """Listener entry point: ``fn(kernel_id, msg, direction)``."""
        msg_type = msg.get("header", {}).get("msg_type")
        if msg_type == "execute_request":
            self._open(kernel_id, msg)
            return
        parent = (msg.get("parent_header") or {}).get("msg_id")
        if not parent:
            return
        with self._lock:
            pending = self._pending.get(parent)
            if pending is None:
                return
            if msg_type == "execute_reply":
                del self._pending[parent]
            elif len(pending["output"]) < MAX_OUTPUT:
                pending["output"] += _text_of(msg)
                return
            else:
                return
        content = msg.get("content") or {}
        try:
            history.record(self.store, project_id=pending["project_id"], path=pending["path"],
                           cell_id=pending["cell_id"], kernel_id=kernel_id,
                           execution_count=content.get("execution_count"), input=pending["input"],
                           output=pending["output"], status=str(content.get("status", "")), when=pending["time"])
        except Exception:  # history is best effort: never disturb the kernel
            log.exception("could not record a computation")

    def _open(self, kernel_id: str, msg: dict[str, Any]) -> None:
        content = msg.get("content") or {}
        if content.get("silent") or not content.get("store_history", True):
            return
        code = str(content.get("code", ""))
        if not code.strip():
            return
        project_id, path = self.resolve(kernel_id)
        metadata = msg.get("metadata") or {}
        with self._lock:
            self._pending[msg["header"]["msg_id"]] = {
                "project_id": project_id, "path": path, "cell_id": metadata.get("cellId") or metadata.get("cell_id"),
                "input": code, "output": "", "time": time.time()}
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
