"""RoomManager: opens rooms (from the update store, else from the file), saves them, evicts idle ones.

One background thread ticks every :data:`TICK` seconds over the open rooms:
- save: ``debounce`` seconds after the last change, when the content differs from what the disk
  holds, through ``Files.write`` (the server's contents manager, as the project owner); never
  before the room has loaded, never re-creating a file deleted while the room was open;
- disk: when the file's (mtime, size) moved and it was not our write, its new content is merged
  into the room as a diff against what the disk held before (:mod:`.merge`);
- evict: a room without sockets or running cells for ``idle`` seconds is saved, its store
  compacted, and dropped from memory (its history stays in the store).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Protocol

from . import guard, merge, schema
from .room import Room
from .store import COMPACT_AFTER, UpdateStore

log = logging.getLogger("salvus_local.collab")
TICK = 0.2
SAVE_BACKOFF_MAX = 300.0  # seconds between save attempts of a room whose saves keep failing


class Files(Protocol):
    """File access of one project, as its owner (the server's contents manager)."""

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""

    def stat(self, path: str) -> Any:
        """A key that changes when the file changes ((mtime_ns, size)), None when missing."""

    def write(self, path: str, kind: str, content: Any) -> None:
        """Write content atomically (notebook dict or text) as a normal save."""

    def put_base(self, sha: str, content: Any) -> None:
        """Keep a content the room synced with disk under its sha (server-private, survives the store)."""

    def get_base(self, sha: str) -> Any:
        """A content kept by put_base, or None."""


class RoomManager:
    """(project id, path) → Room; thread-safe."""

    def __init__(self, store: UpdateStore, files: Callable[[str], Files], debounce: float = 1.0,
                 idle: float = 60.0, budget: guard.Budget | None = None) -> None:
        self.store = store
        self.budget = budget or guard.Budget()
        self.files = files
        self.debounce, self.idle = debounce, idle
        self.rooms: dict[tuple[str, str], Room] = {}
        self._lock = threading.Lock()
        self._open_locks: dict[tuple[str, str], threading.Lock] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, project_id: str, path: str) -> Room:
        """The open room of a path, loading it first (raises schema.ContentError for unusable files)."""
        key = (project_id, path)
        with self._lock:
            room = self.rooms.get(key)
            if room is not None:
                return room
            opening = self._open_locks.setdefault(key, threading.Lock())
        with opening:  # two sockets opening at the same moment load the file once
            with self._lock:
                room = self.rooms.get(key)
            if room is None:
                room = self._load(project_id, path)
                with self._lock:
                    self.rooms[key] = room
        self._start()
        return room

    def find(self, project_id: str, path: str) -> Room | None:
        """The room of a path if it is open."""
        with self._lock:
            return self.rooms.get((project_id, path))

    def _load(self, project_id: str, path: str) -> Room:
        kind = schema.kind_of(path)
        files = self.files(project_id)
        stat, data = files.stat(path), files.read(path)
        room = Room(project_id, path, kind, self.store)
        room.merge_stale = self.adopt
        room.budget = self.budget
        updates, meta = self.store.load(project_id, path)
        if updates and meta is not None and meta.get("kind") == kind:
            for update in updates:
                room.doc.apply_update(update)
            room._pending.clear()
            room.load_base, room.disk_base = meta["load_base"], meta["disk_base"]
            room.stored = len(updates)
            room.file_existed = data is not None
            room.disk_stat = None  # compare the file with disk_base at the first tick
            # Killed (kill -9, power loss) between an edit and its save: the store is ahead of the disk.
            # Save it (the first tick merges a disk change made meanwhile first, as any disk change).
            unsaved = room.content() != room.disk_base
        else:
            update, content = schema.load_update(kind, data)
            room.doc.apply_update(update)
            room._pending.clear()
            self.store.reset(project_id, path)
            self.store.append(project_id, path, update)
            self.store.set_bases(project_id, path, kind, load_base=content)
            room.load_base = content
            room.file_existed, room.disk_stat, room.stored = data is not None, stat, 1
            room.state_bytes = len(update)
            self._disk_synced(room, files, content)
            unsaved = False
        room.set_state(path=path, dirty=unsaved)
        room.dirty = unsaved
        room.changed_at = time.monotonic() - self.debounce if unsaved else 0.0
        room.loaded = True
        return room

    # -- the background tick ---------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="collab-rooms", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                rooms = list(self.rooms.values())
            for room in rooms:
                try:
                    self.tick(room)
                except Exception:
                    log.exception("room %s/%s", room.project_id, room.path)

    def tick(self, room: Room) -> None:
        """Merge disk changes, save when due, evict when idle."""
        files = self.files(room.project_id)
        room.ticks += 1
        self.check_disk(room, files)
        now = time.monotonic()
        if room.changed_at and now - room.changed_at >= self.debounce:
            self.save(room, files)
        if room.stored > COMPACT_AFTER or room.budget.should_compact(
                self.store.room_bytes(room.project_id, room.path), room.state_bytes, quiet=not room.changed_at):
            self.compact(room)
        if not room.peers and not room.busy and now - room.idle_since >= self.idle and not room.changed_at:
            self.evict(room)

    def check_disk(self, room: Room, files: Files) -> None:
        """Merge the file into the room when it changed on disk since our last read or write."""
        stat = files.stat(room.path)
        if stat == room.disk_stat or stat is None:
            return
        try:
            theirs = schema.parse(room.kind, files.read(room.path), strict=True)
        except schema.ContentError:
            return  # half-written or broken: look again at the next tick
        if room.kind == schema.NOTEBOOK and room.disk_base is not None:
            theirs = merge.keep_ids(room.disk_base, theirs)
        if theirs != room.disk_base:
            merge.merge_into(room, room.disk_base, theirs, label="on disk")
            self._disk_synced(room, files, theirs)
        room.disk_stat, room.file_existed = stat, True

    def _disk_synced(self, room: Room, files: Files, content: Any) -> None:
        """The disk now holds content: remember it as the base of later merges (store, files, state.base)."""
        sha = schema.content_sha(content)
        files.put_base(sha, content)
        room.disk_base = content
        self.store.set_bases(room.project_id, room.path, room.kind, disk_base=content)
        room.set_state(base=sha)

    def adopt(self, room: Room, content: Any, base_sha: Any) -> None:
        """Merge a stale client's content, relative to the disk content it last knew (``state.base``)."""
        base = room.load_base
        if isinstance(base_sha, str):
            if base_sha == schema.content_sha(room.disk_base):
                base = room.disk_base
            elif base_sha != schema.content_sha(room.load_base):
                kept = self.files(room.project_id).get_base(base_sha)
                base = kept if kept is not None else base
        if room.kind == schema.NOTEBOOK and isinstance(content, dict) and isinstance(base, dict):
            content = merge.keep_ids(base, content)
        merge.merge_into(room, base, content)

    def save(self, room: Room, files: Files) -> None:
        """Write the room's content when it differs from the disk (debounced by the caller)."""
        if not room.loaded:
            return
        room.changed_at = 0.0
        content = room.content()
        if content == room.disk_base:
            room.dirty = False
            room.set_state(dirty=False)
            return
        stat = files.stat(room.path)
        if room.file_existed and stat is None:
            return  # deleted or renamed while open: do not bring it back
        if stat != room.disk_stat:  # changed on disk since the last tick: merge that first
            self.check_disk(room, files)
            content = room.content()
        try:
            files.write(room.path, room.kind, content)
        except Exception as exc:
            self._save_failed(room, str(getattr(exc, "message", exc)))
            return
        if room.save_error:
            log.info("room %s/%s: saving works again", room.project_id, room.path)
            room.save_error, room.save_failures = "", 0
            room.set_state(save_error="")
        # stat, then read: a write by someone else right after ours is then seen at the next tick.
        stat = files.stat(room.path)
        try:
            ours = schema.parse(room.kind, files.read(room.path), strict=True) == content
        except schema.ContentError:
            ours = False
        room.disk_stat, room.file_existed = (stat if ours else None), True
        room.saves += 1
        self._disk_synced(room, files, content)
        if room.changed_at == 0.0:  # nothing changed while writing
            room.dirty = False
            room.set_state(dirty=False)

    def _save_failed(self, room: Room, message: str) -> None:
        """Retry later with exponential backoff (5 s doubling, at most SAVE_BACKOFF_MAX); log and tell the
        room (``state.save_error``) only when the error changes, not at every retry."""
        room.save_failures += 1
        delay = min(SAVE_BACKOFF_MAX, 5.0 * 2 ** (room.save_failures - 1))
        room.changed_at = time.monotonic() + delay - self.debounce
        if message != room.save_error:
            log.warning("room %s/%s: save failed (retrying with backoff): %s", room.project_id, room.path, message)
            room.save_error = message
            room.set_state(save_error=message)

    def compact(self, room: Room) -> None:
        """Merge the room's stored updates into one."""
        room.compact()

    def evict(self, room: Room) -> None:
        """Drop an idle room from memory (saved and compacted first)."""
        with room.lock:
            if room.peers or room.busy:
                return
            self.compact(room)
            with self._lock:
                if self.rooms.get((room.project_id, room.path)) is room:
                    del self.rooms[(room.project_id, room.path)]

    def flush_all(self) -> None:
        """Save every room with unsaved changes now (server shutdown)."""
        with self._lock:
            rooms = list(self.rooms.values())
        for room in rooms:
            if room.changed_at:
                self.save(room, self.files(room.project_id))

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
