"""Run one piece of code and wait for its whole answer: in a fresh forked process, or in a running kernel.

A fresh run is one forker request, ``run`` (kernel/oneshot.py): the forker forks, the child
isolates itself as a session would, executes the code in the preloaded shell and answers once with
the whole reply, then exits.  No KernelManager entry, no Jupyter messages, no session threads.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from typing import Any

from salvus_local.config import Config
from salvus_local.protocol import Channel, MsgType, new_message

from ..errors import APIError
from ..kernels.forker_client import ForkerError, RunEnded
from ..kernels.manager import KernelManager, KernelUnavailable, namespace_view, project_umask
from .collect import Collector
from .identity import AnonymousUids

KINDS = ("sage", "python")
RUN_SLACK = 4.0  # seconds past a run's timeout before the web server stops waiting for the forker


def execute_request(code: str, session: str) -> dict[str, Any]:
    """Build the execute_request of one API call (no stdin: nobody could answer it)."""
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
               "allow_stdin": False, "stop_on_error": True}
    return new_message(MsgType.EXECUTE_REQUEST, content, Channel.SHELL, session)


class _CollectSink:
    """A kernel sink that feeds one Collector and wakes the waiting request when it is done."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.finished = threading.Event()

    def send_msg(self, msg: dict[str, Any]) -> None:
        self.collector.feed(msg)
        if msg.get("msg_type") == MsgType.STATUS and msg["content"].get("execution_state") == "dead":
            self.collector.died("the kernel died")
        if self.collector.done or (self.collector.reply is not None and self.collector.error
                                   and self.collector.error.get("ename") == "KernelDied"):
            self.finished.set()

    def close(self) -> None:
        if not self.collector.done:
            self.collector.died("the kernel was shut down")
        self.finished.set()


class Runner:
    """Executes code for the HTTP compute API and the SageCell ``/service`` endpoint."""

    def __init__(self, config: Config, kernels: KernelManager) -> None:
        self.config = config
        self.kernels = kernels
        self.cwd = os.path.join(config.data_dir, "compute")
        self._ids: dict[str, tuple[int, int] | None] = {}
        os.makedirs(self.cwd, mode=0o711, exist_ok=True)
        if kernels.uid is not None:
            # Root's, passable but not listable: each session's folder inside belongs to its own uid.
            os.chown(self.cwd, 0, 0)
            os.chmod(self.cwd, 0o711)

    def ids_for(self, project_id: str) -> tuple[int, int] | None:
        """(uid, gid) of a project's sessions, remembered: a project keeps its uid for good (store/uids.py)."""
        ids = self._ids.get(project_id)
        if ids is None:
            ids = self.kernels.ids_for(project_id)
            if len(self._ids) > 10_000:
                self._ids.clear()
            self._ids[project_id] = ids
        return ids

    def kind(self, name: str | None) -> str:
        """Map the API's ``kernel`` field to a running forker kind; raise a 400 naming the field."""
        available = [k for k in KINDS if k in self.kernels.forkers]
        if name is None:
            default = self.config.kernel if self.config.kernel in available else (available or ["python"])[0]
            return default
        if name not in KINDS:
            raise APIError(400, f"'kernel' must be one of {', '.join(KINDS)}, not {name!r}")
        if name not in available:
            raise APIError(400, f"'kernel': no {name} compute server runs here; use {' or '.join(available)}")
        return name

    def limits(self, timeout: float, tight: bool) -> dict[str, Any]:
        """Return the forker limits of a fresh session (tighter for anonymous callers)."""
        c = self.config
        cpu = int(timeout) + 2
        memory = c.memory_limit if not tight else min(c.memory_limit, c.embed_memory_limit)
        return {"cpu": min(cpu, c.cpu_limit), "memory_mb": memory, "nproc": c.nproc_limit if not tight else 32,
                "fsize_mb": c.fsize_limit if not tight else 16, "nofile": c.nofile_limit,
                "idle_timeout": 0, "max_lifetime": int(timeout) + 5, "output_limit": c.output_limit}

    def run_anonymous(self, code: str, kind: str, timeout: float, pool: AnonymousUids) -> Collector:
        """Run code for an anonymous caller, as a uid of the anonymous pool that no other live session has.

        The slot goes back clean (no scan of /proc) when the forker confirms the run was reaped: by then
        its cgroup, or its subreaper, has killed everything the run started."""
        slot, ids = pool.lease()
        reaped: list[str] = []
        try:
            return self.run_fresh(code, kind, timeout, tight=True, ids=ids, reaped=reaped if ids else None)
        finally:
            pool.release(slot, reaped=bool(reaped))

    def run_fresh(self, code: str, kind: str, timeout: float, tight: bool = False,
                  ids: tuple[int, int] | None = None, reaped: list[str] | None = None) -> Collector:
        """Run code in a new forked session that ends with the request; return its Collector.

        ``ids``: the (uid, gid) it runs as on a root server (the requester's, see identity.py).
        ``reaped``: when given, wait until the forker has reaped the run and append its kernel id when
        nothing the run started is left (the exit record's ``clean``)."""
        forker = self.kernels.forkers[kind]
        kernel_id = "api-" + uuid.uuid4().hex
        if self.kernels.uid is None:
            ids = None
        else:
            ids = ids or (self.kernels.uid, self.kernels.gid)
        cwd = os.path.join(self.cwd, kernel_id)  # its own folder: callers never see each other's files
        os.mkdir(cwd, 0o700)
        if ids is not None:
            os.chown(cwd, *ids)
        try:
            collector = self._run_fresh(forker, kernel_id, cwd, code, timeout, tight, ids)
            if reaped is not None:
                try:
                    if forker.wait(kernel_id, timeout=RUN_SLACK + 30).get("clean"):
                        reaped.append(kernel_id)
                except ForkerError:
                    pass  # not confirmed: the pool scans for leftovers instead
            return collector
        finally:
            try:
                os.rmdir(cwd)  # the usual case: the code left no file
            except OSError:
                shutil.rmtree(cwd, ignore_errors=True)  # never follows links out of the folder

    def _run_fresh(self, forker: Any, kernel_id: str, cwd: str, code: str, timeout: float, tight: bool,
                   ids: tuple[int, int] | None) -> Collector:
        """Ask the forker for a one-shot run and wait for its single answer (see run_fresh)."""
        uid, gid = ids if ids else (None, None)
        run = {"kernel_id": kernel_id, "code": code, "timeout": timeout, "cwd": cwd, "tmp": "cwd",
               "env": {"SALVUS_KERNEL_ID": kernel_id},
               "limits": {"uid_nproc": self.config.uid_nproc_limit, **self.limits(timeout, tight)},
               "uid": uid, "gid": gid, "umask": project_umask(self.config) if ids else None,
               "isolate": namespace_view(self.config, cwd)}  # a non-root server: only its folder shows
        collector = Collector("")
        started = time.monotonic()
        try:
            # The child stops the code at the timeout and the forker kills it a second later;
            # waiting a little longer than both still answers if the forker itself is stuck.
            collector.load(forker.run(run, wait=timeout + RUN_SLACK))
        except TimeoutError:
            collector.timeout(timeout)
            self._kill(forker, kernel_id)
        except RunEnded as exc:
            if time.monotonic() - started >= timeout:
                collector.timeout(timeout)  # it ignored the TimeoutError and was killed at its deadline
            else:
                collector.died(str(exc))
        except ForkerError as exc:
            raise APIError(503, f"Could not start a session: {exc}") from exc
        return collector

    def _kill(self, forker: Any, kernel_id: str) -> None:
        """Stop a session's process group now (a timed-out request)."""
        try:
            forker.kill(kernel_id, 0.5)
        except ForkerError:
            pass  # already gone

    def run_in_kernel(self, kernel_id: str, code: str, timeout: float) -> Collector:
        """Run code in a running kernel (state carries over); on timeout the kernel is shut down."""
        kernel = self.kernels.get(kernel_id)
        request = execute_request(code, kernel.session)
        sink = _CollectSink(Collector(request["header"]["msg_id"]))
        self.kernels.attach(kernel_id, sink)
        try:
            try:
                self.kernels.send(kernel_id, request, sink)
            except KernelUnavailable as exc:
                raise APIError(409, f"'session' {kernel_id} cannot run code: {exc}") from exc
            if not sink.finished.wait(timeout):
                sink.collector.timeout(timeout)
                self.kernels.shutdown(kernel_id, now=True)
        finally:
            self.kernels.detach(kernel_id, sink)
        return sink.collector
