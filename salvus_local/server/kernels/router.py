"""Message routing of kernels: the reader thread per child, fan-out to websockets, listeners.

iopub goes to every websocket of a kernel; replies go to the websocket that sent the request
(see :class:`.kernel.Kernel`).  Listeners see every message in both directions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from salvus_local.protocol import Channel, ConnectionClosed, MsgType, ProtocolError, Verb

from .kernel import Kernel, Sink, frame_to_msg, msg_to_frame, utcnow

log = logging.getLogger("salvus_local.server.kernels")

Listener = Callable[[str, dict[str, Any], str], None]


class KernelUnavailable(Exception):
    """The kernel has no running child (dead, restarting or shut down)."""


class KernelRouter:
    """The messaging half of KernelManager (which provides ``get``, ``_kernels`` and ``_on_eof``)."""

    _kernels: dict[str, Kernel]
    _listeners: list[Listener]

    def get(self, kernel_id: str) -> Kernel:
        raise NotImplementedError

    def _on_eof(self, kernel: Kernel, generation: int) -> None:
        raise NotImplementedError

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(kernel_id, msg, direction)`` for every message; direction is "in" (to the kernel) or "out"."""
        self._listeners.append(fn)

    def _notify(self, kernel: Kernel, msg: dict[str, Any], direction: str) -> None:
        """Tell the listeners about a message; a failing listener never breaks the kernel."""
        for fn in list(self._listeners):
            try:
                fn(kernel.id, msg, direction)
            except Exception:
                log.exception("kernel message listener %r failed", fn)

    def attach(self, kernel_id: str, sink: Sink) -> Kernel:
        """Connect a websocket to a kernel."""
        kernel = self.get(kernel_id)
        with kernel.lock:
            kernel.sinks.add(sink)
            dead, reason = kernel.execution_state == "dead", kernel.reason
        if dead:
            # It died before this websocket connected: say so now, not at a kernel_info timeout.
            sink.send_msg(kernel.status("dead"))
            sink.send_msg(kernel.stderr(f"The kernel died: {reason}. Restart it to continue.\n"))
        return kernel

    def detach(self, kernel_id: str, sink: Sink) -> None:
        """Disconnect a websocket."""
        kernel = self._kernels.get(kernel_id)
        if kernel is not None:
            kernel.forget(sink)

    def send(self, kernel_id: str, msg: dict[str, Any], sink: Sink | None = None) -> None:
        """Send a client's message to the kernel; its replies go back to sink."""
        kernel = self.get(kernel_id)
        if sink is not None and msg["header"].get("msg_type", "").endswith("_request"):
            kernel.remember(msg["header"].get("msg_id", ""), sink, msg["header"])
        self._send_frame(kernel, msg)

    def _send_frame(self, kernel: Kernel, msg: dict[str, Any]) -> None:
        """Sign and send a message to the kernel's child."""
        conn = kernel.conn
        if conn is None:
            raise KernelUnavailable(f"the kernel is {kernel.execution_state}"
                                    + (f" ({kernel.reason})" if kernel.reason else ""))
        try:
            conn.send(msg_to_frame(msg))
        except OSError as exc:
            raise KernelUnavailable(f"the kernel's connection failed: {exc}") from exc
        kernel.last_activity = utcnow()
        self._notify(kernel, msg, "in")

    def _read(self, kernel: Kernel, conn: Any, generation: int) -> None:
        """Reader thread: fan out the child's messages until its connection ends."""
        try:
            while True:
                frame = conn.recv()
                if frame.get("type") == Verb.MSG:
                    self._deliver(kernel, frame_to_msg(frame))
                else:
                    log.debug("kernel %s sent a %r frame", kernel.id, frame.get("type"))
        except (ConnectionClosed, OSError, ProtocolError):
            pass
        finally:
            conn.close()
            self._on_eof(kernel, generation)

    def _deliver(self, kernel: Kernel, msg: dict[str, Any]) -> None:
        """Route one message from the kernel."""
        kernel.last_activity = utcnow()
        self._notify(kernel, msg, "out")
        if msg["channel"] == Channel.IOPUB:
            if msg["msg_type"] == MsgType.STATUS:
                kernel.execution_state = msg["content"].get("execution_state", kernel.execution_state)
                waiting_for, ready = kernel.ready_waiter
                if kernel.execution_state == "idle" and msg["parent_header"].get("msg_id") == waiting_for:
                    ready.set()  # idle after the start-up kernel_info: the kernel is ready
            self._broadcast(kernel, msg)
            return
        target = kernel.route(msg)
        if callable(target) and not hasattr(target, "send_msg"):
            target(msg)
        elif target is not None and target in kernel.sinks:
            self._send_to(kernel, target, msg)

    def _answer_pending(self, kernel: Kernel, reason: str) -> None:
        """Every request still waiting on a child that is gone gets an error reply (never silence)."""
        for sink, reply in kernel.abandon(reason):
            if sink in kernel.sinks:
                self._send_to(kernel, sink, reply)

    def _broadcast(self, kernel: Kernel, msg: dict[str, Any]) -> None:
        """Send a message to every websocket of the kernel."""
        for sink in list(kernel.sinks):
            self._send_to(kernel, sink, msg)

    def _send_to(self, kernel: Kernel, sink: Sink, msg: dict[str, Any]) -> None:
        """Send to one websocket, dropping it when it is gone."""
        try:
            sink.send_msg(msg)
        except Exception:
            kernel.forget(sink)
