"""Server-private state of each project, kept OUT of the project folder: ``<data_dir>/state/<project_id>/``.

Sessions can write anywhere in their project, so nothing the server relies on lives there:

    state/                 0711, the server's: passable (git, run as the owner, reaches git/), not listable
      <project_id>/        0711, the server's
        checkpoints/       0700, the server's: Jupyter checkpoints, <api path>/checkpoint
        uploads/           0700, the server's: chunked uploads in progress
        snapshot.lock      0600, the server's: serializes snapshotters (flock)
        git/               0700, the project owner's: the private snapshot index (git runs as the owner)

Every folder here is created by the server in a folder only it can write, so no session can put
a link in the way; opens still use O_NOFOLLOW so a mistake elsewhere cannot turn into one.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import StoreError

STATE = "state"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _private_dir(path: Path, mode: int, owner: tuple[int, int] | None = None) -> Path:
    """Create ``path`` (a real folder, not a link) with ``mode`` and owner, repairing both."""
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise StoreError(f"Server state folder {path.name} is not a folder; remove it")
    if owner and (st.st_uid, st.st_gid) != owner:
        os.lchown(path, *owner)
    elif not owner and st.st_uid != os.geteuid():
        os.lchown(path, os.geteuid(), os.getegid())
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)  # a real folder (checked above) in a folder only the server writes
    return path


class ProjectState:
    """The private state folder of one project."""

    def __init__(self, data_dir: str | os.PathLike[str], project_id: str) -> None:
        self.base = Path(data_dir) / STATE
        self.dir = self.base / project_id

    def _ensure(self) -> Path:
        passable = 0o711 if os.geteuid() == 0 else 0o700  # a root server's git runs as the owner
        _private_dir(self.base, passable)
        return _private_dir(self.dir, passable)

    def folder(self, name: str) -> Path:
        """A server-only folder (checkpoints, uploads), created on demand (0700)."""
        return _private_dir(self._ensure() / name, 0o700)

    def owner_folder(self, name: str, owner: tuple[int, int] | None) -> Path:
        """A folder that git, running as the project owner, may write (0700, the owner's)."""
        return _private_dir(self._ensure() / name, 0o700, owner)

    def open_lock(self, name: str) -> int:
        """Open (creating, 0600) a lock file of the server's; returns a file descriptor."""
        return os.open(self._ensure() / name, os.O_RDWR | os.O_CREAT | _NOFOLLOW | os.O_CLOEXEC, 0o600)
