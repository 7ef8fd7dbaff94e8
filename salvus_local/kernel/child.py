"""What a freshly forked child does before it serves its session."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import traceback
from typing import Any, Callable

from ..protocol import Channel, MsgType, SignedConnection, Verb, new_message
from . import contain
from .limits import Limits, apply_limits, drop_privileges, session_env
from .preload import Preloaded
from .session import Session


EXIT_NO_THREADS = 77  # exit status of a session that could not start a thread or process it needs


class CPULimitExceeded(Exception):
    """Raised in user code when the session has used up its CPU seconds."""


def _interrupt_handler(kind: str) -> Callable[[], Any]:
    """Return a function that arms SIGINT for user code."""
    if kind == "sage":
        try:
            from cysignals.signals import init_cysignals

            # cysignals' handler also interrupts PARI, FLINT and other C code inside sig_on().
            return init_cysignals
        except ImportError:
            pass
    return _python_interrupts


def _python_interrupts() -> None:
    """Arm SIGINT as KeyboardInterrupt (plain Python)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _reseed(kind: str) -> None:
    """Give each session its own random state (the parent's was copied by fork)."""
    if kind == "sage":
        try:
            from sage.misc.randstate import set_random_seed

            set_random_seed()
        except ImportError:
            pass
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def child_main(body: Callable[[], Any]) -> None:
    """Run a forked child's body and exit: an error must never fall back into the parent's loop."""
    code = 0
    try:
        body()
    except BaseException:  # noqa: BLE001 - whatever happens, this process ends here
        code = 70
        try:
            traceback.print_exc(file=sys.__stderr__)
        except Exception:
            pass
    finally:
        os._exit(code)


_PARENTS: list[Any] = []  # objects of the parent's this child must never finalize


class _LazyTempDir:
    """Sage's ``TMP_DIR_FILENAME_BASE``, made in the session's TMPDIR the first time Sage asks for it."""

    _dir: tempfile.TemporaryDirectory | None = None

    @property
    def name(self) -> str:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="sage_")
        return self._dir.name

    def cleanup(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()


def _sage_paths() -> None:
    """Point Sage's own temp and dot dirs at this session's (the parent's are not ours to write)."""
    temporary_file = sys.modules.get("sage.misc.temporary_file")
    if temporary_file is not None:
        # The parent's stays referenced: dropping it would run its finalizer here, which tries to delete
        # the parent's folder (and logs a traceback when, as another uid, it cannot).
        _PARENTS.append(temporary_file.TMP_DIR_FILENAME_BASE)
        # Lazily: most sessions never ask, and an empty private temp dir is cheaper to remove.
        temporary_file.TMP_DIR_FILENAME_BASE = _LazyTempDir()
        temporary_file._spyx_tmp = None
    sage_env = sys.modules.get("sage.env")
    if sage_env is not None and "DOT_SAGE" in os.environ:
        sage_env.DOT_SAGE = os.environ["DOT_SAGE"]


def _fail(conn: SignedConnection, message: str) -> None:
    """Tell the client why the session could not start, then exit."""
    try:
        conn.send({"type": Verb.ERROR, "content": {"message": message}})
    finally:
        os._exit(1)


def _say_and_exit(conn: SignedConnection, text: str) -> None:
    """Send one stderr stream message straight on the connection, then exit with EXIT_NO_THREADS."""
    try:
        msg = new_message(MsgType.STREAM, {"name": "stderr", "text": text}, Channel.IOPUB, "salvus-kernel")
        conn.send({"type": Verb.MSG, **msg})
    finally:
        os._exit(EXIT_NO_THREADS)


def prepare(pre: Preloaded, warm: bool = False) -> Session:
    """Make the session's state that needs no client yet (in a spare, before any request)."""
    _reseed(pre.kind)
    session = Session(pre.shell, pre.kernel, _interrupt_handler(pre.kind))
    session.start()
    if warm:
        # Run a typical cell through the real output path, so the pages it writes are copied now.
        session.requests.dispatch(new_message(MsgType.EXECUTE_REQUEST, {"code": "2 + 2", "store_history": False},
                                              Channel.SHELL, "warm-up"))
        for name in ("_", "__", "___"):
            pre.shell.user_ns[name] = ""
        session.discard_output()
    return session


def isolate(conn: SignedConnection, pre: Preloaded, req: dict[str, Any], tmp: str) -> tuple[Limits, int]:
    """Contain and isolate this freshly forked process as ``req`` says; return (limits, host pid).

    setsid, namespaces (non-root server) or the forker's cgroup (root), environment, rlimits,
    unprivileged uid and umask, working directory.  On failure the client hears why and we exit.
    """
    os.setsid()  # own session and process group: interrupt and kill reach everything it starts
    host_pid = os.getpid()
    if req.get("isolate"):
        # A non-root server's session: PID 1 of its own user + mount + PID namespaces (kernel/namespace.py).
        from .namespace import enter_for_kernel

        try:
            host_pid = enter_for_kernel(req["isolate"], tmp)
        except OSError as exc:
            _fail(conn, f"cannot isolate the session in namespaces: {exc.strerror or exc}")
    uid, gid = req.get("uid"), req.get("gid")
    limits = Limits.from_dict(req.get("limits"))
    group = req.get("_cgroup")
    try:
        if group:
            # The forker made our cgroups; once in, no descendant can leave them (moving needs root).
            cgroup = contain.SessionCgroup(str(group[1]), str(group[0]))
            cgroup.join()
            cgroup.limit(limits.nproc)
        else:
            contain.set_subreaper()  # escaped orphans come back to us, so the forker can find them
            contain.set_dumpable(True)  # the forker is not dumpable; a session's own /proc stays usable
    except OSError as exc:
        _fail(conn, f"cannot contain the session: {exc.strerror or exc}")
    env = req.get("env") if isinstance(req.get("env"), dict) else {}
    os.environ.update({str(k): str(v) for k, v in env.items()})
    os.environ.update(session_env(tmp, uid))
    os.environ["SALVUS_KERNEL_PID"] = str(host_pid)  # the leader's pid on the host (os.getpid() is 1 in a PID namespace)
    tempfile.tempdir = None  # the parent's cached answer; recompute from TMPDIR
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        apply_limits(limits, uid, contained="userns" if req.get("isolate") else bool(group))
        umask = req.get("umask")
        drop_privileges(uid, gid, int(umask) if umask is not None else None)
    except OSError as exc:
        _fail(conn, f"cannot isolate the session: {exc.strerror}")
    cwd = str(req.get("cwd") or tmp)
    try:
        os.chdir(cwd)
    except OSError as exc:
        _fail(conn, f"cannot enter the working directory {cwd}: {exc.strerror}")
    if pre.kind == "sage":
        _sage_paths()
    if "" not in sys.path:
        sys.path.insert(0, "")  # as in Jupyter: modules next to the notebook import
    return limits, host_pid


def run_child(conn: SignedConnection, pre: Preloaded, req: dict[str, Any], tmp: str,
              session: Session | None = None) -> None:
    """Isolate this process, then serve the session on conn until it ends."""
    limits, host_pid = isolate(conn, pre, req, tmp)
    os.makedirs(os.environ["MPLCONFIGDIR"], exist_ok=True)

    def on_xcpu(*_: Any) -> None:
        if session.executing:
            raise CPULimitExceeded(
                f"CPU time limit exceeded: this session has used its {limits.cpu} CPU seconds; "
                "restart the kernel for a fresh session")

    signal.signal(signal.SIGXCPU, on_xcpu)
    session = session or prepare(pre)
    conn.send({"type": Verb.STARTED, "content": {"pid": host_pid, "pgid": host_pid,
                                                  "kernel_id": str(req["kernel_id"])}})
    try:
        session.attach(conn, str(req["kernel_id"]), limits)
    except RuntimeError as exc:  # "can't start new thread": say so on the kernel's stderr and end cleanly
        _say_and_exit(conn, f"The session cannot go on: {exc} (its process and thread limit is reached).\n")
    session.serve()
    os._exit(0)
