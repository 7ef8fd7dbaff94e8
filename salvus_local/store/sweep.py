"""Start-up sweep: temp files a killed server left behind (kill -9 during a large save or upload).

An atomic write's temp file (``.~salvus-<pid>-*.tmp``) normally goes away with its write; after a
kill -9 it stays, possibly hundreds of megabytes, until the next write to that folder.  At start
the server walks every project once (in the background, with the owner's rights, following no
link, skipping .git) and removes the temp files whose writer is gone, and drops upload parts that
no chunk has touched for an hour.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from .atomic import sweep_temp_files
from .owner import as_owner
from .state import STATE

log = logging.getLogger("salvus_local.store.sweep")
UPLOAD_MAX_IDLE = 3600.0  # seconds


def sweep_project(root: str | os.PathLike[str]) -> int:
    """Remove stale temp files anywhere in a project; return how many."""
    removed = 0
    with as_owner(root):
        for base, dirs, _files in os.walk(root):  # os.walk never descends into links
            dirs[:] = [d for d in dirs if d != ".git"]
            removed += sweep_temp_files(base)
    return removed


def sweep_uploads(data_dir: str | os.PathLike[str], max_idle: float = UPLOAD_MAX_IDLE) -> int:
    """Remove chunked-upload parts idle for longer than ``max_idle`` seconds; return how many."""
    removed = 0
    now = time.time()
    for part in Path(data_dir, STATE).glob("*/uploads/*.part"):
        try:
            if now - part.lstat().st_mtime > max_idle:
                part.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def sweep_all(data_dir: str | os.PathLike[str], roots: list[str]) -> None:
    """Sweep every project root and the upload parts (errors are logged, never raised)."""
    removed = 0
    for root in roots:
        try:
            removed += sweep_project(root)
        except Exception:  # one unreadable project must not stop the others
            log.exception("sweeping temp files of %s failed", root)
    removed += sweep_uploads(data_dir)
    if removed:
        log.warning("removed %d temp file(s) left by an interrupted save or upload", removed)
