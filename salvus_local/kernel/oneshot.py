"""One-shot runs (forker request ``run``): fork, isolate, run one piece of code, answer once, exit.

The HTTP compute API runs each stateless request in a fresh process.  A full session (spare
child, output threads, warm-up cell, Jupyter messages streamed back one by one) costs several
times what the execution itself does, so a run child does only this:

    setsid, cgroup/namespaces, rlimits, uid, umask, cwd   (child.isolate, as for a session)
    fd 1 and 2 → two memfds; sys.stdout/sys.stderr write straight to them, so Python's and
    C-level output (PARI, os.system) keep their order without pump threads
    shell.run_cell(code)                                  (the parent's warm shell: same semantics)
    one ``result`` frame in the compute API's reply shape, then _exit

At the deadline (``timeout`` after the fork) the forker sends SIGINT to the run's process group,
which the child reports as a TimeoutError with the output so far; a second later (code that
caught the interrupt, or a stuck C call) it SIGKILLs the group.  It reaps the run, its cgroup and
its temp dir like any session.
"""

from __future__ import annotations

import builtins
import ctypes
import getpass
import os
import signal
import time
from typing import Any

from ..protocol import SignedConnection, Verb
from . import comms
from .child import CPULimitExceeded, _interrupt_handler, _reseed, isolate
from .limits import Limits
from .preload import Preloaded
from .session import _size, normalize_data
from .streams import SessionText

RUN_GRACE = 2.0  # seconds the forker waits after the interrupt at the deadline before it SIGKILLs a run
INTERRUPTED = ("KeyboardInterrupt", "SignalError", "AlarmInterrupt")  # how an interrupted cell ends


class FdText(SessionText):
    """``sys.stdout``/``sys.stderr`` of a run: UTF-8 written straight to fd 1/2, up to a byte cap."""

    def __init__(self, name: str, fd: int, cap: int) -> None:
        super().__init__()
        self.name, self.fd, self.cap = name, fd, cap

    def write(self, text: str) -> int:  # type: ignore[override]
        """Append text after whatever C code wrote; silently dropped past the cap (the reply says so)."""
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text and (not self.cap or os.lseek(self.fd, 0, os.SEEK_CUR) <= self.cap):
            data = memoryview(text.encode("utf-8", "replace"))
            while data:
                data = data[os.write(self.fd, data):]
        return len(text)


class OneShot:
    """Stands in for a Session while one run executes: collects what the shell publishes."""

    def __init__(self, pre: Preloaded, limits: Limits) -> None:
        self.shell = pre.shell
        self.kernel_info = pre.kernel
        self.limits = limits
        self.parent: dict[str, Any] = {"header": {}, "content": {"allow_stdin": False}}
        self.comms = comms.comm.get_comm_manager()
        self.result: dict[str, Any] | None = None
        self.execution_count: int | None = None
        self.displays: list[dict[str, Any]] = []
        self.last_error: dict[str, Any] | None = None
        self.budget = limits.output_limit  # bytes of rich output left (0: no cap)
        self.truncated = False
        self.executing = False

    # ---- what the shell, cellfiles and comms call ---------------------------------

    def _allow(self, size: int) -> bool:
        if not self.limits.output_limit:
            return True
        if size > self.budget:
            self.truncated = True
            return False
        self.budget -= size
        return True

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None:
        """Keep a display_data (updates of earlier displays are not part of the reply)."""
        data = normalize_data(data)
        if not update and self._allow(_size(data)):
            self.displays.append({"data": data, "metadata": metadata})

    def clear_output(self, wait: bool) -> None:
        """Nothing to clear in a one-shot reply."""

    def execute_result(self, count: int, data: dict, metadata: dict) -> None:
        """Keep the cell's value."""
        data = normalize_data(data)
        self.execution_count = count
        if self._allow(_size(data)):
            self.result = data

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        """Keep the error for the reply."""
        self.last_error = {"ename": ename, "evalue": evalue, "traceback": list(traceback)}

    def send_iopub(self, *_: Any, **__: Any) -> None:
        """Comm messages have nobody to go to."""

    def input(self, prompt: str = "", password: bool = False) -> str:
        """No one can answer input() in a run."""
        from IPython.core.error import StdinNotImplementedError

        raise StdinNotImplementedError("input() is not available: a run has no one to ask")


def _capture(fd: int) -> int:
    """Point fd at a new memfd; return a descriptor of it for reading back."""
    mem = os.memfd_create(f"salvus-fd{fd}", os.MFD_CLOEXEC)
    os.dup2(mem, fd)
    return mem


def _read_back(mem: int, cap: int) -> tuple[str, bool]:
    """Return (text, truncated) of what was written to a capture, at most cap bytes (0: all)."""
    size = os.fstat(mem).st_size
    n = size if not cap else min(size, cap)
    return os.pread(mem, n, 0).decode("utf-8", "replace"), n < size


def execute(pre: Preloaded, code: str, limits: Limits, timeout: float, deadline: float = 0.0) -> dict[str, Any]:
    """Run code in this (already isolated) process's shell; return the compute API's reply shape.

    ``deadline`` (``time.monotonic()``): when the forker interrupts the run; an interruption after it
    is reported as ``TimeoutError``.

    ``{status, stdout, stderr, result, displays, execution_count, error?, execute_reply}``: the
    fields of ``server/compute_api/collect.py`` plus the execute_reply content SageCell clients read.
    """
    import sys

    shell = pre.shell
    cap = limits.output_limit
    run = OneShot(pre, limits)
    from .shell import KernelShim

    comms.SessionComm.session = run  # type: ignore[assignment]
    shell.salvus_session = run
    shell.kernel = KernelShim(run)  # type: ignore[arg-type]
    builtins.input = run.input
    getpass.getpass = lambda prompt="Password: ", stream=None: run.input(prompt, password=True)
    mem_out, mem_err = _capture(1), _capture(2)
    sys.stdout, sys.stderr = FdText("stdout", 1, cap), FdText("stderr", 2, cap)

    def on_xcpu(*_: Any) -> None:
        if run.executing:
            raise CPULimitExceeded(f"CPU time limit exceeded: this run has used its {limits.cpu} CPU seconds")

    # The forker sends SIGINT to the run's process group at its deadline: the same interrupt as a
    # notebook's Stop button, so cysignals (Sage) also stops PARI/FLINT code inside sig_on().
    _interrupt_handler(pre.kind)()
    signal.signal(signal.SIGXCPU, on_xcpu)
    run.executing = True
    try:
        outcome = shell.run_cell(code, store_history=True, silent=False)
    finally:
        run.executing = False
    if not outcome.success and deadline and time.monotonic() >= deadline and run.last_error \
            and run.last_error["ename"] in INTERRUPTED:
        text = f"the computation took longer than {timeout:g} s and was stopped"
        run.last_error = {"ename": "TimeoutError", "evalue": text,
                          "traceback": [*run.last_error["traceback"][:-1], f"TimeoutError: {text}"]}
    _flush_c_stdio()
    count = shell.execution_count - 1
    payload = shell.payload_manager.read_payload()
    stdout, cut_out = _read_back(mem_out, cap)
    stderr, cut_err = _read_back(mem_err, cap)
    if cut_out or cut_err or run.truncated:
        stderr += (f"\n[output truncated: this execution produced more than {cap:,} bytes of output; "
                   "the rest is discarded]\n")
    reply: dict[str, Any] = {"status": "ok", "execution_count": count, "payload": payload, "user_expressions": {}}
    out: dict[str, Any] = {"status": "ok", "stdout": stdout, "stderr": stderr, "result": run.result,
                           "displays": run.displays,
                           "execution_count": run.execution_count if run.execution_count is not None else count}
    if not outcome.success:
        exc = outcome.error_in_exec or outcome.error_before_exec
        error = run.last_error or {"ename": type(exc).__name__, "evalue": str(exc), "traceback": []}
        out.update(status="error", error=error)
        reply.update(status="error", **error)
    out["execute_reply"] = reply
    return out


def _flush_c_stdio() -> None:
    """Flush C stdio buffers (printf in a library) into the captures before they are read."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


def run_once(conn: SignedConnection, pre: Preloaded, req: dict[str, Any], tmp: str) -> None:
    """The body of a run child: isolate, execute ``req["code"]``, send one ``result`` frame, exit."""
    limits, _host_pid = isolate(conn, pre, req, tmp)
    _reseed(pre.kind)
    reply = execute(pre, str(req.get("code") or ""), limits, float(req.get("timeout") or 0),
                    float(req.get("_deadline") or 0))
    conn.send({"type": Verb.RESULT, "content": reply})
    os._exit(0)
