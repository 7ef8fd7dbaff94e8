"""Private modes for the data dir, set at creation and repaired at every start.

Sessions must never read the database (every project's cell history), the cookie secret, the run
folder (sockets, server.json with the token) or the server's state.  They must still ENTER
``projects/`` to reach their own project, so on a root server (sessions run as another uid) the
data dir and ``projects/`` are 0711: passable, not listable.  Everything else is 0700 (folders) or
0600 (files).  Links are never followed: a mode is only set on the real thing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FILES = ("salvus.db", "salvus.db-wal", "salvus.db-shm", "salvus.db-journal", "secret")
PRIVATE_DIRS = ("run", "trash")
PASSABLE_DIRS = ("projects", "state")  # sessions pass through (their project; git as the owner)


def _chmod(path: Path, mode: int, want_dir: bool) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode) != want_dir:
        return
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)


def secure_data_dir(data_dir: str | os.PathLike[str], sessions_other_uid: bool) -> None:
    """Set the data dir's modes (see the module docstring); ``sessions_other_uid``: a root server."""
    data = Path(data_dir)
    passable = 0o711 if sessions_other_uid else 0o700
    _chmod(data, passable, True)
    for name in PASSABLE_DIRS:
        _chmod(data / name, passable, True)
    for name in PRIVATE_DIRS:
        _chmod(data / name, 0o700, True)
    for name in PRIVATE_FILES:
        _chmod(data / name, 0o600, False)
    for entry in os.scandir(data):  # any other file of ours at the top (logs, probes, …) is private too
        if entry.is_file(follow_symlinks=False):
            _chmod(Path(entry.path), 0o600, False)


def create_private_file(path: str | os.PathLike[str]) -> None:
    """Create an empty file with mode 0600 unless it exists (SQLite then gives its -wal/-shm the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return
    os.close(fd)
