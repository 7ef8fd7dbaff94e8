"""Every process a session starts ends with it: a cgroup per session (root) or a subreaper (anyone).

A session can leave its process group and session (``setsid``, a double fork, ``nohup … &``), so
``killpg`` alone misses processes.  Two mechanisms, chosen at run time (docs/internals.md, "Containment"):

- **cgroup v1, as root**: each session gets ``pids`` and ``freezer`` cgroups named after it.  Children
  cannot leave a cgroup (moving needs write access to ``cgroup.procs``, which is root's), ``pids.max`` is
  the session's own process/thread limit, and stopping is freeze → SIGKILL every member → thaw, so a
  fork bomb cannot outrun the kill.
- **child subreaper, anyone**: the forker and each session leader set ``PR_SET_CHILD_SUBREAPER``, so an
  orphan is re-parented to its session leader (or, when the leader itself died, to the forker) instead of
  init; stopping walks /proc and SIGSTOPs then SIGKILLs every descendant until none is left.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

CGROUP_ROOT = Path(os.environ.get("SALVUS_CGROUP_ROOT", "/sys/fs/cgroup"))
CONTROLLERS = ("pids", "freezer")
PARENT = "salvus-local"          # our folder inside each controller's hierarchy
PR_SET_CHILD_SUBREAPER = 36


def set_subreaper() -> bool:
    """Make orphaned descendants of this process re-parent to it; False when prctl is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def set_dumpable(flag: bool) -> None:
    """Set PR_SET_DUMPABLE: 0 makes /proc/<pid>/environ, mem, fd unreadable to same-uid processes."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, int(flag), 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass


_AVAILABLE: list[bool] = []  # a positive answer, once found (mounts do not come and go under a running server)


def cgroups_available() -> bool:
    """Tell whether per-session cgroups can be made (root, cgroup v1 pids + freezer mounted)."""
    if _AVAILABLE:
        return True
    if os.geteuid() != 0:
        return False
    for ctl in CONTROLLERS:
        base = CGROUP_ROOT / ctl
        if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
            return False
    _AVAILABLE.append(True)
    return True


def _parents() -> dict[int, list[int]]:
    """Map pid → child pids, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if fields and fields[0] != b"Z":  # a zombie is dead already; its parent reaps it
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Return the live descendants of pid (not pid itself)."""
    tree = _parents()
    out, todo = [], list(tree.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def kill_tree(pid: int, include_self: bool = False, rounds: int = 50) -> None:
    """SIGKILL every descendant of pid (stopping each first, so none forks meanwhile)."""
    for _ in range(rounds):
        pids = descendants(pid)
        if not pids:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except (ProcessLookupError, PermissionError):
                    pass
    if include_self:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class SessionCgroup:
    """The pids + freezer cgroups of one session (only as root with cgroup v1)."""

    def __init__(self, name: str, scope: str | None = None) -> None:
        self.name = name
        scope = scope or f"{os.getpid()}"
        self.paths = [CGROUP_ROOT / ctl / PARENT / scope / name for ctl in CONTROLLERS]
        self._dirs = [str(p) for p in self.paths]  # plain strings: these run once per session, in hot paths

    @classmethod
    def create(cls, name: str, pids_max: int, scope: str | None = None) -> SessionCgroup | None:
        """Make the cgroups (pids.max = pids_max processes and threads; 0 = none); None when unavailable."""
        if not cgroups_available():
            return None
        group = cls(name, scope)
        try:
            for path in group._dirs:
                try:
                    os.mkdir(path)
                except FileNotFoundError:
                    os.makedirs(path, exist_ok=True)  # the first session of this forker: make the scope
                except FileExistsError:
                    pass
            if pids_max:
                _write(group._dirs[0] + "/pids.max", str(pids_max))
        except OSError:
            group.remove()
            return None
        return group

    def join(self, pid: int = 0) -> None:
        """Move pid (0: the caller) into the session's cgroups; raise OSError when that fails."""
        for path in self._dirs:
            _write(path + "/cgroup.procs", str(pid or os.getpid()))

    def limit(self, nproc: int) -> None:
        """Allow nproc processes and threads on top of what the cgroup holds now (0: no limit)."""
        if nproc:
            current = int(_read(self._dirs[0] + "/pids.current"))
            _write(self._dirs[0] + "/pids.max", str(current + nproc))

    def members(self) -> list[int]:
        """Return the pids in the session's pids cgroup."""
        try:
            return [int(x) for x in _read(self._dirs[0] + "/cgroup.procs").split()]
        except (OSError, ValueError):
            return []

    def kill_all(self, timeout: float = 5.0) -> None:
        """Freeze the cgroup, SIGKILL every member, thaw, and wait (bounded) until it is empty."""
        if not self.members():
            return  # empty stays empty: only a member (or root) can put a process into it
        state = self._dirs[1] + "/freezer.state"
        try:
            _write(state, "FROZEN")
            deadline = time.monotonic() + 1.0
            while _read(state).strip() != "FROZEN" and time.monotonic() < deadline:
                time.sleep(0.005)  # FREEZING: a member is in uninterruptible sleep
        except OSError:
            pass
        for pid in self.members():
            try:
                os.kill(pid, signal.SIGKILL)  # pending until thawed, and a frozen task cannot fork
            except (ProcessLookupError, PermissionError):
                pass
        try:
            _write(state, "THAWED")
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while self.members() and time.monotonic() < deadline:
            for pid in self.members():
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        """Remove the (empty) cgroups."""
        for path in self._dirs:
            try:
                os.rmdir(path)
            except OSError:
                pass

    def end(self) -> bool:
        """Kill whatever is left in the cgroups and remove them (after the session's leader was reaped).

        Return True when no process of the session is left."""
        try:
            os.rmdir(self._dirs[0])  # fails (EBUSY) while any process is in it: then there is work to do
        except FileNotFoundError:
            pass
        except OSError:
            self.kill_all()
        self.remove()
        return not os.path.exists(self._dirs[0]) or not self.members()


def _write(path: str, text: str) -> None:
    """Write a cgroup control file (one write call, as the kernel expects)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _read(path: str) -> str:
    """Read a (small) cgroup control file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(fd)


def remove_scope(scope: str) -> None:
    """Remove this process's (empty) scope folders at exit."""
    for ctl in CONTROLLERS:
        try:
            (CGROUP_ROOT / ctl / PARENT / scope).rmdir()
        except OSError:
            pass


def sweep_stale(scope_prefix: str = "") -> None:
    """Remove cgroup folders of processes that no longer exist (a forker killed with SIGKILL)."""
    if not cgroups_available():
        return
    for ctl in CONTROLLERS:
        base = CGROUP_ROOT / ctl / PARENT
        if not base.is_dir():
            continue
        for scope in base.iterdir():
            owner = scope.name.split("-")[-1]
            if not scope.name.startswith(scope_prefix) or not owner.isdigit() or Path(f"/proc/{owner}").exists():
                continue
            for group in list(scope.iterdir()) if scope.is_dir() else []:
                if group.is_dir():
                    SessionCgroup(group.name, scope.name).kill_all(timeout=1.0)
                    try:
                        group.rmdir()
                    except OSError:
                        pass
            try:
                scope.rmdir()
            except OSError:
                pass


def children_of_self(exclude: set[int]) -> list[int]:
    """Return this process's live children whose pids are not in exclude (orphans it adopted)."""
    return [p for p in _parents().get(os.getpid(), []) if p not in exclude]
