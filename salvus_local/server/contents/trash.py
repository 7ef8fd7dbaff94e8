"""The project's trash: deleted files move to .salvus/trash/<id>/ and can be restored.

The trash holds the user's own files, so it stays in the project; it is handled with the project
owner's rights (``store.owner``), like every other file operation there.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salvus_local.store import paths
from salvus_local.store.atomic import atomic_write, fsync_dir, make_dirs, os_error
from salvus_local.store.errors import BadRequest, Conflict, NotFound
from salvus_local.store.layout import local_dir
from salvus_local.store.owner import owned

if TYPE_CHECKING:
    from .manager import ContentsManager


class Trash:
    """Recoverable deletion inside one project root."""

    def __init__(self, contents: ContentsManager) -> None:
        self.contents = contents
        self.root = contents.root  # every method runs with the project owner's rights (@owned)

    @owned
    def put(self, api_path: str, os_path: Path) -> str:
        """Move a file or folder into the trash; return its trash id."""
        trash_id = f"{int(time.time() * 1000)}-{secrets.token_hex(4)}"
        entry = local_dir(self.contents.root, "trash") / trash_id
        try:
            entry.mkdir()
            # The record is written first: a crash after the move still knows where it came from.
            atomic_write(entry / "meta.json", json.dumps({"path": api_path, "deleted": time.time()}).encode())
            os.rename(os_path, entry / "item")
            fsync_dir(entry)
            fsync_dir(os_path.parent)
        except OSError as exc:
            if not (entry / "item").exists():
                shutil.rmtree(entry, ignore_errors=True)
            raise os_error(exc, api_path) from None
        return trash_id

    @owned
    def list(self) -> list[dict[str, Any]]:
        """Return the trashed items, newest first: id, path, deleted (POSIX time), type."""
        base = self.contents.root / ".salvus" / "trash"
        out = []
        try:
            entries = list(base.iterdir()) if base.is_dir() and not base.is_symlink() else []
        except OSError:
            entries = []  # unreadable: nothing we can restore from
        for entry in entries:
            meta = _meta(entry)
            if meta is None:
                continue
            item = entry / "item"
            if item.exists() or item.is_symlink():
                out.append({"id": entry.name, "path": meta["path"], "deleted": meta["deleted"],
                            "type": "directory" if item.is_dir() else "file"})
        return sorted(out, key=lambda m: m["deleted"], reverse=True)

    @owned
    def restore(self, trash_id: str, to_path: str | None = None) -> str:
        """Move a trashed item back (to its old path or ``to_path``); 409 if something is there."""
        entry = self.contents.root / ".salvus" / "trash" / paths.normalize(trash_id)
        if "/" in trash_id or not (entry / "meta.json").is_file():
            raise NotFound(f"No such item in the trash: {trash_id}")
        meta = _meta(entry)
        if meta is None:
            raise NotFound(f"No such item in the trash: {trash_id}")
        if to_path is not None and not isinstance(to_path, str):
            raise BadRequest('Give the place to restore to as {"path": "folder/name"}')
        api_path = paths.normalize(to_path or meta["path"])
        target = self.contents.os_path(api_path)
        if target.exists() or target.is_symlink():
            raise Conflict(f"File already exists: {api_path}")
        try:
            make_dirs(target.parent)
            self.contents.hooks.before_write(api_path, str(entry / "item"))
            os.rename(entry / "item", target)
            fsync_dir(target.parent)
        except OSError as exc:
            raise os_error(exc, api_path) from None
        shutil.rmtree(entry, ignore_errors=True)
        self.contents.hooks.changed("saved", api_path)
        return api_path


def _meta(entry: Path) -> dict[str, Any] | None:
    """A trash entry's record ({path: str, deleted: number}), or None when missing or malformed."""
    try:
        meta = json.loads((entry / "meta.json").read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    ok = (isinstance(meta, dict) and isinstance(meta.get("path"), str)
          and isinstance(meta.get("deleted"), (int, float)) and not isinstance(meta.get("deleted"), bool))
    return meta if ok else None
