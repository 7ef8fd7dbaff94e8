"""File access of a room through the project's ContentsManager (as the project owner; quota, snapshots)."""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any

from salvus_local.server.contents.manager import ContentsManager
from salvus_local.store import quota
from salvus_local.store.atomic import atomic_write
from salvus_local.store.errors import StoreError
from salvus_local.store.watcher import stat_key


class ProjectFiles:
    """Implements salvus_local.collab.rooms.Files over one ContentsManager."""

    def __init__(self, cm: ContentsManager) -> None:
        self.cm = cm

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it is missing (or not a readable file)."""
        try:
            if not self.cm.exists(path) or self.cm.is_dir(path):
                return None
            return self.cm.read_file(path)
        except StoreError:
            return None

    def stat(self, path: str) -> Any:
        """(mtime_ns, size) of the file, None when missing."""
        try:
            return stat_key(self.cm.os_path(path))
        except StoreError:
            return None

    def write(self, path: str, kind: str, content: Any) -> None:
        """Save through the contents manager, like a client's PUT (raises StoreError, e.g. 507 over quota)."""
        if kind == "notebook":
            model = {"type": "notebook", "content": content}
        else:
            model = {"type": "file", "format": "text", "content": content}
        self.cm.save(model, path)

    def put_base(self, sha: str, content: Any) -> None:
        """Keep a synced content in the project's private state (collab-bases/<sha>.json); prune old ones."""
        folder = self.cm.state.folder("collab-bases")
        target = folder / f"{sha}.json"
        if target.exists():
            os.utime(target)  # used again: kept longer
        else:
            atomic_write(target, json.dumps(content).encode("utf-8"), "collab base")
        _prune(folder)

    def get_base(self, sha: str) -> Any:
        """A content kept by put_base, or None."""
        if not _SHA.match(sha or ""):
            return None
        try:
            return json.loads((self.cm.state.folder("collab-bases") / f"{sha}.json").read_bytes())
        except (OSError, ValueError):
            return None


_SHA = re.compile(r"^[0-9a-f]{32}$")
KEEP_BASES = 30 * 86400  # seconds: a client offline longer than this merges against the room's load


def _prune(folder: Any) -> None:
    """Remove bases not used for KEEP_BASES (about once per hundred calls: listing is not free)."""
    if os.urandom(1)[0] > 2:
        return
    cutoff = time.time() - KEEP_BASES
    for entry in os.scandir(folder):
        try:
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
        except OSError:
            pass


class ProjectQuota:
    """The project quota (``project_quota_mb``) as rooms see it: the project's files plus its rooms' stored
    updates.  Files are summed at most every USAGE_TTL seconds (a walk of the folder); the rooms' bytes
    are exact (kept by the UpdateStore)."""

    USAGE_TTL = 2.0

    def __init__(self, ws: Any, updates: Any, quota_mb: int) -> None:
        self.ws, self.updates, self.quota_mb = ws, updates, quota_mb
        self._usage: dict[str, tuple[float, int]] = {}

    def refusal(self, project_id: str, adding: int) -> str | None:
        """A short message when ``adding`` more bytes of room history would pass the quota, else None."""
        if not self.quota_mb:
            return None
        at, files = self._usage.get(project_id, (0.0, 0))
        if time.monotonic() - at > self.USAGE_TTL:
            files = quota.usage(self.ws.projects.root(project_id))
            self._usage[project_id] = (time.monotonic(), files)
        used = files + self.updates.project_bytes(project_id) + adding
        if used <= self.quota_mb * quota.MB:
            return None
        return (f"over the project's disk quota ({used / quota.MB:.1f} of {self.quota_mb} MB, edit history "
                "counted): edits refused; free space")
