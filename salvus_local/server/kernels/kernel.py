"""One running kernel as the web server sees it: its child connection, state, websockets and routes.

A *sink* is anything with ``send_msg(msg)`` and ``close()`` (a websocket, see channels.py).
iopub goes to every sink; a shell/control/stdin message goes only to the sink that sent
the request named in its ``parent_header.msg_id``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any, Protocol

from salvus_local.protocol import Channel, MsgType, SignedConnection, new_id, new_message, reply_type

MAX_ROUTES = 10_000  # requests whose reply never came are forgotten past this many


class Sink(Protocol):
    """A receiver of a kernel's messages (one websocket)."""

    def send_msg(self, msg: dict[str, Any]) -> None:
        """Deliver one message; raise when the receiver is gone."""

    def close(self) -> None:
        """Close the receiver."""


def utcnow() -> dt.datetime:
    """Return the current UTC time."""
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    """Format a time as Jupyter does (ISO 8601, Z)."""
    return t.isoformat().replace("+00:00", "Z")


def frame_to_msg(frame: dict[str, Any]) -> dict[str, Any]:
    """Turn a child's ``msg`` frame into the websocket message shape (buffers stay base64)."""
    header = frame.get("header") if isinstance(frame.get("header"), dict) else {}
    return {
        "channel": frame.get("channel"),
        "header": header,
        "msg_id": header.get("msg_id", ""),
        "msg_type": header.get("msg_type", ""),
        "parent_header": frame.get("parent_header") or {},
        "metadata": frame.get("metadata") or {},
        "content": frame.get("content") or {},
        "buffers": frame.get("buffers") or [],
    }


def msg_to_frame(msg: dict[str, Any]) -> dict[str, Any]:
    """Turn a client's message (buffers already base64) into a ``msg`` frame for the child."""
    return {
        "type": "msg",
        "channel": msg["channel"],
        "header": msg["header"],
        "parent_header": msg.get("parent_header") or {},
        "metadata": msg.get("metadata") or {},
        "content": msg.get("content") or {},
        "buffers": msg.get("buffers") or [],
    }


class Kernel:
    """State of one kernel; the manager drives it, the reader thread feeds it."""

    def __init__(self, kernel_id: str, name: str, kind: str, cwd: str) -> None:
        self.id = kernel_id
        self.name = name
        self.kind = kind
        self.cwd = cwd
        self.project_id = "default"           # the project whose uid it runs as
        self.root = cwd                       # the project's folder (what a namespaced session sees)
        self.conn: SignedConnection | None = None
        self.pid: int | None = None
        self.execution_state = "starting"
        self.last_activity = utcnow()
        self.reason: str | None = None        # why it died, when it did
        self.generation = 0                   # bumped per child; a stale reader's EOF is ignored
        self.stopping = False                 # shutdown in progress: its EOF is expected
        self.session = new_id()               # session id of messages the server makes up
        self.sinks: set[Any] = set()
        self.routes: dict[str, Any] = {}      # request msg_id → sink or internal callback
        self.requests: dict[str, dict[str, Any]] = {}  # request msg_id → its header, to answer it if the kernel dies
        self.lock = threading.RLock()
        self.op_lock = threading.Lock()       # one restart/shutdown at a time
        self.eof = threading.Event()          # set when the current child's connection ends
        self.ready_waiter: tuple[str, threading.Event] = ("", threading.Event())  # start-up kernel_info

    def model(self) -> dict[str, Any]:
        """Return the jupyter_server kernel model."""
        return {
            "id": self.id,
            "name": self.name,
            "last_activity": iso(self.last_activity),
            "execution_state": self.execution_state,
            "connections": len(self.sinks),
        }

    def remember(self, msg_id: str, target: Sink | Callable[[dict[str, Any]], None],
                 header: dict[str, Any] | None = None) -> None:
        """Route the replies to request msg_id to target (header: the request's, to answer it on death)."""
        with self.lock:
            if len(self.routes) >= MAX_ROUTES:
                old = next(iter(self.routes))
                self.routes.pop(old)
                self.requests.pop(old, None)
            self.routes[msg_id] = target
            if header is not None:
                self.requests[msg_id] = header

    def abandon(self, reason: str) -> list[tuple[Any, dict[str, Any]]]:
        """Forget every pending request; return (sink, error reply) for each that a websocket waits on."""
        with self.lock:
            routes, headers = self.routes, self.requests
            self.routes, self.requests = {}, {}
        out = []
        for msg_id, target in routes.items():
            header = headers.get(msg_id)
            if header is None or not hasattr(target, "send_msg"):
                continue
            channel = Channel.CONTROL if header.get("msg_type") in ("shutdown_request", "interrupt_request",
                                                                    "debug_request") else Channel.SHELL
            content = {"status": "error", "ename": "DeadKernelError", "evalue": reason, "traceback": []}
            out.append((target, new_message(reply_type(str(header.get("msg_type", ""))), content, channel,
                                            self.session, {"header": header})))
        return out

    def route(self, msg: dict[str, Any]) -> Any:
        """Return the sink or callback a non-iopub message goes to (forgetting it on a final reply)."""
        parent_id = (msg.get("parent_header") or {}).get("msg_id")
        with self.lock:
            final = msg["channel"] in (Channel.SHELL, Channel.CONTROL) and msg["msg_type"].endswith("_reply")
            if final:
                self.requests.pop(parent_id, None)
            return self.routes.pop(parent_id, None) if final else self.routes.get(parent_id)

    def forget(self, sink: Sink) -> None:
        """Drop a sink and the routes of its pending requests."""
        with self.lock:
            self.sinks.discard(sink)
            for msg_id in [k for k, v in self.routes.items() if v is sink]:
                del self.routes[msg_id]
                self.requests.pop(msg_id, None)

    def status(self, state: str, parent: dict[str, Any] | None = None) -> dict[str, Any]:
        """Make an iopub status message."""
        return new_message(MsgType.STATUS, {"execution_state": state}, Channel.IOPUB, self.session, parent)

    def stderr(self, text: str) -> dict[str, Any]:
        """Make an iopub stream message on stderr."""
        return new_message(MsgType.STREAM, {"name": "stderr", "text": text}, Channel.IOPUB, self.session)
