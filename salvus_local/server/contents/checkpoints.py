"""Jupyter checkpoints: one named copy per file under .salvus/checkpoints (never in git)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salvus_local.store.atomic import atomic_write, os_error
from salvus_local.store.errors import BadRequest, NotFound
from salvus_local.store.layout import local_dir

from .models import iso, read_bytes

if TYPE_CHECKING:
    from .manager import ContentsManager

CHECKPOINT_ID = "checkpoint"  # jupyter_server's FileCheckpoints keeps one, with this id


class Checkpoints:
    """Create, list, restore and delete checkpoints of files in one root."""

    def __init__(self, contents: ContentsManager) -> None:
        self.contents = contents

    def _dir(self, api_path: str, create: bool = False) -> Path:
        base = local_dir(self.contents.root, "checkpoints") if create else self.contents.root / ".salvus" / "checkpoints"
        return base.joinpath(*api_path.split("/"))

    def _file(self, api_path: str, checkpoint_id: str, create: bool = False) -> Path:
        if checkpoint_id != CHECKPOINT_ID:
            raise NotFound(f"checkpoint does not exist: {api_path}@{checkpoint_id}")
        return self._dir(api_path, create) / checkpoint_id

    @staticmethod
    def _model(path: Path) -> dict[str, Any]:
        return {"id": CHECKPOINT_ID, "last_modified": iso(path.stat().st_mtime)}

    def create(self, api_path: str) -> dict[str, Any]:
        """Copy the current file into its checkpoint and return the checkpoint model."""
        src = self.contents.os_path(api_path)
        if src.is_dir():
            raise BadRequest(f"Cannot checkpoint a directory: {api_path}")
        if not src.is_file():
            raise NotFound(f"file does not exist: {api_path}")
        dst = self._file(api_path, CHECKPOINT_ID, create=True)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, api_path) from None
        atomic_write(dst, read_bytes(src, api_path), api_path)
        return self._model(dst)

    def list(self, api_path: str) -> list[dict[str, Any]]:
        """Return the checkpoints of a file ([] or one)."""
        if not self.contents.exists(api_path):
            raise NotFound(f"file does not exist: {api_path}")
        path = self._dir(api_path) / CHECKPOINT_ID
        return [self._model(path)] if path.is_file() else []

    def restore(self, api_path: str, checkpoint_id: str) -> None:
        """Write a checkpoint back over its file (atomically)."""
        path = self._file(api_path, checkpoint_id)
        if not path.is_file():
            raise NotFound(f"checkpoint does not exist: {api_path}@{checkpoint_id}")
        self.contents.write_bytes(api_path, read_bytes(path, api_path))
        self.contents.hooks.changed("saved", api_path)

    def delete(self, api_path: str, checkpoint_id: str) -> None:
        """Delete one checkpoint."""
        path = self._file(api_path, checkpoint_id)
        try:
            path.unlink()
        except FileNotFoundError:
            raise NotFound(f"checkpoint does not exist: {api_path}@{checkpoint_id}") from None

    def delete_all(self, api_path: str) -> None:
        """Forget the checkpoints of a deleted file or folder."""
        path = self._dir(api_path)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)

    def rename(self, old_path: str, new_path: str) -> None:
        """Move checkpoints along with a renamed file or folder."""
        old = self._dir(old_path)
        if old.exists():
            new = self._dir(new_path, create=True)
            new.parent.mkdir(parents=True, exist_ok=True)
            if not new.exists():
                os.rename(old, new)
