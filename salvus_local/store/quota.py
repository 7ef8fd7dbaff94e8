"""Per-project disk quota for writes through the server (``project_quota_mb``; 0 = none).

Checked when a new file version is durable in its temp file and before it replaces the old one
(ContentsHooks.before_write), so a refused write leaves the old file as it was and no temp file.
Files that sessions write themselves are counted but not stopped here: a hard limit on what a
project's uid writes needs file-system quotas (``setquota``), which this does not set up.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InsufficientStorage

MB = 1024 * 1024


def usage(root: str | os.PathLike[str]) -> int:
    """Bytes used by the files under root (links are not followed; .git counts)."""
    total, todo = 0, [str(root)]
    while todo:
        try:
            with os.scandir(todo.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            todo.append(entry.path)
                        else:
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        pass
        except OSError:
            pass
    return total


def check(root: str | os.PathLike[str], quota_mb: int, target: str | os.PathLike[str], extra: int = 0) -> None:
    """Raise 507 when the project, with the new version of target already in its temp file, is over quota.

    ``extra``: bytes the project holds outside its folder (its rooms' edit history) that count too."""
    if not quota_mb:
        return
    try:
        replaced = Path(target).lstat().st_size  # the old version goes away with the rename
    except OSError:
        replaced = 0
    after = usage(root) - replaced + extra
    if after > quota_mb * MB:
        raise InsufficientStorage(
            f"Over the project's disk quota: this write would make it {after / MB:.1f} MB of {quota_mb} MB; "
            "delete files (and empty the trash) or ask for a larger quota", reason="Insufficient Storage")
