"""The Workspace: store, projects, watcher and snapshots of one server, shared by several services.

Contents, projects, terminals and history all need it; whichever ``init_app`` runs first creates it
(``init_workspace``) and it lives at ``app.extensions["salvus"].workspace``.  Nothing opens a
database or starts a thread until the first request uses it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from salvus_local.config import Config
from salvus_local.server.contents.manager import ContentsHooks, ContentsManager
from salvus_local.server.errors import json_error
from salvus_local.store.autosnap import AutoSnapshots
from salvus_local.store import quota
from salvus_local.store.db import Store
from salvus_local.store.errors import StoreError
from salvus_local.store.projects import DEFAULT_ID, ProjectManager
from salvus_local.store.snapshots import Snapshot, Snapshots
from salvus_local.store.uids import for_config
from salvus_local.store.state import ProjectState
from salvus_local.store.sweep import sweep_all
from salvus_local.store.watcher import Watcher, stat_key


class _ProjectHooks(ContentsHooks):
    """Connects one project's contents manager to the watcher and the snapshot worker."""

    def __init__(self, ws: Workspace, project_id: str) -> None:
        self.ws, self.project_id = ws, project_id

    def before_write(self, api_path: str, temp_path: str) -> None:
        """Refuse a write over the project's quota (507); else tell the watcher this write is the server's own."""
        extra = sum(count(self.project_id) for count in self.ws.quota_extra) if self.ws.config.project_quota_mb else 0
        quota.check(self.ws.projects.root(self.project_id), self.ws.config.project_quota_mb,
                    Path(temp_path).parent / Path(api_path).name, extra)
        self.ws.watcher.note_own(self.project_id, api_path, stat_key(temp_path))

    def before_remove(self, api_path: str) -> None:
        """Tell the watcher this removal is the server's own."""
        self.ws.watcher.note_own(self.project_id, api_path, None)

    def changed(self, event: str, api_path: str, new_path: str | None = None) -> None:
        """Snapshot soon, with the change as the message."""
        what = f"{api_path} -> {new_path}" if new_path else api_path
        self.ws.autosnap.request(self.project_id, f"{event} {what}")


class Workspace:
    """Per-server state of projects; thread-safe."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = Store.for_data_dir(config.data_dir)
        owner = (config.kernel_uid, config.kernel_gid) if os.geteuid() == 0 else None
        uids = for_config(config, self.store)
        self.projects = ProjectManager(self.store, config.data_dir, config.default_project_dir, owner, uids)
        self.watcher = Watcher(self._on_fs_change, force_polling=config.watch_polling)
        self.autosnap = AutoSnapshots(self.snapshots, config.snapshot_interval, self._on_snapshot)
        self._contents: dict[str, tuple[str, ContentsManager]] = {}
        self._snapshots: dict[str, tuple[str, Snapshots]] = {}
        self._lock = threading.Lock()
        self.quota_extra: list[Any] = []  # (project id) -> bytes held elsewhere that count toward its quota

    def contents(self, project_id: str | None) -> ContentsManager:
        """The contents manager of a project (default project when None); starts watching it."""
        pid = project_id or DEFAULT_ID
        root = self.projects.get(pid)["path"]
        with self._lock:
            cached = self._contents.get(pid)
            if cached and cached[0] == root:
                return cached[1]
            cm = ContentsManager(root, ProjectState(self.config.data_dir, pid), _ProjectHooks(self, pid))
            self._contents[pid] = (root, cm)
        self.watcher.watch(pid, root)
        self.autosnap.mark_dirty(pid)  # first snapshot soon after a project is first used
        return cm

    def snapshots(self, project_id: str | None) -> Snapshots:
        """The snapshotter of a project."""
        pid = project_id or DEFAULT_ID
        root = self.projects.get(pid)["path"]
        max_mb = self.config.snapshot_max_file_mb
        with self._lock:
            cached = self._snapshots.get(pid)
            if not cached or cached[0] != root:
                cached = (root, Snapshots(root, max_mb * 1024 * 1024, ProjectState(self.config.data_dir, pid)))
                self._snapshots[pid] = cached
            return cached[1]

    def forget(self, project_id: str) -> None:
        """Drop cached managers and the watch of a deleted or moved project."""
        with self._lock:
            self._contents.pop(project_id, None)
            self._snapshots.pop(project_id, None)
        self.watcher.unwatch(project_id)

    def _on_fs_change(self, project_id: str) -> None:
        self.autosnap.mark_dirty(project_id)

    def _on_snapshot(self, project_id: str, snap: Snapshot) -> None:
        log = self.watcher.log(project_id)
        if snap.commit:
            log.add({"type": "snapshot", "version": snap.commit, "paths": snap.changed[:100], "external": False})
            self._index_files(project_id, snap.changed)
        if snap.skipped:
            log.add({"type": "snapshot_skipped", "paths": snap.skipped[:100], "external": False,
                     "message": f"{len(snap.skipped)} file(s) too large for snapshots were left out"})

    def _index_files(self, project_id: str, changed: list[str]) -> None:
        """Keep the files table in step with what the snapshot saw change."""
        root = Path(self.projects.get(project_id, include_deleted=True)["path"])
        rows, gone = [], []
        for rel in changed:
            try:
                st = os.lstat(root / rel)  # never follow a link a session planted
                rows.append({"project_id": project_id, "path": rel, "size": st.st_size, "mtime": st.st_mtime})
            except OSError:
                gone.append(rel)
        with self.store.write() as db:
            if rows:
                db["files"].upsert_all(rows, pk=("project_id", "path"))
            for rel in gone:
                db.execute("delete from files where project_id = ? and path = ?", (project_id, rel))

    def start_sweep(self) -> threading.Thread:
        """Remove temp files a killed server left in any project, in a background thread (at start)."""
        def run() -> None:
            roots = [row["path"] for row in self.projects.list(archived=True)]
            sweep_all(self.config.data_dir, roots)

        thread = threading.Thread(target=run, name="salvus-sweep", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Stop threads and close the database."""
        self.autosnap.stop()
        self.watcher.stop()
        self.store.close()


def _on_store_error(exc: StoreError) -> Any:
    return json_error(exc.status, exc.message, exc.reason)


def init_workspace(app: Flask) -> Workspace:
    """Create the app's Workspace once and register the StoreError → JSON handler."""
    services = app.extensions["salvus"]
    ws = getattr(services, "workspace", None)
    if ws is None:
        ws = Workspace(services.config)
        services.workspace = ws
        app.register_error_handler(StoreError, _on_store_error)
    return ws


def workspace() -> Workspace:
    """The current app's Workspace."""
    return current_app.extensions["salvus"].workspace


def project_scope(project_id: str | None) -> tuple[str, Path | None]:
    """(project id, folder) of a Jupyter base URL: ``/p/<id>/`` (404 when unknown), or the default project for ``/api``."""
    if project_id is None:
        return DEFAULT_ID, None  # None: the kernel manager's own root, which is the default project's folder
    return project_id, workspace().projects.root(project_id)
