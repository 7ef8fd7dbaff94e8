"""Sessions of a server run by an ordinary user: user + mount + PID namespaces per session.

Inside, a session sees its project at its usual path, a private /tmp and /dev/shm, its own /proc
(only its own processes: nothing of the server's environment), read-only system folders, and an empty
tmpfs where the data dir (other projects, the database, secrets) and the server user's home are.
The mounts are made while the session still holds capabilities in its new user namespace; then they
are dropped (kernels: capset; terminals: a nested user namespace and exec), and a mount made in a more
privileged namespace cannot be undone from a less privileged one, so nothing hidden comes back.
When PID 1 of the namespace (the session) ends, the kernel kills everything else in it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
from typing import Any

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
READ_ONLY = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/opt", "/boot", "/srv", "/var")

_libc = ctypes.CDLL(None, use_errno=True)


def unshare_command() -> list[str] | None:
    """The ``unshare`` prefix a terminal runs under (root inside, for the mounts), or None without util-linux."""
    path = shutil.which("unshare")
    if path is None:
        return None
    return [path, "--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child"]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(), flags,
                       data and data.encode()), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def unshare(flags: int, uid: int, gid: int, inner_uid: int | None = None, inner_gid: int | None = None) -> None:
    """Enter new namespaces with a user namespace mapping inner ids (default: the same) to our uid/gid."""
    _check(_libc.unshare(flags | CLONE_NEWUSER), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid if inner_uid is None else inner_uid} {uid} 1\n")
    _write("/proc/self/gid_map", f"{gid if inner_gid is None else inner_gid} {gid} 1\n")


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def setup_mounts(hide: list[str], keep: list[str], tmp: str) -> None:
    """In a fresh mount namespace (with CAP_SYS_ADMIN there): hide, keep, private /tmp, read-only system."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do here leaks back to the host
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # our PID namespace only
    for folder in READ_ONLY:
        if os.path.isdir(folder) and not os.path.islink(folder) and not any(_under(k, folder) for k in keep):
            try:
                _mount(folder, folder, None, MS_BIND | MS_REC)
                _mount(None, folder, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            except OSError:
                pass  # already read-only, or locked by the host: it stays as it is (unwritable to us anyway)
    # Cover the hidden folders and /tmp, /dev/shm with empty tmpfs; what must stay visible under them
    # (the project, the interpreter) is opened first and bound back at its own path.
    covers = {h: "mode=0755,size=1m" for h in dict.fromkeys(os.path.realpath(h) for h in hide)
              if os.path.isdir(h) and h != "/" and not any(_under(s, h) for s in READ_ONLY)}  # never the system
    covers.update({t: "mode=1777" for t in ("/tmp", "/dev/shm") if os.path.isdir(t)})
    outer = [c for c in sorted(covers, key=len) if not any(_under(c, o) and c != o for o in covers)]
    keep = [os.path.realpath(k) for k in keep if os.path.exists(k)]
    held = {k: os.open(k, os.O_PATH | os.O_CLOEXEC) for k in keep if any(_under(k, c) for c in outer)}
    for folder in outer:
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, covers[folder])
    for path, fd in sorted(held.items()):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)
    os.makedirs(tmp, mode=0o700, exist_ok=True)  # the session's private temp dir, now inside the new /tmp


def drop_capabilities() -> None:
    """Drop every capability of this (single-threaded) process and forbid gaining any by exec."""
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    data = (Data * 2)()
    _check(_libc.capset(ctypes.byref(Header(0x20080522, 0)), data), "capset")


def enter_for_terminal(isolate: dict[str, Any], host_uid: int, host_gid: int) -> None:
    """Inside ``unshare_command()`` (root of a new user namespace): mount, then become host_uid again.

    The nested user + mount namespace locks the mounts above (they cannot be undone from inside), and
    the exec that follows drops every capability because the uid is not 0 there.
    """
    setup_mounts(list(isolate.get("hide") or []), list(isolate.get("keep") or []), "/tmp")
    unshare(CLONE_NEWNS, 0, 0, inner_uid=host_uid, inner_gid=host_gid)


def enter_for_kernel(isolate: dict[str, Any], tmp: str) -> int:
    """Fork into new user + mount + PID namespaces; return, in PID 1 there, the pid the host sees for it.

    The caller's process stays outside as a small waiter: it exits with PID 1's status and, when it is
    killed, PID 1 (and with it the whole namespace) is killed too (PDEATHSIG).  Call single-threaded.
    """
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.prctl(4, 1, 0, 0, 0), "dumpable")  # the forker is not; /proc/self/uid_map must be ours to write
    unshare(CLONE_NEWNS | CLONE_NEWPID, uid, gid)
    r, w = os.pipe()
    outer = os.getpid()
    pid = os.fork()
    if pid:
        os.close(r)
        os.write(w, str(pid).encode())
        os.close(w)
        _wait_and_mirror(pid)
    os.close(w)
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    if os.getppid() != outer and os.getppid() != 0:
        os._exit(1)  # the waiter died before PDEATHSIG was armed
    host_pid = int(os.read(r, 32) or b"0")
    os.close(r)
    setup_mounts(list(isolate.get("hide") or []), list(isolate.get("keep") or []), tmp)
    drop_capabilities()
    return host_pid


def _wait_and_mirror(pid: int) -> None:
    """Outside waiter: ignore interrupts (they are for the session), exit as PID 1 exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
