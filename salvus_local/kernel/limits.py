"""Isolation of one session: process group, rlimits, unprivileged uid, private temp dir.

Used by a forked kernel child and by ``python -m salvus_local.kernel.sandbox`` (terminals).
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
from dataclasses import asdict, dataclass
from typing import Any

MB = 1024 * 1024


@dataclass
class Limits:
    """Per-session resource limits; 0 means unlimited."""

    cpu: int = 3600              # CPU seconds
    memory_mb: int = 4096        # address space the session may add to what it starts with
    nproc: int = 256             # processes and threads the session may add (its cgroup, else its uid)
    uid_nproc: int = 0           # processes and threads all sessions of the uid may run together
    fsize_mb: int = 1024         # largest file written
    nofile: int = 1024           # open files
    idle_timeout: int = 0        # seconds without a request before the session stops itself
    max_lifetime: int = 0        # seconds after which the session stops itself
    output_limit: int = 2_000_000  # bytes of output per execution

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Limits:
        """Build Limits from a dict, ignoring unknown keys and bad values."""
        out = cls()
        for key, value in (data or {}).items():
            if hasattr(out, key) and isinstance(value, (int, float)) and value >= 0:
                setattr(out, key, int(value))
        return out

    def to_dict(self) -> dict[str, int]:
        """Return the limits as a plain dict."""
        return asdict(self)


def _vm_size() -> int:
    """Return this process's current virtual memory size in bytes (Linux), or 0."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError):
        return 0


def _tasks_of(uid: int) -> int:
    """Count processes and threads owned by uid (Linux): RLIMIT_NPROC counts both.

    So the limit caps a session's growth, not what the user (or other sessions) already run.
    """
    count = 0
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            with open(f"/proc/{entry.name}/status") as f:
                count += next((int(line.split()[1]) for line in f if line.startswith("Threads:")), 1)
        except (OSError, ValueError):
            pass
    return count


def _set(which: int, value: int) -> None:
    """Lower one rlimit (soft and hard), never raising an existing lower hard limit."""
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


def apply_limits(limits: Limits, uid: int | None = None, contained: bool | str = False) -> None:
    """Apply rlimits to the current process (call in the child, before dropping privileges).

    ``contained``: the session's own pids cgroup already caps its processes at ``nproc``; then
    RLIMIT_NPROC, which Linux counts over every process of the uid, is only the uid-wide ceiling
    ``uid_nproc``.  Without a cgroup the uid's count is all there is: the session may add ``nproc``
    to what the uid runs now, and at least ``uid_nproc`` in total, so sessions started later do not
    push earlier ones over their limit (issue 15.6).  ``contained="userns"``: the session has its own
    user namespace, where Linux (5.14+) counts RLIMIT_NPROC per namespace: ``nproc`` is then its own.
    """
    if limits.cpu:
        # Soft limit raises SIGXCPU (shown to the user as an error); hard kills a few seconds later.
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        used = int(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]))
        cap = used + limits.cpu
        resource.setrlimit(resource.RLIMIT_CPU, (cap, cap + 5 if hard == resource.RLIM_INFINITY else min(hard, cap + 5)))
    if limits.memory_mb:
        # Relative to the preloaded parent: Sage alone maps well over a gigabyte of address space.
        _set(resource.RLIMIT_AS, _vm_size() + limits.memory_mb * MB)
    if contained == "userns":
        if limits.nproc:
            _set(resource.RLIMIT_NPROC, _tasks_of(os.getuid()) + limits.nproc)  # /proc shows only this session
    elif contained:
        if limits.uid_nproc:
            _set(resource.RLIMIT_NPROC, limits.uid_nproc)
    elif limits.nproc:
        owner = os.getuid() if uid is None else uid
        _set(resource.RLIMIT_NPROC, max(_tasks_of(owner) + limits.nproc, limits.uid_nproc))
    if limits.fsize_mb:
        _set(resource.RLIMIT_FSIZE, limits.fsize_mb * MB)
    if limits.nofile:
        _set(resource.RLIMIT_NOFILE, limits.nofile)
    _set(resource.RLIMIT_CORE, 0)


def make_private_tmp(uid: int | None, gid: int | None) -> str:
    """Create a private temp dir (0700) owned by the session's uid and return its path."""
    path = tempfile.mkdtemp(prefix="salvus-session-")
    if uid is not None and os.geteuid() == 0:
        os.chown(path, uid, gid if gid is not None else uid)
    return path


def remove_tree(path: str | None, empty_first: bool = False) -> None:
    """Remove a session's temp dir, ignoring errors (``empty_first``: try a plain rmdir first, the usual case)."""
    if path:
        if empty_first:
            try:
                os.rmdir(path)
                return
            except OSError:
                pass
        shutil.rmtree(path, ignore_errors=True)


def drop_privileges(uid: int | None, gid: int | None, umask: int | None = None) -> None:
    """Switch to an unprivileged uid/gid (and umask, e.g. 0o077) when running as root (no-op otherwise)."""
    if uid is None or os.geteuid() != 0:
        return
    if umask is not None:
        os.umask(umask)
    gid = uid if gid is None else gid
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def session_env(tmp: str, uid: int | None) -> dict[str, str]:
    """Environment entries that point a session's scratch files at its private temp dir."""
    env = {"TMPDIR": tmp, "TMP": tmp, "TEMP": tmp, "MPLCONFIGDIR": os.path.join(tmp, ".matplotlib")}
    if uid is not None and os.geteuid() == 0:
        # The server's HOME is not the session's: keep dot-files of Sage/IPython private and writable.
        env.update({"HOME": tmp, "DOT_SAGE": os.path.join(tmp, ".sage"), "IPYTHONDIR": os.path.join(tmp, ".ipython")})
        # Not root's name: getpass.getuser() and prompts read these before asking the passwd file.
        name = account_name(uid)
        env.update({"USER": name, "LOGNAME": name})
    return env


def account_name(uid: int) -> str:
    """The user name of uid: its passwd entry, else ``salvus-<uid>`` (project uids have no entry)."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return f"salvus-{uid}"


def blocked_path(uid: int, gid: int, paths: list[str]) -> str | None:
    """Return the first folder on the way to one of paths that uid/gid cannot enter, or None.

    A root server runs sessions as another uid; if Python itself lives under a private folder
    (a pyenv in /root, say) every import in a session would fail, so the server checks first.
    Only the classic mode bits are read (not ACLs), which is what such set-ups get wrong.
    """
    for path in paths:
        current = os.path.abspath(path)
        chain = []
        while True:
            chain.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for folder in reversed(chain):
            try:
                st = os.stat(folder)
            except OSError:
                break
            if not os.path.isdir(folder):
                continue
            if st.st_uid == uid:
                bit = 0o100
            elif st.st_gid == gid:
                bit = 0o010
            else:
                bit = 0o001
            if not st.st_mode & bit:
                return folder
    return None
