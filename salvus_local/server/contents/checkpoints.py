"""Jupyter checkpoints: one named copy per file, in the server's state folder (never in the project).

They live in ``<data_dir>/state/<project>/checkpoints/<api path>/checkpoint``, where sessions cannot
write, so a link a session plants can never redirect the server's copy.  The project file is read
and written back with the project owner's rights (``as_owner``); the store with the server's.
Checkpoints of older versions, kept in the project's ``.salvus/checkpoints``, are moved over once,
on first use, reading only regular files and following no link.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salvus_local.store import paths
from salvus_local.store.atomic import atomic_write, os_error
from salvus_local.store.errors import BadRequest, NotFound
from salvus_local.store.owner import as_owner, as_server

from .models import iso, read_bytes

if TYPE_CHECKING:
    from .manager import ContentsManager

CHECKPOINT_ID = "checkpoint"  # jupyter_server's FileCheckpoints keeps one, with this id
LEGACY = (".salvus", "checkpoints")
_MAX_LEGACY_BYTES = 512 * 1024 * 1024  # what a migration copies at most (the rest stays where it was)


class Checkpoints:
    """Create, list, restore and delete checkpoints of files in one root."""

    def __init__(self, contents: ContentsManager) -> None:
        self.contents = contents
        self._migrated = False

    @property
    def store(self) -> Path:
        """The checkpoint folder of this project (created, 0700), after moving legacy checkpoints in."""
        with as_server():
            base = self.contents.state.folder("checkpoints")
        if not self._migrated:
            self._migrated = True
            _migrate(self.contents.root, base)
        return base

    def _dir(self, api_path: str) -> Path:
        rel = paths.normalize(api_path)  # never '..': the store is a plain tree of API paths
        return self.store.joinpath(*rel.split("/")) if rel else self.store

    def _file(self, api_path: str, checkpoint_id: str) -> Path:
        if checkpoint_id != CHECKPOINT_ID:
            raise NotFound(f"checkpoint does not exist: {api_path}@{checkpoint_id}")
        return self._dir(api_path) / checkpoint_id

    @staticmethod
    def _model(path: Path) -> dict[str, Any]:
        return {"id": CHECKPOINT_ID, "last_modified": iso(path.stat().st_mtime)}

    def create(self, api_path: str) -> dict[str, Any]:
        """Copy the current file into its checkpoint and return the checkpoint model."""
        with as_owner(self.contents.root):
            src = self.contents.os_path(api_path)
            if src.is_dir():
                raise BadRequest(f"Cannot checkpoint a directory: {api_path}")
            if not src.is_file():
                raise NotFound(f"file does not exist: {api_path}")
            data = read_bytes(src, api_path)
        with as_server():
            dst = self._file(api_path, CHECKPOINT_ID)
            try:
                dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise os_error(exc, api_path) from None
            atomic_write(dst, data, api_path)
            return self._model(dst)

    def list(self, api_path: str) -> list[dict[str, Any]]:
        """Return the checkpoints of a file ([] or one)."""
        if not self.contents.exists(api_path):
            raise NotFound(f"file does not exist: {api_path}")
        with as_server():
            path = self._dir(api_path) / CHECKPOINT_ID
            return [self._model(path)] if path.is_file() else []

    def restore(self, api_path: str, checkpoint_id: str) -> None:
        """Write a checkpoint back over its file (atomically)."""
        with as_server():
            path = self._file(api_path, checkpoint_id)
            if not path.is_file():
                raise NotFound(f"checkpoint does not exist: {api_path}@{checkpoint_id}")
            data = read_bytes(path, api_path)
        self.contents.write_bytes(api_path, data)
        self.contents.hooks.changed("saved", api_path)

    def delete(self, api_path: str, checkpoint_id: str) -> None:
        """Delete one checkpoint."""
        with as_server():
            path = self._file(api_path, checkpoint_id)
            try:
                path.unlink()
            except FileNotFoundError:
                raise NotFound(f"checkpoint does not exist: {api_path}@{checkpoint_id}") from None

    def delete_all(self, api_path: str) -> None:
        """Forget the checkpoints of a deleted file or folder."""
        with as_server():
            path = self._dir(api_path)
            if path.is_dir() and path != self.store:
                shutil.rmtree(path, ignore_errors=True)

    def rename(self, old_path: str, new_path: str) -> None:
        """Move checkpoints along with a renamed file or folder."""
        with as_server():
            old, new = self._dir(old_path), self._dir(new_path)
            if old.exists() and not new.exists():
                new.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.rename(old, new)


def _migrate(root: Path, store: Path) -> None:
    """Move ``<root>/.salvus/checkpoints`` (written by older versions) into the store, following no link."""
    found: list[tuple[str, bytes]] = []
    with as_owner(root):
        try:
            top = os.open(root.joinpath(*LEGACY), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return  # none (or a link, which is not ours to read)
        try:
            total = 0
            for base, _dirs, files, dirfd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
                for name in files:
                    if name != CHECKPOINT_ID or total > _MAX_LEGACY_BYTES:
                        continue
                    data = _read_regular(name, dirfd)
                    if data is not None:
                        total += len(data)
                        found.append((os.path.normpath(os.path.join(base, name)), data))
        finally:
            os.close(top)
    with as_server():
        for rel, data in found:
            dst = store / rel
            if ".." in Path(rel).parts or dst.exists():
                continue
            dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(dst, data, rel)
    with as_owner(root):
        shutil.rmtree(root.joinpath(*LEGACY), ignore_errors=True)  # rmtree never follows links


def _read_regular(name: str, dirfd: int) -> bytes | None:
    """The bytes of a regular file in a folder descriptor, or None for a link or anything else."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dirfd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read()
    finally:
        os.close(fd)
