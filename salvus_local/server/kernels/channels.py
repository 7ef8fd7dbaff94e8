"""The kernel websocket ``/api/kernels/<id>/channels`` (Jupyter Server's legacy protocol).

Bad messages never close the connection or hurt the kernel: the sender gets an error-shaped
reply (or, when not even a request type can be read, a stderr stream) saying what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from salvus_local.protocol import Channel, MsgType, new_message, reply_type, validate_client_message

from ..accounts.revocation import revoked
from ..errors import APIError
from ..websocket import LockedSocket
from . import wire
from .kernel import Kernel
from .manager import KernelManager, KernelUnavailable


class WebsocketSink:
    """Delivers a kernel's messages to one websocket (sends are serialized by a lock)."""

    def __init__(self, ws: Any) -> None:
        self.ws = LockedSocket(ws)

    def send_msg(self, msg: dict[str, Any]) -> None:
        """Send one message."""
        self.ws.send(wire.encode(msg))

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()


def error_reply(kernel: Kernel, msg: Any, problem: str) -> dict[str, Any]:
    """Answer a bad message: an ``*_reply`` with status error when a request is recognizable, else stderr."""
    header = msg.get("header") if isinstance(msg, dict) else None
    parent = {"header": header} if isinstance(header, dict) else None
    msg_type = header.get("msg_type") if parent else None
    if isinstance(msg_type, str) and msg_type.endswith("_request"):
        channel = msg.get("channel") if msg.get("channel") in (Channel.SHELL, Channel.CONTROL) else Channel.SHELL
        content = {"status": "error", "ename": "InvalidMessage", "evalue": problem, "traceback": []}
        return new_message(reply_type(msg_type), content, channel, kernel.session, parent)
    text = f"salvus-local: message refused: {problem}\n"
    return new_message(MsgType.STREAM, {"name": "stderr", "text": text}, Channel.IOPUB, kernel.session, parent)


def _interrupt(manager: KernelManager, kernel: Kernel, sink: WebsocketSink, msg: dict[str, Any]) -> None:
    """Turn a control ``interrupt_request`` into a SIGINT and answer it."""
    manager.interrupt(kernel.id)
    reply = new_message(MsgType.INTERRUPT_REPLY, {"status": "ok"}, Channel.CONTROL, kernel.session, msg)
    sink.send_msg(reply)


def _shutdown(manager: KernelManager, kernel: Kernel, sink: WebsocketSink, msg: dict[str, Any]) -> None:
    """A ``shutdown_request`` with restart=true restarts the kernel in place; otherwise the kernel gets it."""
    if not msg.get("content", {}).get("restart"):
        manager.send(kernel.id, msg, sink)
        return
    reply = new_message(MsgType.SHUTDOWN_REPLY, {"status": "ok", "restart": True}, Channel.CONTROL,
                        kernel.session, msg)
    sink.send_msg(reply)
    manager.restart(kernel.id)


SPECIAL: dict[tuple[str, str], Callable[[KernelManager, Kernel, WebsocketSink, dict[str, Any]], None]] = {
    (Channel.CONTROL, MsgType.INTERRUPT_REQUEST): _interrupt,
    (Channel.CONTROL, MsgType.SHUTDOWN_REQUEST): _shutdown,
}


def handle_frame(manager: KernelManager, kernel: Kernel, sink: WebsocketSink, data: str | bytes) -> None:
    """Check one frame from the browser and pass it to the kernel (or answer why not)."""
    try:
        msg = wire.decode(data)
    except ValueError as exc:
        sink.send_msg(error_reply(kernel, None, str(exc)))
        return
    problem = validate_client_message(msg)
    if problem is None and not msg["header"].get("msg_id"):
        problem = "header.msg_id is required"
    if problem:
        sink.send_msg(error_reply(kernel, msg, problem))
        return
    special = SPECIAL.get((msg["channel"], msg["header"]["msg_type"]))
    try:
        if special:
            special(manager, kernel, sink, msg)
        else:
            manager.send(kernel.id, msg, sink)
    except KernelUnavailable as exc:
        sink.send_msg(error_reply(kernel, msg, str(exc)))
    except APIError as exc:
        sink.send_msg(error_reply(kernel, msg, exc.message))


def serve_channels(ws: Any, manager: KernelManager, kernel_id: str) -> None:
    """Bridge one websocket to a kernel until either side closes."""
    sink = WebsocketSink(ws)
    kernel = manager.attach(kernel_id, sink)
    try:
        while True:
            data = ws.receive()
            if revoked():  # the user's access ended meanwhile: the frame is dropped, the socket closed
                break
            if data is not None:
                handle_frame(manager, kernel, sink, data)
    finally:
        manager.detach(kernel_id, sink)
