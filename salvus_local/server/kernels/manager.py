"""KernelManager: start, list, interrupt, restart and shut down kernels through the forkers.

One reader thread per kernel child reads its frames and fans them out to websockets
(:mod:`.kernel` routes them).  When a child's connection ends unexpectedly the forker is
asked why, and every websocket sees ``status: dead`` plus the reason on stderr.
Listeners (``add_listener``) see every message in both directions, e.g. the history recorder.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from salvus_local.config import Config
from salvus_local.protocol import Channel, MsgType, new_message
from salvus_local.store.projects import DEFAULT_ID

from ..errors import APIError
from .forker_client import ForkerClient, ForkerError
from .kernel import Kernel
from .router import KernelRouter, KernelUnavailable, Listener
from .specs import KernelSpecs

log = logging.getLogger("salvus_local.server.kernels")
READY_TIMEOUT = 60.0  # seconds a new child gets to answer kernel_info before we stop waiting
EXIT_WAIT = 10.0      # seconds the forker gets to tell why a child whose connection closed exited

__all__ = ["KernelManager", "KernelUnavailable", "Listener", "describe_exit"]


class KernelManager(KernelRouter):
    """kernel_id → Kernel, backed by one forker per kernel kind."""

    def __init__(self, config: Config) -> None:
        self.config = config
        key = config.extra.get("master_key", b"")
        self.forkers = {kind: ForkerClient(kind, path, key)
                        for kind, path in config.extra.get("forkers", {}).items()}
        self.specs = KernelSpecs(config, self.forkers)
        self._kernels: dict[str, Kernel] = {}
        self._projects: dict[str, str] = {}  # kernel_id → the project whose Jupyter base URL started it
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self.root = Path(config.default_project_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.uid, self.gid = (config.kernel_uid, config.kernel_gid) if os.geteuid() == 0 else (None, None)
        # project id → (uid, gid) its sessions run as (a uid per project on root servers); see kernels/__init__.
        self.ids_for: Callable[[str], tuple[int, int] | None] = lambda _pid: (self.uid, self.gid)
        if self.uid is not None and not config.project_uid_min:
            os.chown(self.root, self.uid, self.gid)  # so kernels running as that uid can write there

    # -- queries -------------------------------------------------------------------------
    def get(self, kernel_id: str, project_id: str | None = None) -> Kernel:
        """Return a kernel (of that project, when given) or raise a 404."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None or (project_id is not None and self.project_of(kernel_id) != project_id):
            raise APIError(404, f"Kernel does not exist: {kernel_id}")
        return kernel

    def project_of(self, kernel_id: str) -> str:
        """Return the id of the project a kernel belongs to."""
        return self._projects.get(kernel_id, DEFAULT_ID)

    def __contains__(self, kernel_id: str) -> bool:
        return kernel_id in self._kernels

    def list(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Return the models of all kernels (of one project, when given)."""
        return [k.model() for k in list(self._kernels.values())
                if project_id is None or self.project_of(k.id) == project_id]

    def model(self, kernel_id: str) -> dict[str, Any]:
        """Return one kernel's model."""
        return self.get(kernel_id).model()

    def last_activity(self) -> Any:
        """Return the latest activity of any kernel, or None."""
        return max((k.last_activity for k in list(self._kernels.values())), default=None)

    def connections(self) -> int:
        """Return the number of open kernel websockets."""
        return sum(len(k.sinks) for k in list(self._kernels.values()))

    # -- lifecycle -----------------------------------------------------------------------
    def resolve_cwd(self, path: str | None, root: str | os.PathLike[str] | None = None) -> str:
        """Map an API path relative to ``root`` (default: the default project dir) to a directory, refusing escapes."""
        base = Path(root) if root is not None else self.root
        if path is None or path in ("", "/"):
            return str(base)
        if not isinstance(path, str) or "\0" in path or Path(path).is_absolute() or "\\" in path:
            raise APIError(400, f"Invalid path {path!r}: give a path relative to the project directory")
        real_root = base.resolve()
        target = (real_root / path).resolve()
        if target != real_root and real_root not in target.parents:
            raise APIError(400, f"Invalid path {path!r}: it leaves the project directory")
        while not target.is_dir() and target != real_root:  # a notebook's path: start in its folder
            target = target.parent
        return str(target)

    def start(self, name: str | None = None, path: str | None = None, cwd: str | None = None,
              root: str | os.PathLike[str] | None = None, project_id: str = DEFAULT_ID,
              limits: dict[str, Any] | None = None, ids: tuple[int, int] | None = None) -> dict[str, Any]:
        """Start a kernel of spec ``name`` in ``path`` (relative to ``root``) or ``cwd``; return its model.

        ``limits`` overrides some of the configured session limits (e.g. anonymous embedded sessions);
        ``ids`` the (uid, gid) it runs as on a root server (default: its project's, via ``ids_for``)."""
        kind, spec_name = self.specs.resolve(name)
        kernel = Kernel(str(uuid.uuid4()), spec_name, kind, cwd or self.resolve_cwd(path, root))
        kernel.limits = dict(limits or {})
        kernel.project_id = project_id
        kernel.ids = ids  # anonymous sessions belong to no project: they bring their own uid
        kernel.root = str(root or self.root)
        self._spawn(kernel)
        with self._lock:
            self._kernels[kernel.id] = kernel
            self._projects[kernel.id] = project_id
        self._wait_ready(kernel)
        return kernel.model()

    def _start_content(self, kernel: Kernel) -> dict[str, Any]:
        """Build the forker's ``start`` request for a kernel."""
        c = self.config
        ids = getattr(kernel, "ids", None) or (self.ids_for(kernel.project_id) if self.uid is not None else None)
        uid, gid = ids if ids else (self.uid, self.gid)
        return {
            "kernel_id": kernel.id, "cwd": kernel.cwd, "env": {"SALVUS_KERNEL_ID": kernel.id},
            "limits": {"cpu": c.cpu_limit, "memory_mb": c.memory_limit, "nproc": c.nproc_limit,
                       "uid_nproc": c.uid_nproc_limit,
                       "fsize_mb": c.fsize_limit, "nofile": c.nofile_limit, "idle_timeout": c.idle_timeout,
                       "max_lifetime": c.max_lifetime, "output_limit": c.output_limit,
                       **getattr(kernel, "limits", {})},
            "uid": uid, "gid": gid,
            "umask": project_umask(c) if self.uid is not None else None,
            "isolate": namespace_view(c, kernel.root),
        }

    def _spawn(self, kernel: Kernel) -> None:
        """Fork a new child for kernel and start its reader thread."""
        forker = self.forkers.get(kernel.kind)
        if forker is None:
            raise APIError(503, f"No compute server runs {kernel.kind} kernels")
        try:
            conn, started = forker.start(self._start_content(kernel))
        except ForkerError as exc:
            raise APIError(503, f"Could not start the kernel: {exc}") from exc
        with kernel.lock:
            kernel.generation += 1
            kernel.conn, kernel.pid = conn, started.get("pid")
            kernel.execution_state, kernel.reason = "starting", None
            kernel.eof.clear()
            generation = kernel.generation
        threading.Thread(target=self._read, args=(kernel, conn, generation), daemon=True,
                         name=f"kernel-reader-{kernel.id[:8]}").start()

    def _wait_ready(self, kernel: Kernel) -> None:
        """Ask the new child for kernel_info and wait (bounded) until it is idle after answering."""
        ready = threading.Event()

        def on_reply(msg: dict[str, Any]) -> None:
            if kernel.execution_state == "starting":  # a kernel that publishes no status
                kernel.execution_state = "idle"
                self._broadcast(kernel, kernel.status("idle"))
                ready.set()

        request = new_message(MsgType.KERNEL_INFO_REQUEST, {}, Channel.SHELL, kernel.session)
        kernel.ready_waiter = (request["header"]["msg_id"], ready)
        kernel.remember(request["header"]["msg_id"], on_reply)
        try:
            self._send_frame(kernel, request)
        except KernelUnavailable:
            return
        if not ready.wait(READY_TIMEOUT):
            log.warning("kernel %s did not answer kernel_info within %ss", kernel.id, READY_TIMEOUT)

    def interrupt(self, kernel_id: str) -> None:
        """Send SIGINT to the kernel's process group."""
        kernel = self.get(kernel_id)
        if kernel.conn is None:
            raise APIError(409, f"Kernel {kernel_id} is {kernel.execution_state}: restart it first")
        try:
            self.forkers[kernel.kind].signal(kernel.id, signal.SIGINT)
        except ForkerError as exc:
            raise APIError(503, f"Could not interrupt the kernel: {exc}") from exc

    def restart(self, kernel_id: str) -> dict[str, Any]:
        """Replace the kernel's child with a fresh one under the same id; websockets stay attached."""
        kernel = self.get(kernel_id)
        with kernel.op_lock:
            with kernel.lock:
                kernel.generation += 1  # the old reader's EOF is now stale
                old, kernel.conn = kernel.conn, None
                kernel.execution_state = "restarting"
            self._broadcast(kernel, kernel.status("restarting"))
            self._stop_child(kernel, old)
            self._answer_pending(kernel, "the kernel was restarted")
            try:
                self._spawn(kernel)
            except APIError as exc:
                kernel.execution_state, kernel.reason = "dead", exc.message
                self._broadcast(kernel, kernel.status("dead"))
                raise
            self._broadcast(kernel, kernel.status("starting"))
            self._wait_ready(kernel)
        return kernel.model()

    def _stop_child(self, kernel: Kernel, conn: Any) -> None:
        """Kill the kernel's current child (if any) and wait until the forker has reaped it."""
        forker = self.forkers[kernel.kind]
        try:
            forker.kill(kernel.id, self.config.kill_grace)
            forker.wait(kernel.id, timeout=self.config.kill_grace + 30)
        except ForkerError as exc:
            log.info("stopping kernel %s: %s", kernel.id, exc)  # already gone
        if conn is not None:
            conn.close()
        # A forker may answer ``wait`` from an older child's exit record: make sure this
        # child is really gone before its kernel_id is reused by a restart.
        deadline = time.monotonic() + self.config.kill_grace + 30
        while time.monotonic() < deadline:
            try:
                if kernel.id not in (forker.info(timeout=10).get("kernels") or {}):
                    return
            except ForkerError:
                return
            time.sleep(0.02)

    def shutdown(self, kernel_id: str, now: bool = False) -> None:
        """Ask the kernel to shut down (unless now), then stop its process group; close its websockets."""
        kernel = self.get(kernel_id)
        with kernel.op_lock:
            with self._lock:
                self._kernels.pop(kernel_id, None)
                self._projects.pop(kernel_id, None)
            with kernel.lock:
                kernel.stopping = True
                conn = kernel.conn
            if conn is not None and not now:
                request = new_message(MsgType.SHUTDOWN_REQUEST, {"restart": False}, Channel.CONTROL, kernel.session)
                try:
                    self._send_frame(kernel, request)
                    kernel.eof.wait(min(self.config.kill_grace, 2.0))
                except KernelUnavailable:
                    pass
            self._stop_child(kernel, conn)
            kernel.execution_state = "dead"
            self._answer_pending(kernel, "the kernel was shut down")
            self._broadcast(kernel, kernel.status("dead"))
            for sink in list(kernel.sinks):
                sink.close()

    def shutdown_all(self, now: bool = False) -> None:
        """Shut down every kernel."""
        for kernel_id in list(self._kernels):
            try:
                self.shutdown(kernel_id, now)
            except APIError:
                pass

    def _on_eof(self, kernel: Kernel, generation: int) -> None:
        """The child's connection ended: unless expected, find out why and report the kernel dead.

        Every websocket hears ``status: dead`` and each request still waiting gets an error reply,
        whatever the forker answers (or if it does not): a client never waits on a dead kernel.
        """
        with kernel.lock:
            if kernel.generation != generation:
                return  # a restart replaced this child
            kernel.conn = None
            kernel.eof.set()
            kernel.ready_waiter[1].set()  # nobody waits for a kernel_info that will never come
            if kernel.stopping:
                return
        forker = self.forkers[kernel.kind]
        try:
            reason = describe_exit(forker.wait(kernel.id, timeout=EXIT_WAIT))
        except ForkerError as exc:
            reason = f"lost the connection to the kernel ({exc})"
            try:  # its connection is gone but it may still run: make sure it ends
                forker.kill(kernel.id, 0.0)
            except ForkerError:
                pass
        with kernel.lock:
            if kernel.generation != generation:
                return
            kernel.execution_state, kernel.reason = "dead", reason
        log.warning("kernel %s died: %s", kernel.id, reason)
        self._answer_pending(kernel, f"the kernel died: {reason}")
        self._broadcast(kernel, kernel.status("dead"))
        self._broadcast(kernel, kernel.stderr(f"The kernel died: {reason}. Restart it to continue.\n"))


def namespace_view(config: Config, project_root: str) -> dict[str, list[str]] | None:
    """What a session of a non-root server may see (kernel/namespace.py), or None when namespaces are not used."""
    if (config.extra.get("isolation") or {}).get("mode") != "namespaces":
        return None
    import sys

    home = os.path.expanduser("~")
    keep = [project_root, sys.prefix, sys.base_prefix, os.path.dirname(os.__file__),
            str(Path(__file__).resolve().parents[3])]  # the interpreter and this package stay visible
    return {"hide": [config.data_dir, home], "keep": keep}


def project_umask(config: Config) -> int | None:
    """The umask of a root server's sessions and terminals: 0o077 when each project has its own uid, else None.

    /tmp and /dev/shm stay shared between projects as root (docs/internals.md), so files a session makes
    there are private to its project's uid unless the code asks for other modes.
    """
    return 0o077 if os.geteuid() == 0 and config.project_uid_min else None


def describe_exit(info: dict[str, Any]) -> str:
    """Say in words why a child exited, from the forker's ``exited`` answer."""
    if info.get("reason"):
        return str(info["reason"])
    if info.get("signal"):
        try:
            name = signal.Signals(int(info["signal"])).name
        except ValueError:
            name = str(info["signal"])
        return f"killed by signal {name}"
    return f"exited with code {info.get('exitcode')}"
