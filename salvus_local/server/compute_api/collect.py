"""Fold the Jupyter messages of one execution into the compute API's JSON reply.

Reply shape (``POST /api/v1/execute``)::

    {"status": "ok"|"error", "stdout": str, "stderr": str,
     "result": {mime: data} | null, "displays": [{"data": {...}, "metadata": {...}}],
     "error": {"ename", "evalue", "traceback": [str]} (only when status is not ok),
     "execution_count": int | null}
"""

from __future__ import annotations

from typing import Any

from salvus_local.protocol import MsgType


class Collector:
    """Accumulates the iopub and shell messages whose parent is one execute_request."""

    def __init__(self, msg_id: str) -> None:
        self.msg_id = msg_id
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.result: dict[str, Any] | None = None
        self.displays: list[dict[str, Any]] = []
        self.error: dict[str, Any] | None = None
        self.reply: dict[str, Any] | None = None
        self.idle = False
        self.execution_count: int | None = None

    @property
    def done(self) -> bool:
        """True once the execute_reply came and the kernel went idle for this request."""
        return self.reply is not None and self.idle

    def feed(self, msg: dict[str, Any]) -> None:
        """Take one message (websocket shape); messages of other requests are ignored."""
        if (msg.get("parent_header") or {}).get("msg_id") != self.msg_id:
            return
        kind = msg.get("msg_type") or (msg.get("header") or {}).get("msg_type")
        c = msg.get("content") or {}
        if kind == MsgType.STREAM:
            (self.stderr if c.get("name") == "stderr" else self.stdout).append(str(c.get("text", "")))
        elif kind == MsgType.EXECUTE_RESULT:
            self.result = c.get("data") or {}
            self.execution_count = c.get("execution_count")
        elif kind == MsgType.DISPLAY_DATA:
            self.displays.append({"data": c.get("data") or {}, "metadata": c.get("metadata") or {}})
        elif kind == MsgType.ERROR:
            self.error = {"ename": c.get("ename", ""), "evalue": c.get("evalue", ""),
                          "traceback": list(c.get("traceback") or [])}
        elif kind == MsgType.STATUS and c.get("execution_state") == "idle":
            self.idle = True
        elif kind == MsgType.EXECUTE_REPLY:
            self.reply = c
            if self.execution_count is None:
                self.execution_count = c.get("execution_count")

    def load(self, result: dict[str, Any]) -> None:
        """Take a one-shot run's whole answer (kernel/oneshot.py: this reply shape + ``execute_reply``)."""
        self.stdout, self.stderr = [str(result.get("stdout") or "")], [str(result.get("stderr") or "")]
        self.result = result.get("result")
        self.displays = list(result.get("displays") or [])
        self.error = result.get("error")
        self.execution_count = result.get("execution_count")
        self.reply = dict(result.get("execute_reply") or {"status": result.get("status", "error")})
        self.idle = True

    def timeout(self, seconds: float) -> None:
        """Record that the execution ran out of time (its session is killed by the caller)."""
        self.error = {"ename": "TimeoutError", "evalue": f"the computation took longer than {seconds:g} s "
                      "and was stopped", "traceback": []}
        self.reply = {"status": "error"}

    def died(self, reason: str) -> None:
        """Record that the session ended before answering (unless an answer or a timeout came first)."""
        if self.reply is not None:
            return
        self.error = {"ename": "KernelDied", "evalue": f"the session ended before answering: {reason}",
                      "traceback": []}
        self.reply = {"status": "error"}

    def as_json(self) -> dict[str, Any]:
        """Return the API reply."""
        status = (self.reply or {}).get("status", "error")
        if status == "error" and self.error is None and self.reply:
            self.error = {k: self.reply.get(k, "") for k in ("ename", "evalue")}
            self.error["traceback"] = list(self.reply.get("traceback") or [])
        out: dict[str, Any] = {"status": status, "stdout": "".join(self.stdout), "stderr": "".join(self.stderr),
                               "result": self.result, "displays": self.displays,
                               "execution_count": self.execution_count}
        if status != "ok":
            out["error"] = self.error
        return out

    def as_sagecell(self) -> dict[str, Any]:
        """Return SageCell's ``/service`` reply: ``{success, stdout, execute_reply}``."""
        data = self.as_json()
        reply = dict(self.reply or {})
        if data["status"] != "ok" and data.get("error"):
            reply.update(data["error"], status="error")
        return {"success": data["status"] == "ok", "stdout": data["stdout"], "execute_reply": reply}
