"""One room: a document shared by the websockets of one (project, path), speaking y-protocols.

Order of a client's update: applied to the room's doc, stored in SQLite, then broadcast.  A client
gets our step 2 only in answer to its step 1 (y-websocket sends step 1 first, on open), and is
sent nothing else before: so a client whose history the room did not make (a *stale* client: its
state vector names server-made structs this room lacks, after the update store was lost or the
room was rebuilt from the file) never receives this room's history, which would duplicate every
cell in it.  Such a client is asked for its whole document (step 1 with an empty state vector),
its content is merged into the room as a diff (:mod:`.merge`), and it is closed with
:data:`STALE_CLOSE` so it reconnects with a fresh document.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from pycrdt import Doc, Map, merge_updates

from . import guard, schema, wire
from .awareness import AwarenessRelay

log = logging.getLogger("salvus_local.collab")
STALE_CLOSE = 4409  # websocket close code: "your document is from another history: reconnect with a fresh one"


class Client(Protocol):
    """One websocket in a room."""

    can_write: bool
    user: dict[str, str]

    def send(self, data: bytes) -> None:
        """Send one binary frame (thread-safe); raise when the socket is gone."""

    def close(self, code: int, reason: str) -> None:
        """Close the socket."""


class Peer:
    """What the room knows of a client."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.synced = False   # its step 1 was checked: it may receive updates
        self.stale = False    # its history is not this room's: waiting for its whole document


class Room:
    """A document, its peers and its persistence hooks (the manager loads and saves it)."""

    def __init__(self, project_id: str, path: str, kind: str, store: Any,
                 on_change: Callable[[Room], None] | None = None) -> None:
        self.project_id, self.path, self.kind = project_id, path, kind
        self.store = store
        self.lock = threading.RLock()
        self.peers: dict[Client, Peer] = {}
        self.awareness = AwarenessRelay()
        self.on_change = on_change or (lambda room: None)
        self.loaded = False
        self.load_base: Any = None   # content the history began from (base of a stale client's merge)
        self.disk_base: Any = None   # content as last read from or written to disk
        self.disk_stat: Any = None   # (mtime_ns, size) after our last read or write
        self.file_existed = False    # the file was on disk when loaded (else the first change creates it)
        self.changed_at = 0.0        # monotonic time of the last change (save is debounced from it)
        self.idle_since = time.monotonic()
        self.dirty = False           # content changed since the last save (mirrored in state.dirty)
        self.busy = 0                # executions writing outputs here: keep the room loaded
        self.saves = 0               # files written (status, tests)
        self.save_error = ""         # why the last save failed ("" when it worked; mirrored in state.save_error)
        self.save_failures = 0       # saves failed in a row (backoff)
        self.ticks = 0               # times the manager checked it (status, tests)
        self.stored = 0              # updates in the store since the last compaction
        self.state_bytes = 0         # size of the whole document as one update, at the last compaction
        self.budget = guard.Budget()  # room cap and project quota (set by the manager)
        self.refused = 0             # client updates refused (malformed, room full, over quota)
        # (room, content of a stale client's doc, its state.base): merges it (set by the manager)
        self.merge_stale: Callable[[Room, Any, Any], None] = lambda room, content, base: None
        self._pending: list[bytes] = []
        self._new_doc(schema.server_client_id())

    def _new_doc(self, client_id: int) -> None:
        self.doc: Doc = schema.new_doc(client_id)
        schema.roots(self.doc, self.kind)
        self.checker = guard.Checker(self.doc, self.kind)
        self.doc.observe(lambda event: self._pending.append(event.update))

    # -- clients -----------------------------------------------------------------------
    def join(self, client: Client) -> None:
        """Add a websocket; it gets the awareness states now, the document after its step 1."""
        with self.lock:
            self.peers[client] = Peer(client)
            self.idle_since = time.monotonic()
        states = self.awareness.all_frame()
        if states:
            self._send(client, states)

    def leave(self, client: Client) -> None:
        """Remove a websocket and tell the others its cursors are gone."""
        with self.lock:
            self.peers.pop(client, None)
            self.idle_since = time.monotonic()
        gone = self.awareness.drop(client)
        if gone:
            self.broadcast(gone, skip=client)

    def receive(self, client: Client, frame: bytes) -> None:
        """Handle one frame from a client (bad frames are ignored)."""
        try:
            msg = wire.decode(frame)
        except wire.WireError as exc:
            log.info("room %s: frame ignored: %s", self.path, exc)
            return
        if msg.kind == wire.MSG_SYNC:
            handler = {wire.SYNC_STEP1: self._step1, wire.SYNC_STEP2: self._step2, wire.SYNC_UPDATE: self._update}
            handler[msg.sync or 0](client, msg.data)
        elif msg.kind == wire.MSG_AWARENESS:
            try:
                relayed = self.awareness.update(client, msg.data)
            except wire.WireError:
                return
            if relayed:
                self.broadcast(relayed, skip=client)
        elif msg.kind == wire.MSG_QUERY_AWARENESS:
            self._send(client, self.awareness.all_frame() or wire.awareness_frame(wire.encode_awareness([])))

    def _step1(self, client: Client, sv_bytes: bytes) -> None:
        try:
            sv = wire.decode_state_vector(sv_bytes)
        except wire.WireError:
            return
        with self.lock:
            peer = self.peers.get(client)
            if peer is None:
                return
            if self._foreign(sv):
                peer.stale = True
                reply = [wire.sync_frame(wire.SYNC_STEP1, wire.EMPTY_STATE_VECTOR)]
            else:
                peer.synced = True
                reply = [wire.sync_frame(wire.SYNC_STEP2, self.doc.get_update(sv_bytes)),
                         wire.sync_frame(wire.SYNC_STEP1, self.doc.get_state())]
            # Sent under the lock: no update broadcast may reach it before its step 2.
            for frame in reply:
                self._send(client, frame)

    def _foreign(self, sv: dict[int, int]) -> bool:
        """True when a state vector names server-made structs this room does not have."""
        ours = wire.decode_state_vector(self.doc.get_state())
        return any(schema.is_server_id(c) and clock > ours.get(c, 0) for c, clock in sv.items())

    def _step2(self, client: Client, update: bytes) -> None:
        peer = self.peers.get(client)
        if peer is not None and peer.stale:
            self._adopt_stale(client, update)
            return
        self._update(client, update)

    def _update(self, client: Client, update: bytes) -> None:
        with self.lock:
            peer = self.peers.get(client)
            if peer is None or not peer.synced or not client.can_write:
                return  # viewers' and not yet synced clients' updates are dropped
            refusal = self._over_budget(len(update))
            if refusal is not None:
                self._refuse(client, *refusal)
                return
            # No foreign-history check here: a synced client's structs were all in the state vector of
            # its step 1 (checked), or came from this room since.
            try:
                errors = self.checker.run(lambda: self.doc.apply_update(update))
            except Exception as exc:
                errors = [f"it cannot be applied ({type(exc).__name__})"]
            if errors:
                # Refused on arrival: the doc goes back to what the store holds (which never had it).
                log.info("room %s: malformed update refused: %s", self.path, "; ".join(errors))
                self._rebuild()
                self._refuse(client, guard.BAD_UPDATE_CLOSE, f"edit refused: {errors[0]}")
                return
            self._flush(skip=client)

    def _over_budget(self, size: int) -> tuple[int, str] | None:
        """(close code, message) when an update of size bytes must be refused (compacting first helps)."""
        stored = self.store.room_bytes(self.project_id, self.path)
        refusal = self.budget.refusal(self.project_id, stored, size)
        if refusal is not None and stored > self.state_bytes:
            self.compact()  # the history may shrink to the document's size: ask again
            refusal = self.budget.refusal(self.project_id, self.store.room_bytes(self.project_id, self.path), size)
        return refusal

    def _refuse(self, client: Client, code: int, reason: str) -> None:
        """Tell the sender why its update was refused and close it (nothing of it is stored or sent)."""
        self.refused += 1
        self._pending.clear()
        client.close(code, reason[:120])

    def _rebuild(self) -> None:
        """Rebuild the doc from the store (lock held): the store holds every accepted update, in order."""
        updates, _meta = self.store.load(self.project_id, self.path)
        self._new_doc(self.doc.client_id)
        for update in updates:
            self.doc.apply_update(update)
        self._pending.clear()

    def compact(self) -> None:
        """Replace the room's stored updates by one update of its whole document."""
        with self.lock:
            self.store.compact(self.project_id, self.path, full := self.doc.get_update())
            self.stored, self.state_bytes = 1, len(full)

    def _adopt_stale(self, client: Client, update: bytes) -> None:
        """Merge a stale client's whole document into the room as a diff, then make it start afresh."""
        if client.can_write:
            scratch = schema.new_doc()
            schema.roots(scratch, self.kind)
            try:
                scratch.apply_update(update)
                content = schema.materialize(scratch, self.kind)
                base = scratch.get("state", type=Map).get("base")
            except Exception:
                content = base = None
            if content is not None:
                try:
                    self.merge_stale(self, content, base)
                except Exception:
                    log.exception("room %s: merging a stale client's document failed", self.path)
        client.close(STALE_CLOSE, "document replaced: reconnect with a fresh document")

    # -- server writes -------------------------------------------------------------------
    def transact(self, fn: Callable[[Doc], Any], content: bool = True) -> Any:
        """Run fn(doc) in one transaction as the server; store and broadcast what it changed.

        ``content``: the change is to the file's content (so it must be saved), not to ``state``."""
        with self.lock:
            with self.doc.transaction(origin="server"):
                result = fn(self.doc)
            self._flush(skip=None, content=content)
        return result

    def set_state(self, **values: Any) -> None:
        """Set keys of the "state" map (path, dirty) when they differ."""
        def write(doc: Doc) -> None:
            state = doc.get("state", type=Map)
            for key, value in values.items():
                if state.get(key) != value:
                    state[key] = value
        self.transact(write, content=False)

    def _flush(self, skip: Client | None, content: bool = True) -> None:
        """Store then broadcast the updates observed since the last flush (lock held)."""
        updates = [u for u in self._pending if u and u != b"\x00\x00"]
        self._pending.clear()
        if not updates:
            return
        update = updates[0] if len(updates) == 1 else merge_updates(*updates)
        self.store.append(self.project_id, self.path, update)
        self.stored += 1
        if self.budget.should_compact(self.store.room_bytes(self.project_id, self.path), self.state_bytes):
            self.compact()  # by size: a flood of big insert/delete pairs stays about one document big
        self.broadcast(wire.sync_frame(wire.SYNC_UPDATE, update), skip=skip)
        if content and self.loaded:
            self.changed_at = time.monotonic()
            if not self.dirty:
                self.dirty = True
                self.set_state(dirty=True)
            self.on_change(self)

    def broadcast(self, frame: bytes, skip: Client | None = None) -> None:
        """Send a frame to every synced client but ``skip``."""
        with self.lock:
            targets = [p.client for p in self.peers.values() if p.synced and p.client is not skip]
        for client in targets:
            self._send(client, frame)

    def _send(self, client: Client, frame: bytes) -> None:
        try:
            client.send(frame)
        except Exception:
            with self.lock:
                self.peers.pop(client, None)

    def status(self) -> dict[str, Any]:
        """What /api/collab/status tells about an open room."""
        with self.lock:
            clients = len(self.peers)
        return {"open": True, "loaded": self.loaded, "clients": clients, "dirty": self.dirty, "saves": self.saves,
                "save_error": self.save_error,
                "ticks": self.ticks, "running": self.busy, "users": self.awareness.users()}

    def content(self) -> Any:
        """The document's current content (notebook dict or text)."""
        with self.lock:
            return schema.materialize(self.doc, self.kind)
