"""The contents manager of one root directory: Jupyter's contents operations over real files.

Every public method touches the project with its owner's file-system rights (``store.owner``): a
root server never follows, with root's rights, a link a session planted.  Server-private state
(checkpoints, uploads in progress) lives in ``state``, outside the project.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from salvus_local.store import paths
from salvus_local.store.atomic import atomic_write, fsync_dir, make_dirs, os_error
from salvus_local.store.errors import BadRequest, Conflict, NotFound
from salvus_local.store.owner import owned
from salvus_local.store.state import ProjectState

from . import chunks, models
from .checkpoints import Checkpoints
from .trash import Trash


class ContentsHooks:
    """What a ContentsManager tells the rest of the server (watcher, snapshots); no-ops here."""

    def before_write(self, api_path: str, temp_path: str) -> None:
        """A file is about to be replaced by ``temp_path`` (already durable)."""

    def before_remove(self, api_path: str) -> None:
        """A file or folder is about to be moved away (rename or trash)."""

    def changed(self, event: str, api_path: str, new_path: str | None = None) -> None:
        """The API changed a path: event is saved, renamed or deleted."""


_UNTITLED = {"notebook": ("Untitled", ".ipynb", ""), "file": ("untitled", ".txt", ""), "directory": ("Untitled Folder", "", " ")}


class ContentsManager:
    """Files of one project root, served in Jupyter's contents model shapes."""

    def __init__(self, root: str | os.PathLike[str], state: ProjectState, hooks: ContentsHooks | None = None) -> None:
        self.root = Path(root)
        self.state = state
        self.hooks = hooks or ContentsHooks()
        self.checkpoints = Checkpoints(self)
        self.trash = Trash(self)

    @owned
    def os_path(self, api_path: str) -> Path:
        """Resolve an API path inside the root (400 malformed, 404 escaping)."""
        return paths.resolve(self.root, api_path)

    @owned
    def exists(self, api_path: str) -> bool:
        """True when the path exists (file or directory) inside the root."""
        try:
            return self.os_path(api_path).exists()
        except NotFound:
            return False

    @owned
    def is_dir(self, api_path: str) -> bool:
        """True when the path is a directory inside the root."""
        try:
            return self.os_path(api_path).is_dir()
        except NotFound:
            return False

    @owned
    def get(self, api_path: str, content: bool = True, type: str | None = None, format: str | None = None,
            hash: bool = False) -> dict[str, Any]:
        """Return the model of a file, notebook or directory."""
        api_path = paths.normalize(api_path)
        os_path = self.os_path(api_path)
        try:
            st = os_path.stat()
        except OSError:
            raise NotFound(f"file or directory does not exist: {api_path!r}") from None
        is_dir = stat.S_ISDIR(st.st_mode)
        kind = models.kind_of(api_path, is_dir)
        if is_dir and type not in (None, "directory"):
            raise BadRequest(f"{api_path} is a directory, not a {type}", reason="bad type")
        if not is_dir and type == "directory":
            raise BadRequest(f"{api_path} is not a directory", reason="bad type")
        if type in ("file", "notebook"):
            kind = type
        model = models.base_model(api_path, st, kind, os.access(os_path, os.W_OK))
        if kind == "directory":
            if content:
                model.update(content=models.directory_content(os_path, api_path), format="json")
            return model
        if not content and not hash:
            if kind == "file":
                model["mimetype"] = models.mimetypes.guess_type(api_path)[0]
            return model
        data = models.read_bytes(os_path, api_path)
        if hash:
            model.update(models.content_hash(data))
        if not content:
            return model
        if kind == "notebook":
            model.update(content=models.read_notebook(data, api_path), format="json")
        else:
            text, fmt, mime = models.file_content(data, api_path, format)
            model.update(content=text, format=fmt, mimetype=mime)
        return model

    @owned
    def save(self, model: dict[str, Any], api_path: str) -> dict[str, Any]:
        """Write a model to a path atomically and return the content-less model."""
        api_path = paths.normalize(api_path)
        if not api_path:
            raise BadRequest("Cannot save to the root folder itself")
        kind = model.get("type")
        os_path = self.os_path(api_path)
        if not os_path.parent.is_dir():
            raise NotFound(f"No such directory: {api_path.rpartition('/')[0]!r}")
        if kind == "directory":
            if os_path.exists() and not os_path.is_dir():
                raise Conflict(f"A file already exists at {api_path}")
            try:
                make_dirs(os_path)
                fsync_dir(os_path.parent)
            except OSError as exc:
                raise os_error(exc, api_path) from None
        elif "chunk" in model:
            if os_path.is_dir():
                raise Conflict(f"A directory already exists at {api_path}")
            if not chunks.save_chunk(self, model, api_path, os_path):
                return self.get_partial(api_path)
        elif kind in ("notebook", "file"):
            if "content" not in model or model["content"] is None:
                raise BadRequest("No file content provided")
            if os_path.is_dir():
                raise Conflict(f"A directory already exists at {api_path}")
            data = models.notebook_bytes(model["content"], api_path) if kind == "notebook" else models.file_bytes(model, api_path)
            self.write_bytes(api_path, data)
        elif kind is None:
            raise BadRequest("No file type provided")
        else:
            raise BadRequest(f"Unhandled contents type: {kind}")
        self.hooks.changed("saved", api_path)
        return self.get(api_path, content=False)

    @owned
    def get_partial(self, api_path: str) -> dict[str, Any]:
        """The model of a file whose upload is still in progress (it may not exist yet)."""
        if self.exists(api_path):
            return self.get(api_path, content=False)
        name = api_path.rpartition("/")[2]
        return {"name": name, "path": api_path, "type": "file", "format": None, "mimetype": None,
                "content": None, "created": None, "last_modified": None, "size": None, "writable": True}

    @owned
    def new_untitled(self, dir_path: str = "", type: str = "file", ext: str = "") -> dict[str, Any]:
        """Create Untitled.ipynb / untitled.txt / 'Untitled Folder' (numbered if taken) in a directory."""
        dir_path = self._require_dir(dir_path)
        if type not in _UNTITLED:
            raise BadRequest(f"Unexpected type {type!r}")
        base, default_ext, sep = _UNTITLED[type]
        if type == "file" and ext:
            default_ext = ext if ext.startswith(".") else f".{ext}"
        name = self._free_name(dir_path, base, default_ext, sep)
        path = f"{dir_path}/{name}" if dir_path else name
        return self.save(self.empty_model(type), path)

    @owned
    def copy(self, from_path: str, to_dir: str = "") -> dict[str, Any]:
        """Copy a file into a directory as '<name>-Copy1<ext>' (numbered)."""
        from_path = paths.normalize(from_path)
        src = self.os_path(from_path)
        if not src.is_file():
            raise (BadRequest if src.is_dir() else NotFound)(f"Cannot copy {from_path!r}: not a file")
        to_dir = self._require_dir(to_dir)
        stem, ext = os.path.splitext(src.name)
        name = self._free_name(to_dir, f"{stem}-Copy", ext, "", start=1)
        path = f"{to_dir}/{name}" if to_dir else name
        self.write_bytes(path, models.read_bytes(src, from_path))
        self.hooks.changed("saved", path)
        return self.get(path, content=False)

    @owned
    def rename(self, old_path: str, new_path: str) -> dict[str, Any]:
        """Rename or move a file or directory; 409 when the target exists."""
        old_path, new_path = paths.normalize(old_path), paths.normalize(new_path)
        if not old_path or not new_path:
            raise BadRequest("Cannot rename the root folder")
        if new_path == old_path:
            return self.get(new_path, content=False)
        src, dst = self.os_path(old_path), self.os_path(new_path)
        if not src.exists() and not src.is_symlink():
            raise NotFound(f"File or directory does not exist: {old_path}")
        if dst.exists() or dst.is_symlink():
            raise Conflict(f"File already exists: {new_path}")
        if not dst.parent.is_dir():
            raise NotFound(f"No such directory: {new_path.rpartition('/')[0]!r}")
        self.hooks.before_remove(old_path)
        self.hooks.before_write(new_path, str(src))
        try:
            os.rename(src, dst)
            fsync_dir(dst.parent)
        except OSError as exc:
            raise os_error(exc, old_path) from None
        self.checkpoints.rename(old_path, new_path)
        self.hooks.changed("renamed", old_path, new_path)
        return self.get(new_path, content=False)

    @owned
    def delete(self, api_path: str) -> None:
        """Move a file or directory into the project's trash (recoverable)."""
        api_path = paths.normalize(api_path)
        if not api_path:
            raise BadRequest("Cannot delete the root folder")
        os_path = self.os_path(api_path)
        if not os_path.exists() and not os_path.is_symlink():
            raise NotFound(f"File or directory does not exist: {api_path}")
        self.hooks.before_remove(api_path)
        self.trash.put(api_path, os_path)
        self.checkpoints.delete_all(api_path)
        self.hooks.changed("deleted", api_path)

    @owned
    def read_file(self, api_path: str) -> bytes:
        """A file's bytes, read with the project owner's rights (the way other services read project files)."""
        return models.read_bytes(self.os_path(api_path), api_path)

    @owned
    def write_bytes(self, api_path: str, data: bytes) -> None:
        """Atomically replace a file inside the root (the one way this manager writes files)."""
        atomic_write(self.os_path(api_path), data, api_path,
                     before_replace=lambda tmp: self.hooks.before_write(api_path, tmp))

    def _require_dir(self, dir_path: str) -> str:
        dir_path = paths.normalize(dir_path)
        os_path = self.os_path(dir_path)
        if os_path.is_file():
            raise BadRequest("Cannot POST to files, use PUT instead.")
        if not os_path.is_dir():
            raise NotFound(f"No such directory: {dir_path}")
        return dir_path

    def _free_name(self, dir_path: str, base: str, ext: str, sep: str, start: int = 0) -> str:
        folder = self.os_path(dir_path)
        n = start
        while True:
            tail = f"{sep}{n}{ext}" if n else ext
            # A copy of a name near the limit must be shortened, not fail with ENAMETOOLONG (a 500).
            room = paths.NAME_MAX - len(tail.encode("utf-8", "surrogateescape"))
            if room < 1:
                raise BadRequest(f"File name too long to derive a new name from: at most {paths.NAME_MAX} bytes")
            name = base.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore") + tail
            if not (folder / name).exists():
                return name
            n += 1

    @staticmethod
    def empty_model(type: str) -> dict[str, Any]:
        """The model of a new, empty notebook, text file or directory."""
        if type == "notebook":
            import nbformat

            return {"type": "notebook", "content": nbformat.v4.new_notebook()}
        if type == "file":
            return {"type": "file", "format": "text", "content": ""}
        return {"type": "directory"}
