"""A kernel on a salvus-local server, driven over its channels websocket, with output streamed as it comes."""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Callable
from typing import Any

import simple_websocket

from salvus_local.server.kernels.wire import decode

from .connect import ClientError, Connection

KERNEL_NAMES = {"sage": "sagemath", "python": "python3"}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _plain(text: str, stream: Any) -> str:
    """Drop colour codes unless the stream is a terminal (logs and pipes get plain text)."""
    return text if getattr(stream, "isatty", lambda: False)() else ANSI.sub("", text)


def output_of(msg: dict[str, Any]) -> dict[str, Any] | None:
    """Turn an iopub message into an nbformat output dict (None for other messages)."""
    kind, c = msg.get("msg_type") or msg["header"]["msg_type"], msg.get("content") or {}
    if kind == "stream":
        return {"output_type": "stream", "name": c.get("name", "stdout"), "text": c.get("text", "")}
    if kind in ("display_data", "execute_result"):
        out = {"output_type": kind, "data": c.get("data") or {}, "metadata": c.get("metadata") or {}}
        if kind == "execute_result":
            out["execution_count"] = c.get("execution_count")
        return out
    if kind == "error":
        return {"output_type": "error", "ename": c.get("ename", ""), "evalue": c.get("evalue", ""),
                "traceback": c.get("traceback") or []}
    return None


def print_output(out: dict[str, Any]) -> None:
    """Write one output to the terminal: streams and text to stdout, errors to stderr."""
    kind = out["output_type"]
    if kind == "stream":
        (sys.stderr if out["name"] == "stderr" else sys.stdout).write(out["text"])
    elif kind == "error":
        sys.stderr.write(_plain("\n".join(out["traceback"] or [f"{out['ename']}: {out['evalue']}"]), sys.stderr) + "\n")
    else:
        data = out["data"]
        text = data.get("text/plain")
        if isinstance(text, list):
            text = "".join(text)
        sys.stdout.write((text if text is not None else f"[{', '.join(sorted(data))} output]") + "\n")
    (sys.stderr if kind == "error" else sys.stdout).flush()


class RemoteKernel:
    """Start a kernel by REST, talk to it over one websocket, shut it down at close."""

    def __init__(self, conn: Connection, kernel: str | None, path: str | None = None) -> None:
        self.conn = conn
        body: dict[str, Any] = {}
        if kernel:
            body["name"] = KERNEL_NAMES.get(kernel, kernel)
        if path:
            body["path"] = path
        self.id = conn.call("POST", "/api/kernels", body)["id"]
        self.session = uuid.uuid4().hex
        try:
            self.ws = simple_websocket.Client.connect(
                conn.ws_url(f"/api/kernels/{self.id}/channels?session_id={self.session}"),
                headers={"Authorization": f"token {conn.token}"})
        except Exception as exc:  # the library raises several types for a refused or failed upgrade
            self.shutdown()
            raise ClientError(f"cannot open the kernel's websocket: {exc}") from None

    def execute(self, code: str, on_output: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Run code; call on_output for each output as it arrives; return the execute_reply content."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "channel": "shell", "buffers": [], "metadata": {}, "parent_header": {},
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": "", "version": "5.3", "date": ""},
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        reply, idle = None, False
        while reply is None or not idle:
            try:
                data = self.ws.receive()
            except simple_websocket.ConnectionClosed:
                raise ClientError("the server closed the kernel's connection") from None
            msg = decode(data)
            kind = msg.get("msg_type") or msg["header"]["msg_type"]
            if kind == "status" and msg["content"].get("execution_state") == "dead":
                raise ClientError("the kernel died")  # (a dead status has no parent)
            if (msg.get("parent_header") or {}).get("msg_id") != msg_id:
                continue
            if kind == "status":
                idle = msg["content"].get("execution_state") == "idle"
            elif kind == "execute_reply":
                reply = msg["content"]
            else:
                out = output_of(msg)
                if out is not None:
                    on_output(out)
        return reply

    def shutdown(self) -> None:
        """Close the websocket and stop the kernel."""
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        try:
            self.conn.call("DELETE", f"/api/kernels/{self.id}", timeout=30)
        except ClientError:
            pass
