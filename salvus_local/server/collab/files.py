"""File access of a room through the project's ContentsManager (as the project owner; quota, snapshots)."""

from __future__ import annotations

from typing import Any

from salvus_local.server.contents.manager import ContentsManager
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
