"""The forking compute server: a single-threaded parent that forks one child per session.

The parent preloads Sage (or Python), then loops on ``select``: it accepts connections,
reads one signed request from each, forks on ``start`` and reaps children.  It never
starts a thread and holds no SQLite connection, so a fork copies nothing unsafe.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..protocol import ConnectionClosed, ProtocolError, SignedConnection, Verb, read_frame
from . import contain
from .child import EXIT_NO_THREADS, child_main, run_child
from .limits import make_private_tmp, remove_tree
from .oneshot import RUN_GRACE, run_once
from .preload import Preloaded
from .session import EXIT_IDLE, EXIT_LIFETIME
from .spare import Spare, fork_spare, hand_over

log = logging.getLogger("salvus_local.kernel")
REQUEST_TIMEOUT = 5.0   # seconds a client may take to send its request
EXITED_KEPT = 1000      # exit records kept for late ``wait`` requests


@dataclass
class Child:
    """A forked session known to the parent."""

    kernel_id: str
    pid: int
    tmp: str | None  # removed when the child is reaped (None: the caller's to remove)
    cgroup: contain.SessionCgroup | None = None
    kill_at: float | None = None
    interrupt_at: float | None = None  # a run's deadline: SIGINT to its process group
    waiters: list[SignedConnection] = field(default_factory=list)

    def kill_all(self) -> None:
        """SIGKILL every process of the session, wherever it went (its cgroup, else its descendants)."""
        _killpg(self.pid, signal.SIGKILL)
        if self.cgroup is not None:
            self.cgroup.kill_all()
        else:
            contain.kill_tree(self.pid, include_self=True)


class Forker:
    """Accept requests on Unix (and optionally TCP) sockets and fork sessions."""

    def __init__(self, pre: Preloaded, key: bytearray, listeners: list[tuple[socket.socket, bytearray]]) -> None:
        self.pre = pre
        self.key = key
        self.listeners = dict(listeners)  # listening socket → the master key of that listener
        self.remote = {sock for sock in self.listeners if sock.family != socket.AF_UNIX}  # TCP listeners
        self.pending: dict[socket.socket, SignedConnection] = {}
        self.children: dict[str, Child] = {}
        self.by_pid: dict[int, Child] = {}
        self.exited: dict[str, dict[str, Any]] = {}
        self.stopping = False
        self.spare: Spare | None = None
        self.parent_pid = os.getppid()
        # Orphans of a session whose leader died come to us, not to init, so we can end them too.
        self.subreaper = contain.set_subreaper()
        contain.set_dumpable(False)  # same-uid sessions cannot read our /proc/<pid>/environ or memory
        self.scope = f"forker-{os.getpid()}"
        contain.sweep_stale("forker-")
        self.serial = 0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)
        self.verbs: dict[str, Callable[[SignedConnection, dict], bool]] = {
            Verb.START: self.start, Verb.RUN: self.run, Verb.SIGNAL: self.signal, Verb.KILL: self.kill,
            Verb.WAIT: self.wait, Verb.INFO: self.info,
        }

    # ---- loop --------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve until SIGTERM/SIGINT or until the process that started us is gone."""
        signal.set_wakeup_fd(self._wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through the wakeup fd
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            while not self.stopping:
                if os.getppid() != self.parent_pid:
                    log.warning("the server that started this compute server is gone; stopping")
                    break
                self._step(self._timeout())
        finally:
            self.shutdown()

    def _stop(self, *_: Any) -> None:
        self.stopping = True

    def _timeout(self) -> float:
        """Sleep until the next SIGKILL deadline, at most a second."""
        deadlines = [d for c in self.children.values() for d in (c.kill_at, c.interrupt_at) if d]
        return max(0.0, min([1.0, *(d - time.monotonic() for d in deadlines)]))

    def _step(self, timeout: float) -> None:
        """One round: wait for input, accept, read requests, reap, enforce deadlines."""
        watch = [*self.listeners, *self.pending, self._wake_r]
        try:
            ready, _, _ = select.select(watch, [], [], timeout)
        except InterruptedError:
            ready = []
        for sock in ready:
            if sock == self._wake_r:
                try:
                    os.read(self._wake_r, 4096)
                except BlockingIOError:
                    pass
            elif sock in self.listeners:
                self._accept(sock)
            else:
                self._handle(sock)
        self._reap()
        if self.spare is None and not self.pending and not self.stopping:
            self.spare = fork_spare(self.pre, lambda: self._in_child(None))  # ready for the next start
        now = time.monotonic()
        for child in self.children.values():
            if child.interrupt_at and now >= child.interrupt_at:
                _killpg(child.pid, signal.SIGINT)
                child.interrupt_at = None
            if child.kill_at and now >= child.kill_at:
                child.kill_all()
                child.kill_at = None

    def _accept(self, listener: socket.socket) -> None:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        sock.settimeout(REQUEST_TIMEOUT)
        try:
            conn = SignedConnection.accept(sock, self.listeners[listener], pid=os.getpid(), kernel=self.pre.kernel)
        except OSError:
            sock.close()
            return
        conn.remote = listener in self.remote  # type: ignore[attr-defined]  # a TCP client
        self.pending[sock] = conn

    def _handle(self, sock: socket.socket) -> None:
        """Read and run the one request of a pending connection."""
        conn = self.pending.pop(sock)
        try:
            req = conn.verify(read_frame(sock))
        except (ProtocolError, ConnectionClosed, OSError) as exc:
            log.warning("dropped a compute request: %s", exc)  # the frame and key are never logged
            conn.close()
            return
        verb = self.verbs.get(req.get("type", ""))
        content = req.get("content") if isinstance(req.get("content"), dict) else {}
        keep = False
        try:
            if verb is None:
                _reply(conn, Verb.ERROR, message=f"unknown request {req.get('type')!r}")
            else:
                keep = verb(conn, content)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            _reply(conn, Verb.ERROR, message=f"{type(exc).__name__}: {exc}")
        if not keep:
            conn.close()

    # ---- verbs (return True to keep the connection open) --------------------------

    def start(self, conn: SignedConnection, req: dict) -> bool:
        """Fork a session; the child keeps the connection."""
        kernel_id = str(req.get("kernel_id") or "")
        if not kernel_id or kernel_id in self.children:
            _reply(conn, Verb.ERROR, message="start needs a new, unique kernel_id")
            return False
        self.exited.pop(kernel_id, None)  # a restart reuses the id: the old record is history
        uid, gid = req.get("uid"), req.get("gid")
        if getattr(conn, "remote", False) and os.geteuid() == 0 and not uid:
            # A secret shared with another host must not be a root shell on this one.
            _reply(conn, Verb.ERROR, message="a session started over TCP must name an unprivileged uid")
            return False
        tmp = make_private_tmp(uid, gid)
        self.serial += 1
        group = contain.SessionCgroup.create(f"s{self.serial}", 0, scope=self.scope)
        req["_cgroup"] = [group.paths[0].parent.name, group.name] if group else None  # the child joins it
        conn.sock.settimeout(None)
        spare, self.spare = self.spare, None
        if req.get("isolate"):
            # Namespaces must be entered while single-threaded: a spare already runs its threads.
            if spare is not None:
                self.spare = spare  # keep it for the next ordinary start
            spare = None
            pid = os.fork()
            if pid == 0:
                self._in_child(conn)
                child_main(lambda: run_child(conn, self.pre, req, tmp))
        elif spare is not None and hand_over(spare, conn, req, tmp):
            pid = spare.pid
        else:
            if spare is not None:
                _killpg(spare.pid, signal.SIGKILL)
            pid = os.fork()
            if pid == 0:
                self._in_child(conn)
                child_main(lambda: run_child(conn, self.pre, req, tmp))
        conn.close()  # the child owns the socket now
        child = Child(kernel_id, pid, tmp, group)
        self.children[kernel_id] = self.by_pid[pid] = child
        return True

    def run(self, conn: SignedConnection, req: dict) -> bool:
        """Fork a one-shot run (kernel/oneshot.py); the child answers once on the connection and exits."""
        kernel_id = str(req.get("kernel_id") or "")
        if not kernel_id or kernel_id in self.children:
            _reply(conn, Verb.ERROR, message="run needs a new, unique kernel_id")
            return False
        uid, gid = req.get("uid"), req.get("gid")
        if os.geteuid() == 0 and (not uid or gid == 0):
            # Runs are for code nobody vetted: a root compute server never runs one as root.
            _reply(conn, Verb.ERROR, message="a run on a root compute server must name an unprivileged uid")
            return False
        try:
            timeout = float(req.get("timeout") or 0)
        except (TypeError, ValueError):
            timeout = -1.0
        if not 0 < timeout <= 86400:
            _reply(conn, Verb.ERROR, message="run needs a timeout in seconds (0 < timeout <= 86400)")
            return False
        self.exited.pop(kernel_id, None)
        if req.get("tmp") == "cwd" and req.get("cwd"):
            tmp, own_tmp = str(req["cwd"]), None  # the caller made cwd private to this run and removes it
        else:
            tmp = own_tmp = make_private_tmp(uid, gid)
        self.serial += 1
        group = contain.SessionCgroup.create(f"r{self.serial}", 0, scope=self.scope)
        req["_cgroup"] = [group.paths[0].parent.name, group.name] if group else None
        deadline = req["_deadline"] = time.monotonic() + timeout  # CLOCK_MONOTONIC: the child reads the same clock
        conn.sock.settimeout(None)
        pid = os.fork()
        if pid == 0:
            self._in_child(conn)
            child_main(lambda: run_once(conn, self.pre, req, tmp))
        conn.close()  # the child answers
        child = Child(kernel_id, pid, own_tmp, group, kill_at=deadline + RUN_GRACE, interrupt_at=deadline)
        self.children[kernel_id] = self.by_pid[pid] = child
        return True

    def _in_child(self, keep: SignedConnection | None) -> None:
        """Drop everything of the parent's that a session must not hold."""
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        os.close(self._wake_r)
        os.close(self._wake_w)
        for sock in [*self.listeners, *self.pending]:
            if keep is None or sock is not keep.sock:
                sock.close()
        if self.spare is not None:
            self.spare.ctl.close()
        for child in self.children.values():
            for w in child.waiters:
                w.close()
        for key in {id(k): k for k in [self.key, *self.listeners.values()]}.values():
            key[:] = bytes(len(key))  # the child keeps only its connection's derived key

    def signal(self, conn: SignedConnection, req: dict) -> bool:
        """Send a signal to a session's process group."""
        child = self._child(conn, req)
        if child:
            _killpg(child.pid, int(req.get("signum", signal.SIGINT)))
            _reply(conn, Verb.OK)
        return False

    def kill(self, conn: SignedConnection, req: dict) -> bool:
        """SIGTERM a session's process group now and SIGKILL it after the grace period."""
        child = self._child(conn, req)
        if child:
            _killpg(child.pid, signal.SIGTERM)
            child.kill_at = time.monotonic() + float(req.get("grace", 2.0))
            _reply(conn, Verb.OK)
        return False

    def wait(self, conn: SignedConnection, req: dict) -> bool:
        """Answer with the exit record once the session has been reaped."""
        kernel_id = str(req.get("kernel_id"))
        if kernel_id in self.exited and kernel_id not in self.children:
            _reply(conn, Verb.EXITED, **self.exited[kernel_id])
            return False
        child = self._child(conn, req)
        if child:
            conn.sock.settimeout(None)
            child.waiters.append(conn)
            return True
        return False

    def info(self, conn: SignedConnection, req: dict) -> bool:
        """Describe this compute server."""
        kernels = {k: c.pid for k, c in self.children.items()}
        _reply(conn, Verb.INFO_REPLY, pid=os.getpid(), kind=self.pre.kind, kernel=self.pre.kernel, kernels=kernels)
        return False

    def _child(self, conn: SignedConnection, req: dict) -> Child | None:
        child = self.children.get(str(req.get("kernel_id")))
        if child is None:
            _reply(conn, Verb.ERROR, message=f"no session {req.get('kernel_id')!r}")
        return child

    # ---- reaping -----------------------------------------------------------------

    def _reap(self) -> None:
        """Collect exited children, clean their groups and temp dirs, answer waiters."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.by_pid.pop(pid, None)
            if child is None:
                if self.spare is not None and pid == self.spare.pid:
                    self.spare.ctl.close()
                    self.spare = None  # died while waiting; the loop forks another
                continue
            clean = self._end_leftovers(child)  # whatever the session started dies with it
            remove_tree(child.tmp, empty_first=True)
            del self.children[child.kernel_id]
            record = {**exit_record(child.kernel_id, status), "clean": clean}
            self.exited[child.kernel_id] = record
            while len(self.exited) > EXITED_KEPT:
                self.exited.pop(next(iter(self.exited)))
            for w in child.waiters:
                _reply(w, Verb.EXITED, **record)
                w.close()

    def _end_leftovers(self, child: Child) -> bool:
        """Kill what a reaped session left: its cgroup, or the orphans re-parented to us; True when none is left."""
        _killpg(child.pid, signal.SIGKILL)
        if child.cgroup is not None:
            return child.cgroup.end()
        known = {*self.by_pid, *([self.spare.pid] if self.spare else [])}
        orphans = contain.children_of_self(known)
        for orphan in orphans:
            contain.kill_tree(orphan, include_self=True)
        return not orphans or not contain.children_of_self(known)

    def shutdown(self) -> None:
        """Stop every session (TERM, then KILL) and close the listeners."""
        if self.spare is not None:
            self.spare.ctl.close()  # the spare reads EOF and exits
            os.kill(self.spare.pid, signal.SIGKILL)
            self.spare = None
        for child in self.children.values():
            _killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 1.0
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        for child in list(self.children.values()):
            child.kill_all()
        while self.children:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            child = self.by_pid.pop(pid, None)
            if child:
                self._end_leftovers(child)
                remove_tree(child.tmp)
                del self.children[child.kernel_id]
        for sock in self.listeners:
            sock.close()
        contain.remove_scope(self.scope)


def exit_record(kernel_id: str, status: int) -> dict[str, Any]:
    """Describe how a session ended, in words a user understands."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        reason = {
            signal.SIGKILL: "killed (SIGKILL): stopped, or over its CPU or memory limit",
            signal.SIGXCPU: "stopped: over its CPU time limit",
            signal.SIGSEGV: "crashed (segmentation fault)",
            signal.SIGTERM: "stopped (SIGTERM)",
        }.get(sig, f"killed by {name}")
        return {"kernel_id": kernel_id, "exitcode": None, "signal": sig, "reason": reason}
    code = os.WEXITSTATUS(status)
    reason = {0: "exited", EXIT_IDLE: "stopped after being idle too long",
              EXIT_LIFETIME: "stopped at its maximum lifetime",
              EXIT_NO_THREADS: "could not go on: its process and thread limit is reached"}.get(code, f"exited with status {code}")
    return {"kernel_id": kernel_id, "exitcode": code, "signal": None, "reason": reason}


def _reply(conn: SignedConnection, frame_type: str, **content: Any) -> None:
    try:
        conn.send({"type": frame_type, "content": content})
    except OSError:
        pass


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
