"""Chunked uploads, as JupyterLab sends large files: PUT models with ``chunk`` 1, 2, … and -1 last.

The chunks go to a hidden temp file next to the target (named like every other temp file of
ours, so a crashed server's leftovers are swept); only the last chunk renames it into place,
atomically, so a reader never sees half an upload and an interrupted upload loses nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salvus_local.store.atomic import TEMP_PREFIX, TEMP_SUFFIX, fsync_dir, hold_temp, os_error, release_temp
from salvus_local.store.errors import BadRequest

if TYPE_CHECKING:
    from .manager import ContentsManager


def part_path(os_path: Path) -> Path:
    """The temp file that collects the chunks of an upload to os_path."""
    tag = hashlib.sha1(os_path.name.encode()).hexdigest()[:16]
    return os_path.parent / f"{TEMP_PREFIX}{os.getpid()}-upload-{tag}{TEMP_SUFFIX}"


def save_chunk(cm: ContentsManager, model: dict[str, Any], api_path: str, os_path: Path) -> bool:
    """Append one chunk; return True when it was the last one and the file is in place."""
    chunk = model.get("chunk")
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk == 0 or chunk < -1:
        raise BadRequest("chunk must be 1 for the first part, 2, 3, … for the next, and -1 for the last")
    if model.get("type") != "file" or model.get("format") != "base64":
        raise BadRequest("A chunked upload sends a file model with format base64")
    try:
        data = base64.b64decode(str(model.get("content") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("The chunk is not valid base64") from None
    part = part_path(os_path)
    if chunk != 1 and not part.exists():
        raise BadRequest(f"No upload of {api_path} is in progress: send chunk 1 first")
    try:
        with open(part, "wb" if chunk == 1 else "ab") as f:
            hold_temp(part)
            f.write(data)
            if chunk == -1:
                f.flush()
                os.fsync(f.fileno())
        if chunk == -1:
            cm.hooks.before_write(api_path, str(part))
            os.replace(part, os_path)
            fsync_dir(os_path.parent)
            release_temp(part)
    except OSError as exc:
        release_temp(part)
        part.unlink(missing_ok=True)  # a refused chunk ends the upload; the old file is untouched
        raise os_error(exc, api_path) from None
    return chunk == -1
