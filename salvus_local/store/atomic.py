"""Atomic file writes: a temp file in the same folder, fsync, rename over, fsync the folder.

A reader (or a crash, or kill -9) sees the old content or the new one, never a mix.  The temp
file is named ``.~salvus-<pid>-*.tmp`` so watchers and listings can ignore it; it is removed on
any failure, and ``sweep_temp_files`` removes those whose writer process is gone (kill -9):
every later write to the same folder does that first, and so does the server at start
(store/sweep.py).
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from . import owner
from .errors import Forbidden, InsufficientStorage, NotFound, StoreError

TEMP_PREFIX = ".~salvus-"
TEMP_SUFFIX = ".tmp"
_live: set[str] = set()  # temp files this process is writing right now
_live_lock = threading.Lock()

# errno -> (error class, message prefix): what the user is told when the OS refuses.
_OS_ERRORS: dict[int, tuple[type[StoreError], str]] = {
    errno.ENOSPC: (InsufficientStorage, "The disk is full"),
    errno.EDQUOT: (InsufficientStorage, "The disk quota is exceeded"),
    errno.EFBIG: (InsufficientStorage, "The file is larger than allowed"),
    errno.EACCES: (Forbidden, "Permission denied"),
    errno.EPERM: (Forbidden, "Operation not permitted"),
    errno.EROFS: (Forbidden, "The file system is read-only"),
    errno.ENOENT: (NotFound, "No such file or directory"),
    errno.ENOTDIR: (NotFound, "A parent is not a directory"),
    errno.EISDIR: (StoreError, "Is a directory"),
    errno.ENAMETOOLONG: (StoreError, "File name too long"),
}


def os_error(exc: OSError, what: str) -> StoreError:
    """Translate an OSError into a StoreError whose message names ``what`` (never a full path)."""
    cls, text = _OS_ERRORS.get(exc.errno or 0, (StoreError, "Could not write"))
    err = cls(f"{text}: {what}")
    if cls is StoreError:
        err.status = 400 if exc.errno in (errno.EISDIR, errno.ENAMETOOLONG) else 500
    return err


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory entry change (a rename or create) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: str | os.PathLike[str], what: str = "",
                before_replace: Callable[[str], None] | None = None) -> Iterator[object]:
    """Yield a binary file; on clean exit it replaces ``path`` atomically and durably."""
    # before_replace(temp_path) runs once the data is durable, just before the rename: the
    # watcher uses it to recognise the server's own write.
    path = Path(path)
    what = what or path.name
    sweep_temp_files(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise os_error(exc, what) from None
    with _live_lock:
        _live.add(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        give_to_folder_owner(tmp)
        if before_replace:
            before_replace(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise os_error(exc, what) from None
    except BaseException:
        _unlink_quietly(tmp)
        raise
    finally:
        with _live_lock:
            _live.discard(tmp)


def give_to_folder_owner(path: str | os.PathLike[str]) -> None:
    """As root, give a new file or folder the owner of its folder: kernels and terminals run as that uid."""
    # With the owner's rights (store.owner.as_owner) new files are the owner's already.
    if os.geteuid() == 0 and owner.active() is None:
        st = os.stat(os.path.dirname(os.path.abspath(path)))
        os.lchown(path, st.st_uid, st.st_gid)


def make_dirs(path: str | os.PathLike[str]) -> None:
    """Create a folder and its missing parents, each given to its folder's owner (see give_to_folder_owner)."""
    path = Path(path)
    if path.is_dir():
        return
    make_dirs(path.parent)
    path.mkdir(exist_ok=True)
    give_to_folder_owner(path)


def atomic_write(path: str | os.PathLike[str], data: bytes, what: str = "",
                 before_replace: Callable[[str], None] | None = None) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with atomic_open(path, what, before_replace) as f:
        f.write(data)  # type: ignore[attr-defined]


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def sweep_temp_files(folder: str | os.PathLike[str]) -> int:
    """Remove temp files in ``folder`` whose writer is no longer running (or is us, finished)."""
    removed = 0
    try:
        entries = [e for e in os.scandir(folder) if is_temp_name(e.name)]
    except OSError:
        return 0
    for entry in entries:
        if _writer_alive(entry.name, entry.path):
            continue
        try:
            os.unlink(entry.path)
            removed += 1
        except OSError:
            pass
    return removed


def _writer_alive(name: str, path: str) -> bool:
    try:
        pid = int(name[len(TEMP_PREFIX) :].split("-", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        with _live_lock:
            return path in _live
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def is_temp_name(name: str) -> bool:
    """True for our own temp files (hidden from listings and watchers)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)
