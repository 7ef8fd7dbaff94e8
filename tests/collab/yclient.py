"""A headless collaboration client for tests and the benchmark: a pycrdt Doc over a real websocket.

It behaves like the browser's y-websocket WebsocketProvider: on open it sends sync step 1 (and its
awareness), answers the server's step 1 with step 2, applies step 2 and updates, and sends every
local change as an update.  Offline (``disconnect()``) it keeps editing; ``connect()`` merges.
When the server closes it with 4409 (its history is not the room's) it starts again from a fresh
document, as the browser does.  Frames are built with pycrdt's own y-protocols helpers, so the
server's codec is checked against an independent implementation.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import websocket
from pycrdt import (Array, Doc, Map, Text, YMessageType, YSyncMessageType, create_sync_message,
                    create_update_message, handle_sync_message, write_var_uint)

STALE_CLOSE = 4409


def _var_uint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, pos
        shift += 7


class YClient:
    """One collaborator: ``doc`` (pycrdt), ``connect()``, ``disconnect()``, edit helpers."""

    def __init__(self, url: str, headers: list[str] | None = None, kind: str = "notebook",
                 name: str = "client") -> None:
        self.url, self.headers, self.kind, self.name = url, headers or [], kind, name
        self.lock = threading.RLock()
        self.ws: websocket.WebSocket | None = None
        self.thread: threading.Thread | None = None
        self.synced = threading.Event()
        self.closed_code: int | None = None
        self.closed_reason = ""
        self.resets = 0
        self.awareness: dict[int, Any] = {}
        self.received: list[tuple[float, bytes]] = []
        self.on_update: Callable[[float], None] | None = None
        self._new_doc()

    # -- document ------------------------------------------------------------------------
    def _new_doc(self) -> None:
        self.doc = Doc(allow_multithreading=True)
        self.doc.get("state", type=Map)
        if self.kind == "notebook":
            self.doc.get("meta", type=Map)
            self.cells = self.doc.get("cells", type=Array)
        else:
            self.source = self.doc.get("source", type=Text)
        self._applying = False
        self.doc.observe(self._local_change)

    def _local_change(self, event: Any) -> None:
        if self._applying or self.ws is None or not self.synced.is_set():
            return  # remote changes are not echoed; offline edits go out with the next step 2
        try:
            self.ws.send_binary(create_update_message(event.update))
        except Exception:
            pass

    def notebook(self) -> list[dict[str, Any]]:
        """The cells as plain dicts."""
        with self.lock:
            return [c.to_py() for c in self.cells]

    def text(self) -> str:
        """The text document."""
        with self.lock:
            return str(self.source)

    def edit(self, fn: Callable[[Doc], Any]) -> Any:
        """Change the doc locally (sent when online)."""
        with self.lock:
            with self.doc.transaction():
                return fn(self.doc)

    def insert(self, index: int, at: int, text: str) -> None:
        """Type text into cell ``index`` at character ``at`` (pycrdt offsets are UTF-8 bytes)."""
        def go(_doc: Doc) -> None:
            ytext = self.cells[index]["source"]
            ytext.insert(len(str(ytext)[:at].encode()), text)
        self.edit(go)

    def add_cell(self, index: int, cell_id: str, source: str = "") -> None:
        """Insert a code cell as the browser does (YNotebook layout)."""
        def go(_doc: Doc) -> None:
            self.cells.insert(index, Map({"id": cell_id, "cell_type": "code", "source": Text(source),
                                          "metadata": Map(), "outputs": Array(), "execution_count": None}))
        self.edit(go)

    def delete_cell(self, index: int) -> None:
        """Delete cell ``index``."""
        self.edit(lambda _doc: self.cells.__delitem__(index))

    # -- connection ----------------------------------------------------------------------
    def connect(self, timeout: float = 60.0) -> YClient:
        """Open the websocket, sync, start the reader thread; wait for the server's step 2."""
        self.synced.clear()
        self.closed_code = None
        self.ws = websocket.create_connection(self.url, header=self.headers, timeout=timeout)
        self.ws.settimeout(None)
        with self.lock:
            self.ws.send_binary(create_sync_message(self.doc))
            state = {"user": {"name": self.name}, "cursor": None}
            payload = (write_var_uint(1) + write_var_uint(self.doc.client_id) + write_var_uint(1)
                       + _varstr(json.dumps(state)))
            self.ws.send_binary(write_var_uint(YMessageType.AWARENESS) + _varbytes(payload))
        self.thread = threading.Thread(target=self._read, args=(self.ws,), daemon=True)
        self.thread.start()
        if not self.synced.wait(timeout):
            raise AssertionError(f"{self.name}: no sync step 2 from the server (closed {self.closed_code})")
        return self

    def close(self) -> None:
        """Same as disconnect (so a YClient can stand where a websocket is expected)."""
        self.disconnect()

    def disconnect(self) -> None:
        """Close the websocket (the doc stays, edits continue offline)."""
        ws, self.ws = self.ws, None
        self.synced.clear()
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass
        if self.thread is not None:
            self.thread.join(10)

    def _read(self, ws: websocket.WebSocket) -> None:
        try:
            while True:
                opcode, data = ws.recv_data(control_frame=False)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    self.closed_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
                    self.closed_reason = data[2:].decode("utf-8", "replace")
                    break
                if opcode == websocket.ABNF.OPCODE_BINARY:
                    self._handle(ws, data)
        except Exception:
            pass
        if self.closed_code == STALE_CLOSE and self.ws is ws:
            with self.lock:  # as the browser: drop the stale document and join again with a fresh one
                self.resets += 1
                self.ws = None
                self._new_doc()
            threading.Thread(target=self._reconnect, daemon=True).start()

    def _reconnect(self) -> None:
        try:
            self.connect()
        except Exception:
            pass

    def _handle(self, ws: websocket.WebSocket, data: bytes) -> None:
        kind, pos = _var_uint(data, 0)
        if kind == YMessageType.SYNC:
            at = time.monotonic()
            self.received.append((at, data))
            with self.lock:
                self._applying = True
                try:
                    reply = handle_sync_message(data[pos:], self.doc)
                finally:
                    self._applying = False
                if reply is not None:
                    ws.send_binary(reply)
                if data[pos] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()
                    # what was typed offline: the server's step 1 answer (reply) already carried it
                if self.on_update is not None and data[pos] == YSyncMessageType.SYNC_UPDATE:
                    self.on_update(at)  # (arrival time), called with the update applied, under the lock
        elif kind == YMessageType.AWARENESS:
            size, p = _var_uint(data, pos)
            count, p = _var_uint(data, p)
            for _ in range(count):
                cid, p = _var_uint(data, p)
                _clock, p = _var_uint(data, p)
                n, p = _var_uint(data, p)
                state = json.loads(data[p:p + n])
                p += n
                if state is None:
                    self.awareness.pop(cid, None)
                else:
                    self.awareness[cid] = state


def _varbytes(data: bytes) -> bytes:
    return write_var_uint(len(data)) + data


def _varstr(text: str) -> bytes:
    return _varbytes(text.encode())
