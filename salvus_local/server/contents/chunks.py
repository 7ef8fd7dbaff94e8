"""Chunked uploads, as JupyterLab sends large files: PUT models with ``chunk`` 1, 2, … and -1 last.

The chunks collect in a part file in the server's state folder (``<state>/uploads``, 0700, out of
the project: a session cannot plant a link where the server appends).  Only the last chunk copies
the part into the project, through an atomic write with the project owner's rights, so a reader
never sees half an upload and an interrupted upload loses nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salvus_local.store.atomic import atomic_open, os_error
from salvus_local.store.errors import BadRequest
from salvus_local.store.owner import as_owner, as_server

if TYPE_CHECKING:
    from .manager import ContentsManager

_FLAGS = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC


def part_path(cm: ContentsManager, api_path: str) -> Path:
    """The part file that collects the chunks of an upload to api_path."""
    tag = hashlib.sha256(api_path.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    with as_server():
        return cm.state.folder("uploads") / f"{tag}.part"


def save_chunk(cm: ContentsManager, model: dict[str, Any], api_path: str, os_path: Path) -> bool:
    """Append one chunk; return True when it was the last one and the file is in place."""
    chunk = model.get("chunk")
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk == 0 or chunk < -1:
        raise BadRequest("chunk must be 1 for the first part, 2, 3, … for the next, and -1 for the last")
    if model.get("type") != "file" or model.get("format") != "base64":
        raise BadRequest("A chunked upload sends a file model with format base64")
    content = model.get("content")
    if content is not None and not isinstance(content, str):
        raise BadRequest("A chunk's content must be a base64 string")
    try:
        data = base64.b64decode(content or "", validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("The chunk is not valid base64") from None
    part = part_path(cm, api_path)
    with as_server():
        if chunk != 1 and not part.exists():
            raise BadRequest(f"No upload of {api_path} is in progress: send chunk 1 first")
        try:
            fd = os.open(part, _FLAGS | (os.O_TRUNC if chunk == 1 else os.O_APPEND), 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            source = open(part, "rb") if chunk == -1 else None
        except OSError as exc:
            part.unlink(missing_ok=True)  # a refused chunk ends the upload; the old file is untouched
            raise os_error(exc, api_path) from None
    if source is None:
        return False
    try:
        with source, as_owner(cm.root), atomic_open(os_path, api_path,
                                                     lambda tmp: cm.hooks.before_write(api_path, tmp)) as f:
            shutil.copyfileobj(source, f, 1024 * 1024)  # type: ignore[misc]
    finally:
        with as_server():
            part.unlink(missing_ok=True)
    return True
