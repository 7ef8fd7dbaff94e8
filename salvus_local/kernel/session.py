"""One forked kernel session: its threads, its output, and its main loop.

Threads in a child (created after the fork, so none is inherited):
  reader   reads frames; stdin replies and control requests are handled at once,
           shell requests are queued for the main thread (where user code runs);
  sender   the only writer of the socket, so an interrupt can never cut a frame;
  flusher  and one pump per captured fd (see streams.py).
"""

from __future__ import annotations

import base64
import builtins
import getpass
import os
import queue
import signal
import sys
import threading
import time
from typing import Any, Callable

from ..protocol import Channel, ConnectionClosed, MsgType, SignedConnection, Verb, decode_buffers, encode_buffers, new_header, new_id
from . import comms
from .limits import Limits
from .requests import Requests
from .streams import FdCapture, Flusher, OutStream

_SHUTDOWN = object()


class InputInterrupted(KeyboardInterrupt):
    """input() was interrupted: shown as KeyboardInterrupt, with the user's frames only."""


InputInterrupted.__name__ = InputInterrupted.__qualname__ = "KeyboardInterrupt"


def _without_our_frames(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> list:
    """Show a traceback whose last frames (this module's, with server paths) are cut off."""
    last = tb
    while last.tb_next is not None and last.tb_next.tb_frame.f_globals.get("__name__") != __name__:
        last = last.tb_next
    last.tb_next = None
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    shell._showtraceback(etype, value, stb)
    return stb
EXIT_IDLE = 75       # exit status of a session stopped for being idle too long
EXIT_LIFETIME = 76   # exit status of a session stopped at its maximum lifetime
_BINARY_PREFIXES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


def normalize_data(data: dict[str, Any]) -> dict[str, Any]:
    """Make a mime bundle JSON-ready as Jupyter expects: text as str, binary images as base64."""
    out: dict[str, Any] = {}
    for mime, value in data.items():
        if isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value)
            if mime.startswith(_BINARY_PREFIXES):
                value = base64.b64encode(raw).decode("ascii")
            else:
                value = raw.decode("utf-8", errors="replace")  # e.g. Sage's SVG comes as bytes
        out[mime] = value
    return out


def _size(data: dict[str, Any]) -> int:
    """Bytes a mime bundle counts against the output cap."""
    return sum(len(str(v)) for v in data.values())


class Session:
    """A kernel session in a forked child."""

    def __init__(self, shell: Any, kernel: dict[str, Any], interrupt_handler: Callable[[], Any]) -> None:
        self.conn: SignedConnection | None = None
        self.shell = shell
        self.kernel_info = kernel
        self.kernel_id = ""
        self.limits = Limits()
        self.session_id = new_id()
        self.parent: dict[str, Any] = {}
        self.busy = False
        self.last_error: dict[str, Any] | None = None
        self.executing = False
        self.output_bytes = 0
        self.truncated = False
        self.last_activity = time.monotonic()
        self._interrupt_handler = interrupt_handler
        self._requests: queue.Queue = queue.Queue()
        self._stdin: queue.Queue = queue.Queue()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._out_lock = threading.RLock()
        self.comms: comms.SessionCommManager = comms.comm.get_comm_manager()  # installed by preload
        self.requests = Requests(self)

    # ---- start -------------------------------------------------------------------

    def start(self) -> None:
        """Attach the shell to this session and start output capture (before a client is known)."""
        from .shell import KernelShim

        comms.SessionComm.session = self
        self.shell.salvus_session = self
        self.shell.kernel = KernelShim(self)
        self.stdout = OutStream("stdout", self._emit_stream, self._out_lock)
        self.stderr = OutStream("stderr", self._emit_stream, self._out_lock)
        Flusher([self.stdout, self.stderr]).start()
        self.captures = [FdCapture(1, self.stdout), FdCapture(2, self.stderr)]
        self.stdout.before_write = self.stderr.before_write = self.drain_fds
        sys.stdout, sys.stderr = self.stdout, self.stderr
        builtins.input = self.input
        self.shell.set_custom_exc((InputInterrupted,), _without_our_frames)
        getpass.getpass = lambda prompt="Password: ", stream=None: self.input(prompt, password=True)

    def discard_output(self) -> None:
        """Forget what was queued before a client attached (the spare's warm-up cell)."""
        self.sync_output()
        self._outbox = queue.SimpleQueue()

    def attach(self, conn: SignedConnection, kernel_id: str, limits: Limits) -> None:
        """Serve the client on conn: start the sender and reader threads."""
        self.conn, self.kernel_id, self.limits = conn, kernel_id, limits
        self.last_activity = time.monotonic()
        threading.Thread(target=self._send_loop, name="salvus-sender", daemon=True).start()
        threading.Thread(target=self._read_loop, name="salvus-reader", daemon=True).start()

    # ---- sending -----------------------------------------------------------------

    def _send_loop(self) -> None:
        """Write queued frames to the socket, in order."""
        assert self.conn is not None
        while True:
            item = self._outbox.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            try:
                self.conn.send(item)
            except OSError:
                os._exit(0)  # the web server is gone: nobody can see this session any more

    def drain(self, timeout: float = 2.0) -> None:
        """Wait until every queued frame has been written."""
        done = threading.Event()
        self._outbox.put(done)
        done.wait(timeout)

    def send(self, channel: str, msg_type: str, content: dict[str, Any], parent: dict[str, Any] | None = None,
             metadata: dict[str, Any] | None = None, buffers: list | None = None) -> None:
        """Queue one Jupyter message for the client."""
        parent = self.parent if parent is None else parent
        self._outbox.put({
            "type": Verb.MSG, "channel": channel,
            "header": new_header(msg_type, self.session_id),
            "parent_header": parent.get("header", {}),
            "metadata": metadata or {}, "content": content,
            "buffers": encode_buffers(buffers) if buffers else [],
        })

    def send_iopub(self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None,
                   buffers: list | None = None, size: int | None = None) -> None:
        """Send an iopub message after all earlier output (fd 1/2, streams), so order is kept.

        With a size, the message counts against the execution's output cap and is dropped past it.
        """
        self.drain_fds()
        with self._out_lock:
            self.flush_streams()
            if size is None or self._allow(size):
                self.send(Channel.IOPUB, msg_type, content, metadata=metadata, buffers=buffers)

    def status(self, state: str, parent: dict[str, Any] | None = None) -> None:
        """Publish the kernel's execution state."""
        self.send(Channel.IOPUB, MsgType.STATUS, {"execution_state": state}, parent=parent)

    def flush_streams(self) -> None:
        """Send buffered stdout/stderr text now."""
        if hasattr(self, "stdout"):
            self.stdout.flush()
            self.stderr.flush()

    def drain_fds(self) -> None:
        """Forward what C code and subprocesses wrote to fd 1/2 so far (keeps output in order)."""
        for cap in getattr(self, "captures", ()):
            cap.drain()

    def sync_output(self) -> None:
        """Forward everything user code wrote, at any level, before replying."""
        try:
            sys.__stdout__ and sys.__stdout__.flush()
        except (OSError, ValueError):
            pass
        self.drain_fds()
        self.flush_streams()

    # ---- output with a per-execution cap ----------------------------------------

    def _allow(self, size: int) -> bool:
        """Count output against the execution's cap; say once when it is exceeded."""
        limit = self.limits.output_limit
        if not limit:
            return True  # counters reset when the next execution starts
        if self.truncated:
            return False
        self.output_bytes += size
        if self.output_bytes <= limit:
            return True
        self.truncated = True
        notice = (f"\n[output truncated: this execution produced more than {limit:,} bytes of output; "
                  "the rest is discarded]\n")
        self.send(Channel.IOPUB, MsgType.STREAM, {"name": "stderr", "text": notice})
        return False

    def _emit_stream(self, name: str, text: str) -> None:
        """Send stream text (called with the output lock held)."""
        if self._allow(len(text)):
            self.send(Channel.IOPUB, MsgType.STREAM, {"name": name, "text": text})

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None:
        """Send display_data or update_display_data."""
        data = normalize_data(data)
        msg_type = MsgType.UPDATE_DISPLAY_DATA if update else MsgType.DISPLAY_DATA
        self.send_iopub(msg_type, {"data": data, "metadata": metadata, "transient": transient}, size=_size(data))

    def clear_output(self, wait: bool) -> None:
        """Send clear_output."""
        self.send_iopub(MsgType.CLEAR_OUTPUT, {"wait": bool(wait)})

    def execute_result(self, count: int, data: dict, metadata: dict) -> None:
        """Send a cell's value."""
        data = normalize_data(data)
        self.send_iopub(MsgType.EXECUTE_RESULT, {"execution_count": count, "data": data, "metadata": metadata},
                        size=_size(data))

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        """Send an error and remember it for the execute_reply."""
        self.last_error = {"ename": ename, "evalue": evalue, "traceback": traceback}
        self.send_iopub(MsgType.ERROR, dict(self.last_error))

    # ---- stdin -------------------------------------------------------------------

    def input(self, prompt: str = "", password: bool = False) -> str:
        """Ask the client for a line of input (``input()`` and ``getpass``)."""
        from IPython.core.error import StdinNotImplementedError


        parent = self.parent
        if not parent.get("content", {}).get("allow_stdin", False):
            raise StdinNotImplementedError("input() is not available: the client does not accept input requests")
        self.sync_output()
        while not self._stdin.empty():
            self._stdin.get_nowait()  # a stale reply to an earlier, interrupted prompt
        self.send(Channel.STDIN, MsgType.INPUT_REQUEST, {"prompt": str(prompt), "password": password})
        try:
            reply = self._stdin.get()
        except KeyboardInterrupt:
            raise InputInterrupted("Interrupted by user") from None  # as ipykernel says it
        if reply is _SHUTDOWN:
            raise EOFError("the session is shutting down")
        return str(reply.get("content", {}).get("value", ""))

    # ---- reading -----------------------------------------------------------------

    def _read_loop(self) -> None:
        """Read frames: answer control and stdin now, queue shell requests."""
        assert self.conn is not None
        try:
            while True:
                frame = self.conn.recv()
                if frame.get("type") != Verb.MSG or not isinstance(frame.get("header"), dict):
                    continue
                frame["buffers"] = [memoryview(b) for b in decode_buffers(frame.get("buffers") or [])]
                self.last_activity = time.monotonic()
                channel = frame.get("channel")
                msg_type = frame["header"].get("msg_type")
                if channel == Channel.STDIN and msg_type == MsgType.INPUT_REPLY:
                    self._stdin.put(frame)
                elif channel == Channel.CONTROL or (msg_type == MsgType.KERNEL_INFO_REQUEST and self.busy):
                    self.requests.control(frame)
                else:
                    self._requests.put(frame)
        except (ConnectionClosed, OSError):
            pass
        os._exit(0)  # the web server closed our connection: the session is over

    def interrupt(self) -> None:
        """Interrupt running user code (SIGINT to our process group, like the signal mode)."""
        if self.executing:
            os.killpg(os.getpgrp(), signal.SIGINT)

    def shutdown(self, code: int = 0, notice: str = "") -> None:
        """Stop the session: flush and exit (the parent then kills the rest of our process group)."""
        self._stdin.put(_SHUTDOWN)
        self.sync_output()
        if notice:
            self.send(Channel.IOPUB, MsgType.STREAM, {"name": "stderr", "text": notice}, parent={})
        self.drain()
        os._exit(code)

    # ---- main loop ---------------------------------------------------------------

    def serve(self) -> None:
        """Handle shell requests one at a time in the main thread, until the session ends."""
        started = time.monotonic()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # only user code may be interrupted
        while True:
            try:
                msg = self._requests.get(timeout=1.0)
            except queue.Empty:
                now = time.monotonic()
                if self.limits.idle_timeout and now - self.last_activity > self.limits.idle_timeout:
                    self.shutdown(EXIT_IDLE, f"\nSession stopped: idle for {self.limits.idle_timeout} s.\n")
                if self.limits.max_lifetime and now - started > self.limits.max_lifetime:
                    self.shutdown(EXIT_LIFETIME, f"\nSession stopped: it reached its maximum lifetime of "
                                                 f"{self.limits.max_lifetime} s.\n")
                continue
            except KeyboardInterrupt:
                continue
            self.requests.dispatch(msg)

    def begin_user_code(self) -> None:
        """Arm interrupts and reset the output cap (before the client hears 'busy')."""
        self.output_bytes, self.truncated, self.last_error = 0, False, None
        self.executing = True
        self._interrupt_handler()

    def end_user_code(self) -> None:
        """Disarm interrupts: between requests a stray SIGINT must not hit our own code."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.executing = False
