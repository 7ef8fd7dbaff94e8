"""Touch a project's files with the project owner's file-system rights, never with root's.

Sessions run as the project folder's owner and can plant links anywhere inside it.  A root
server that followed such a link would read, write or chown whatever it points at.  So, when
the server is root and the folder belongs to another uid, every file operation on a project
runs inside ``as_owner(root)``: the calling thread's fsuid/fsgid become the owner's and its
supplementary groups are dropped, so the kernel checks every path component (links included)
exactly as it would for a session.  Linux's setfsuid/setfsgid and the raw setgroups system call
change only the calling thread (glibc's ``setgroups()`` would change every thread of the server,
so it is not used), and a switch from fsuid 0 also drops the capabilities that bypass file
permissions.  Server-private state (checkpoints, locks, uploads: salvus_local.store.state) is
reached with root's rights again through ``as_server()``.

Elsewhere (a non-root server, or a folder root owns) there is nothing to protect against:
sessions already run with the server's rights.  On non-Linux root servers ``as_owner`` refuses
to act rather than follow links as root.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from .errors import Forbidden

_LINUX = sys.platform.startswith("linux")
_libc = ctypes.CDLL(None, use_errno=True) if _LINUX else None
# setgroups(2) numbers (32-bit gid_t) for the architectures we run on.
_SYS_SETGROUPS = {"x86_64": 116, "aarch64": 159, "arm64": 159, "ppc64le": 81, "s390x": 206}.get(platform.machine())
_state = threading.local()

F = TypeVar("F", bound=Callable[..., Any])


def project_owner(root: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(uid, gid) whose rights project file operations need, or None when the server's own rights are safe."""
    if os.geteuid() != 0:
        return None
    st = os.stat(root)
    return None if st.st_uid == 0 else (st.st_uid, st.st_gid)


def active() -> tuple[int, int] | None:
    """The owner whose rights this thread holds now (None: the server's own)."""
    return getattr(_state, "owner", None)


def _setgroups(groups: list[int]) -> None:
    assert _libc is not None and _SYS_SETGROUPS is not None
    array = (ctypes.c_uint * max(1, len(groups)))(*groups)
    if _libc.syscall(_SYS_SETGROUPS, len(groups), array if groups else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setgroups: {os.strerror(err)}")


def _switch(uid: int, gid: int, groups: list[int]) -> None:
    """Set this thread's file-system credentials (and verify them: setfsuid reports no errors)."""
    assert _libc is not None
    _setgroups(groups)
    _libc.setfsgid(gid)
    _libc.setfsuid(uid)
    if _libc.setfsuid(-1) != uid or _libc.setfsgid(-1) != gid:  # -1 is invalid: the call only reports
        raise OSError(f"could not switch file-system credentials to {uid}:{gid}")


@contextmanager
def as_owner(root: str | os.PathLike[str]) -> Iterator[None]:
    """Run the block with the file-system rights of the owner of ``root`` (see the module docstring)."""
    owner = project_owner(root)
    current = active()
    if owner is None or current == owner:
        yield
        return
    if not _LINUX or _SYS_SETGROUPS is None:
        raise Forbidden("This server runs as root on a platform where it cannot act with the project "
                        "owner's rights; run it as an ordinary user")
    saved = os.getgroups() if current is None else getattr(_state, "groups")
    _switch(owner[0], owner[1], [])
    _state.owner, _state.groups = owner, saved
    try:
        yield
    finally:
        if current is None:
            _switch(os.geteuid(), os.getegid(), saved)
        else:
            _switch(current[0], current[1], [])
        _state.owner = current


@contextmanager
def as_server() -> Iterator[None]:
    """Run the block with the server's own rights (to reach its private state from inside ``as_owner``)."""
    current = active()
    if current is None:
        yield
        return
    saved = getattr(_state, "groups")
    _switch(os.geteuid(), os.getegid(), saved)
    _state.owner = None
    try:
        yield
    finally:
        _switch(current[0], current[1], [])
        _state.owner = current


def owned(method: F) -> F:
    """Decorate a method of an object with a ``root`` attribute: it runs ``as_owner(self.root)``."""

    @wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with as_owner(self.root):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
