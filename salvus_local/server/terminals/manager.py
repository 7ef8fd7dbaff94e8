"""Terminals: a pty running the user's shell in the project folder, isolated by the kernel sandbox.

The shell starts as ``python -m salvus_local.kernel.sandbox --ctty ... -- $SHELL``: the
sandbox makes it a session leader with the pty as controlling terminal (job control, Ctrl-C),
applies the kernels' rlimits (and uid when root), then execs the shell.  The web server only
uses ``subprocess`` (fork+exec, no Python code between them), never a bare fork with threads.
Closing a terminal kills its whole process group.
"""

from __future__ import annotations

import codecs
import fcntl
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import Any

from salvus_local.config import Config
from salvus_local.kernel import contain
from salvus_local.kernel.limits import remove_tree, session_env
from salvus_local.kernel.namespace import unshare_command
from salvus_local.server.kernels.manager import namespace_view, project_umask
from salvus_local.store.errors import NotFound

SCROLLBACK = 64 * 1024  # characters replayed to a newly attached client
PACKAGE_PARENT = str(Path(__file__).resolve().parents[3])


# The HOME of a root server's terminal is its fresh temp dir: bash reads /etc/bash.bashrc, then this.
BASHRC = """# Written by salvus-local. This uid has no entry in /etc/passwd, so the prompt shows $USER instead.
PS1="${PS1//\\\\u/$USER}"
"""


def user_shell(config: Config) -> str:
    """The shell terminals run."""
    for shell in (config.terminal_shell, os.environ.get("SHELL", ""), "/bin/bash", "/bin/sh"):
        if shell and shutil.which(shell):
            return shell
    return "/bin/sh"


class Terminal:
    """One pty and its shell; clients are websockets with a thread-safe ``send``."""

    def __init__(self, name: str, project_id: str, cwd: Path, argv: list[str], env: dict[str, str],
                 cgroup: contain.SessionCgroup | None = None, tmp: str | None = None) -> None:
        self.name, self.project_id, self.cwd = name, project_id, cwd
        self.cgroup = cgroup
        self.tmp = tmp  # its private TMPDIR (and HOME as root), removed when it ends
        self.fd, slave = os.openpty()
        self.set_size(24, 80)
        try:
            # Started from the folder holding this package, so ``-m salvus_local...`` finds it even when
            # it is not installed; the sandbox enters ``cwd`` itself (after dropping privileges).
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=PACKAGE_PARENT,
                                         env=env, close_fds=True)
        finally:
            os.close(slave)
        self.clients: set[Any] = set()
        self.lock = threading.Lock()
        self.scrollback = ""
        self.last_activity = time.time()
        self.closed = threading.Event()
        threading.Thread(target=self._read, name=f"salvus-term-{name}", daemon=True).start()
        # Processes the shell left behind keep the pty open: end the terminal when the shell itself ends.
        threading.Thread(target=self._watch, name=f"salvus-term-wait-{name}", daemon=True).start()

    def model(self) -> dict[str, Any]:
        """Jupyter's terminal model."""
        from salvus_local.server.contents.models import iso

        return {"name": self.name, "last_activity": iso(self.last_activity)}

    def set_size(self, rows: int, cols: int) -> None:
        """Resize the pty (the shell gets SIGWINCH)."""
        rows, cols = max(1, min(int(rows), 1000)), max(1, min(int(cols), 1000))
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def write(self, text: str) -> None:
        """Send keystrokes to the shell."""
        self.last_activity = time.time()
        data = text.encode("utf-8")
        while data and not self.closed.is_set():
            data = data[os.write(self.fd, data):]

    def attach(self, client: Any) -> None:
        """Add a websocket client: it gets 'setup' and the scrollback first."""
        with self.lock:
            client.send(json.dumps(["setup", {}]))
            if self.scrollback:
                client.send(json.dumps(["stdout", self.scrollback]))
            self.clients.add(client)

    def detach(self, client: Any) -> None:
        """Remove a client (the shell keeps running)."""
        with self.lock:
            self.clients.discard(client)

    def _broadcast(self, message: list[Any]) -> None:
        frame = json.dumps(message)
        for client in list(self.clients):
            try:
                client.send(frame)
            except Exception:  # a dead socket: drop it, keep serving the others
                self.clients.discard(client)

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: every process holding the pty's other end has exited
                data = b""
            if not data:
                break
            text = decoder.decode(data)
            self.last_activity = time.time()
            with self.lock:
                self.scrollback = (self.scrollback + text)[-SCROLLBACK:]
                self._broadcast(["stdout", text])
        self.kill()
        with self.lock:
            self._broadcast(["disconnect", 1])
            for client in list(self.clients):
                try:
                    client.close()
                except Exception:
                    pass
            self.clients.clear()

    def _watch(self) -> None:
        self.proc.wait()
        self.kill(grace=0.2)

    def kill(self, grace: float = 1.0) -> None:
        """Kill the shell's process group (SIGHUP, then SIGKILL), every process it left, and reap it."""
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
        if self.cgroup is None and self.proc.poll() is None:
            # Without a cgroup the shell (a subreaper) holds what it started: end that before the shell.
            contain.kill_tree(self.proc.pid)
        for sig in (signal.SIGHUP, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                self.proc.wait(timeout=grace)
                os.killpg(self.proc.pid, signal.SIGKILL)  # children that ignored SIGHUP
            except subprocess.TimeoutExpired:
                continue
            except (ProcessLookupError, PermissionError):
                pass
            break
        if self.cgroup is not None:
            self.cgroup.kill_all()  # processes that left the shell's group (setsid, nohup, a double fork)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.cgroup is not None:
            self.cgroup.remove()
        remove_tree(self.tmp)
        try:
            os.close(self.fd)
        except OSError:
            pass


class TerminalManager:
    """All terminals of the server, named "1", "2", … like Jupyter's."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.terminals: dict[str, Terminal] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self.scope = f"terminals-{os.getpid()}"
        contain.sweep_stale("terminals-")

    def argv(self, cwd: Path, cgroup: contain.SessionCgroup | None = None,
             ids: tuple[int, int] | None = None, project_root: Path | None = None) -> list[str]:
        """The command line of a new terminal's shell (ids: the project's uid/gid when root)."""
        c = self.config
        limits = {"cpu": 0, "memory_mb": 0, "nproc": c.nproc_limit, "fsize_mb": c.fsize_limit,
                  "nofile": c.nofile_limit, "uid_nproc": c.uid_nproc_limit}
        sandbox = [sys.executable, "-m", "salvus_local.kernel.sandbox", "--ctty", "--limits", json.dumps(limits),
                   "--cwd", str(cwd)]
        if os.geteuid() == 0:
            uid, gid = ids or (c.kernel_uid, c.kernel_gid)
            sandbox += ["--uid", str(uid), "--gid", str(gid)]
            if project_umask(c) is not None:
                sandbox += ["--umask", f"{project_umask(c):o}"]
        if cgroup is not None:
            sandbox += ["--cgroup", f"{cgroup.paths[0].parent.name}/{cgroup.name}"]
        view = namespace_view(c, str(project_root or cwd))
        prefix = unshare_command() if view else None
        if view and prefix:
            # Not root: the shell runs in its own user + mount + PID namespaces (kernel/namespace.py).
            sandbox += ["--isolate", json.dumps(view), "--host-ids", f"{os.getuid()}:{os.getgid()}"]
            return [*prefix, *sandbox, "--", user_shell(c)]
        return [*sandbox, "--", user_shell(c)]

    def env(self, cwd: Path, tmp: str | None = None, uid: int | None = None) -> dict[str, str]:
        """The shell's environment: ours minus salvus secrets, plus TERM, PWD and (with tmp) a session's
        TMPDIR, HOME, USER and LOGNAME as a kernel of the same uid gets them (kernel/limits.session_env)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SALVUS_LOCAL_")}
        env.update(TERM="xterm-256color", PWD=str(cwd), COLORTERM="truecolor")
        if tmp is not None:
            env.update(session_env(tmp, uid))
        return env

    def private_tmp(self, ids: tuple[int, int] | None, isolated: bool) -> tuple[str | None, int | None]:
        """Make a terminal's private temp dir (0700, its uid's); return (path, uid).

        None when the terminal runs in namespaces (its /tmp is private already, and a host path would
        not show there).  As root it is also the shell's HOME: a ``.bashrc`` in it puts $USER where
        bash's ``\\u`` would say "I have no name!" (project uids have no passwd entry)."""
        if isolated:
            return None, None
        uid, gid = (ids or (self.config.kernel_uid, self.config.kernel_gid)) if os.geteuid() == 0 else (None, None)
        tmp = tempfile.mkdtemp(prefix="salvus-terminal-")  # root's and 0700 until handed over below
        if uid is not None:
            with open(os.path.join(tmp, ".bashrc"), "w", encoding="utf-8") as f:
                f.write(BASHRC)
            os.chown(os.path.join(tmp, ".bashrc"), uid, gid)
            os.chown(tmp, uid, gid)
        return tmp, uid

    def create(self, project_id: str, cwd: Path, ids: tuple[int, int] | None = None,
               project_root: Path | None = None) -> Terminal:
        """Start a terminal in ``cwd`` (as ids = (uid, gid) when root and given; project_root: what it may see)."""
        with self._lock:
            self._counter += 1
            name = str(self._counter)
        cgroup = contain.SessionCgroup.create(f"t{name}", 0, scope=self.scope)
        tmp = None
        try:
            argv = self.argv(cwd, cgroup, ids, project_root)
            tmp, uid = self.private_tmp(ids, isolated="--isolate" in argv)
            term = Terminal(name, project_id, cwd, argv, self.env(cwd, tmp, uid), cgroup, tmp)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            remove_tree(tmp)
            raise
        with self._lock:
            self.terminals[name] = term
        return term

    def get(self, name: str, project_id: str | None = None) -> Terminal:
        """A running terminal (of that project, when given)."""
        with self._lock:
            term = self.terminals.get(name)
        if term is None or term.closed.is_set() or (project_id and term.project_id != project_id):
            raise NotFound(f"Terminal not found: {name}")
        return term

    def list(self, project_id: str | None = None) -> list[Terminal]:
        """Running terminals (of one project, when given)."""
        with self._lock:
            terms = list(self.terminals.values())
        return [t for t in terms if not t.closed.is_set() and (not project_id or t.project_id == project_id)]

    def delete(self, name: str, project_id: str | None = None) -> None:
        """Close a terminal and kill its process group."""
        term = self.get(name, project_id)
        with self._lock:
            self.terminals.pop(name, None)
        term.kill()

    def shutdown_all(self) -> None:
        """Close every terminal (server exit)."""
        for term in self.list():
            term.kill(grace=0.2)
        contain.remove_scope(self.scope)
