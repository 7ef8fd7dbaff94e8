"""Run a submission's code cells for the autograder: one fresh forked session per notebook, as the student's uid.

The session starts in a private folder under ``<data_dir>/grading/`` holding the submission's other
files, owned by the uid grading of that student runs as (bridge.run_as: never root, never the uid of the
student's live sessions), with the
server's session limits.  Each cell has ``grade_cell_timeout`` seconds and all of them together
``grade_notebook_timeout``; past a limit the session is killed and the cells left count as not run.
"""

from __future__ import annotations

import ast
import os
import secrets
import shutil
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from salvus_local.courses.grading import CellRun
from salvus_local.protocol import ConnectionClosed, MsgType, ProtocolError, Verb
from salvus_local.store.errors import StoreError

from ..compute_api.runner import execute_request
from ..kernels.forker_client import ForkerError
from ..kernels.kernel import frame_to_msg, msg_to_frame
from ..kernels.manager import KernelManager, namespace_view, project_umask


class Unavailable(StoreError):
    """No compute server of the notebook's kind runs here."""

    status = 400


class CellExecutor:
    """``run(kind, codes, files, ids) -> [CellRun]`` over the KernelManager's forkers."""

    def __init__(self, config: Any, kernels: KernelManager, pool: Any = None) -> None:
        self.config = config
        self.kernels = kernels
        self.pool = pool  # grading_uids.GradingUids on a root server with per-project uids, else None
        self.base = Path(config.data_dir) / "grading"
        self.base.mkdir(mode=0o711, exist_ok=True)
        for stale in self.base.iterdir():  # left by a server that stopped mid-run; none of ours runs yet
            shutil.rmtree(stale, ignore_errors=True)

    def run(self, kind: str, codes: list[str], files: dict[str, bytes], ids: tuple[int, int] | None,
            tests: list[bool] | None = None) -> list[CellRun]:
        """Run codes in order in one new session of kind (sage|python) with files in its folder; before each
        codes[i] with tests[i] true the shell's machinery is put back as it was before the first cell."""
        if kind not in self.kernels.forkers:
            kinds = " or ".join(self.kernels.forkers) or "none"
            raise Unavailable(f"No {kind} compute server runs here (this server runs {kinds}); "
                              f"start it with {kind} among its kernels")
        leased = None
        if self.kernels.uid is None:
            ids = None
        elif ids is None and self.pool is not None:
            ids = leased = self.pool.lease()  # a uid of the grading pool for this run alone
        else:
            ids = ids or (self.kernels.uid, self.kernels.gid)
        cwd = self.base / secrets.token_hex(8)
        try:
            cwd.mkdir(mode=0o700)
            self._fill(cwd, files, ids)  # a fresh folder only we know of: written before it is handed over
            return self._run(kind, codes, str(cwd), ids, tests or [False] * len(codes))
        finally:
            shutil.rmtree(cwd, ignore_errors=True)  # never follows links out of the folder
            if leased is not None:
                self.pool.release(leased[0])

    @staticmethod
    def _fill(cwd: Path, files: dict[str, bytes], ids: tuple[int, int] | None) -> None:
        for rel, data in files.items():
            target = cwd.joinpath(*rel.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if ids is not None:
            for base, dirs, names in os.walk(cwd):
                for name in [base, *(os.path.join(base, n) for n in dirs + names)]:
                    os.lchown(name, *ids)

    def _run(self, kind: str, codes: list[str], cwd: str, ids: tuple[int, int] | None,
             tests: list[bool]) -> list[CellRun]:
        c = self.config
        total = float(c.grade_notebook_timeout)
        kernel_id = "grade-" + uuid.uuid4().hex
        limits = {"cpu": min(int(total) + 2, c.cpu_limit), "memory_mb": c.memory_limit, "nproc": c.nproc_limit,
                  "fsize_mb": c.fsize_limit, "nofile": c.nofile_limit, "idle_timeout": 0,
                  "max_lifetime": int(total) + 10, "output_limit": c.output_limit, "uid_nproc": c.uid_nproc_limit}
        start = {"kernel_id": kernel_id, "cwd": cwd, "env": {"SALVUS_KERNEL_ID": kernel_id}, "limits": limits,
                 "uid": ids[0] if ids else None, "gid": ids[1] if ids else None,
                 # As root /tmp is shared: what the student's code leaves there must not be readable by other uids
                 "umask": project_umask(c) if ids else None,
                 "isolate": namespace_view(c, cwd)}
        forker = self.kernels.forkers[kind]
        try:
            conn, _started = forker.start(start)
        except ForkerError as exc:
            raise StoreError(f"Could not start a grading session: {exc}", 503) from exc
        runs: list[CellRun] = []
        deadline = time.monotonic() + total
        session = uuid.uuid4().hex
        try:
            _guard(conn, session, "snapshot", float(c.grade_cell_timeout))
            for code, test in zip(codes, tests):
                limit = min(float(c.grade_cell_timeout), deadline - time.monotonic())
                changed = _guard(conn, session, "restore", limit) if test and limit > 0 else []
                run = self._one(conn, code, session, limit) if limit > 0 else _not_run("the notebook's time was up")
                run.tampered = changed
                runs.append(run)
                if run.execution_count is None and run.error:  # timed out or died: the rest cannot run
                    break
        finally:
            conn.close()  # the child exits with its connection
            try:
                forker.kill(kernel_id, 0.5)
            except ForkerError:
                pass
        while len(runs) < len(codes):
            runs.append(_not_run("an earlier cell ran out of time or the session ended"))
        return runs

    @staticmethod
    def _one(conn: Any, code: str, session: str, limit: float) -> CellRun:
        """Send one execute_request and fold its messages into nbformat outputs."""
        request = execute_request(code, session)
        msg_id = request["header"]["msg_id"]
        run = CellRun()
        replied = idle = False
        end = time.monotonic() + limit
        try:
            conn.send(msg_to_frame(request))
            while not (replied and idle):
                conn.sock.settimeout(max(0.001, end - time.monotonic()))
                frame = conn.recv()
                if frame.get("type") != Verb.MSG:
                    continue
                msg = frame_to_msg(frame)
                if (msg.get("parent_header") or {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg.get("msg_type") or msg["header"]["msg_type"], msg.get("content") or {}
                if kind == MsgType.EXECUTE_REPLY:
                    replied = True
                    run.execution_count = content.get("execution_count")
                    run.error = run.error or content.get("status") != "ok"
                elif kind == MsgType.STATUS and content.get("execution_state") == "idle":
                    idle = True
                else:
                    _add_output(run, kind, content)
        except (TimeoutError, socket.timeout):
            run.outputs.append(_error("TimeoutError", f"the cell ran longer than {limit:.0f} s and was stopped"))
            run.error, run.execution_count = True, None
        except (ConnectionClosed, OSError, ProtocolError) as exc:
            run.outputs.append(_error("KernelDied", f"the session ended: {exc or type(exc).__name__}"))
            run.error, run.execution_count = True, None
        return run


_GUARD = "__import__('salvus_local.kernel.gradeguard', fromlist=['_']).{}()"


def _guard(conn: Any, session: str, what: str, limit: float) -> list[str]:
    """Run gradeguard.snapshot/restore in the kernel through user_expressions (no transformers, no cell events);
    what restore found changed, or why the guard could not be reached (itself a sign of tampering)."""
    request = execute_request("", session)
    request["content"].update(silent=True, store_history=False, user_expressions={"guard": _GUARD.format(what)})
    msg_id = request["header"]["msg_id"]
    end = time.monotonic() + max(limit, 0.001)
    try:
        conn.send(msg_to_frame(request))
        while True:
            conn.sock.settimeout(max(0.001, end - time.monotonic()))
            frame = conn.recv()
            if frame.get("type") != Verb.MSG:
                continue
            msg = frame_to_msg(frame)
            kind = msg.get("msg_type") or msg["header"]["msg_type"]
            if (msg.get("parent_header") or {}).get("msg_id") == msg_id and kind == MsgType.EXECUTE_REPLY:
                break
    except (TimeoutError, socket.timeout, ConnectionClosed, OSError, ProtocolError):
        return ["the grading guard did not answer"]
    result = ((msg.get("content") or {}).get("user_expressions") or {}).get("guard") or {}
    text = (result.get("data") or {}).get("text/plain", "") if result.get("status") == "ok" else ""
    if what == "snapshot":
        return [] if text == "'ok'" else ["the grading guard could not start"]
    try:
        changed = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return ["the grading guard could not run"]
    if not isinstance(changed, list) or not all(isinstance(x, str) for x in changed):
        return ["the grading guard could not run"]
    return changed


def _add_output(run: CellRun, kind: str, c: dict[str, Any]) -> None:
    """Append one iopub message as an nbformat output (consecutive stream text joined)."""
    if kind == MsgType.STREAM:
        last = run.outputs[-1] if run.outputs else None
        if last and last["output_type"] == "stream" and last["name"] == c.get("name"):
            last["text"] += str(c.get("text", ""))
        else:
            run.outputs.append({"output_type": "stream", "name": c.get("name", "stdout"), "text": str(c.get("text", ""))})
    elif kind == MsgType.EXECUTE_RESULT:
        run.outputs.append({"output_type": "execute_result", "data": c.get("data") or {},
                            "metadata": c.get("metadata") or {}, "execution_count": c.get("execution_count")})
    elif kind == MsgType.DISPLAY_DATA:
        run.outputs.append({"output_type": "display_data", "data": c.get("data") or {},
                            "metadata": c.get("metadata") or {}})
    elif kind == MsgType.ERROR:
        run.error = True
        run.outputs.append(_error(c.get("ename", ""), c.get("evalue", ""), list(c.get("traceback") or [])))


def _error(ename: str, evalue: str, traceback: list[str] | None = None) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback or [f"{ename}: {evalue}"]}


def _not_run(why: str) -> CellRun:
    return CellRun(outputs=[_error("NotRun", why)], error=True, execution_count=None)
