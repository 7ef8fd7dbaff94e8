"""The wire protocol: Jupyter message envelope, every message type, signed framing.

Stdlib only: the forking compute server imports this module before it forks, and the
web server imports it too, so it must stay small and free of heavy dependencies.

Frames between the web server and the compute server are length-prefixed and signed:

    4-byte big-endian length N | N bytes = 64 hex chars HMAC-SHA256 | JSON body

The listening side sends an unsigned ``hello`` frame carrying a random nonce when a
connection opens.  Both sides then sign with a per-connection key
``HMAC(master_key, nonce)`` over ``direction | body``, and every body carries a ``seq``
that must grow by one per frame.  So a frame cannot be forged without the key, altered,
replayed on the same connection (seq) or on another connection (nonce), or reflected
back to its sender (direction).  A forked kernel child keeps only its connection key.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import socket
import struct
import threading
import uuid
from typing import Any

log = logging.getLogger("salvus_local.protocol")

PROTOCOL_VERSION = "5.3"
MAX_FRAME = 256 * 1024 * 1024  # a frame larger than this closes the connection
_LEN = struct.Struct(">I")


class MsgType:
    """Every Jupyter message type salvus_local speaks, by name."""

    EXECUTE_REQUEST = "execute_request"
    EXECUTE_REPLY = "execute_reply"
    EXECUTE_INPUT = "execute_input"
    EXECUTE_RESULT = "execute_result"
    STREAM = "stream"
    DISPLAY_DATA = "display_data"
    UPDATE_DISPLAY_DATA = "update_display_data"
    CLEAR_OUTPUT = "clear_output"
    ERROR = "error"
    STATUS = "status"
    COMPLETE_REQUEST = "complete_request"
    COMPLETE_REPLY = "complete_reply"
    INSPECT_REQUEST = "inspect_request"
    INSPECT_REPLY = "inspect_reply"
    IS_COMPLETE_REQUEST = "is_complete_request"
    IS_COMPLETE_REPLY = "is_complete_reply"
    HISTORY_REQUEST = "history_request"
    HISTORY_REPLY = "history_reply"
    KERNEL_INFO_REQUEST = "kernel_info_request"
    KERNEL_INFO_REPLY = "kernel_info_reply"
    COMM_INFO_REQUEST = "comm_info_request"
    COMM_INFO_REPLY = "comm_info_reply"
    COMM_OPEN = "comm_open"
    COMM_MSG = "comm_msg"
    COMM_CLOSE = "comm_close"
    INPUT_REQUEST = "input_request"
    INPUT_REPLY = "input_reply"
    INTERRUPT_REQUEST = "interrupt_request"
    INTERRUPT_REPLY = "interrupt_reply"
    SHUTDOWN_REQUEST = "shutdown_request"
    SHUTDOWN_REPLY = "shutdown_reply"


class Channel:
    """Jupyter channel names."""

    SHELL = "shell"
    IOPUB = "iopub"
    STDIN = "stdin"
    CONTROL = "control"


CHANNELS = frozenset({Channel.SHELL, Channel.IOPUB, Channel.STDIN, Channel.CONTROL})

# Which request types a client may send on which channel (everything else is refused).
CLIENT_REQUESTS: dict[str, frozenset[str]] = {
    Channel.SHELL: frozenset({
        MsgType.EXECUTE_REQUEST, MsgType.COMPLETE_REQUEST, MsgType.INSPECT_REQUEST,
        MsgType.IS_COMPLETE_REQUEST, MsgType.HISTORY_REQUEST, MsgType.KERNEL_INFO_REQUEST,
        MsgType.COMM_INFO_REQUEST, MsgType.COMM_OPEN, MsgType.COMM_MSG, MsgType.COMM_CLOSE,
    }),
    Channel.CONTROL: frozenset({
        MsgType.KERNEL_INFO_REQUEST, MsgType.INTERRUPT_REQUEST, MsgType.SHUTDOWN_REQUEST,
    }),
    Channel.STDIN: frozenset({MsgType.INPUT_REPLY}),
    Channel.IOPUB: frozenset(),
}


def reply_type(request_type: str) -> str:
    """Return the reply type for a ``*_request`` type."""
    return request_type[: -len("_request")] + "_reply"


class Verb:
    """Frame types between the web server and the forking compute server (not Jupyter)."""

    HELLO = "hello"          # listener → client, unsigned: {nonce, pid, kernel}
    START = "start"          # client → forker: fork a kernel; the connection becomes its channel
    STARTED = "started"      # child → client: {pid, pgid, kernel_id}
    RUN = "run"              # client → forker: fork, run one piece of code, answer once (kernel/oneshot.py)
    RESULT = "result"        # run child → client: the compute API's reply shape
    SIGNAL = "signal"        # client → forker: {kernel_id, signum}
    KILL = "kill"            # client → forker: {kernel_id, grace}
    WAIT = "wait"            # client → forker: answered with EXITED when the child is reaped
    EXITED = "exited"        # forker → client: {kernel_id, exitcode, signal, reason}
    INFO = "info"            # client → forker: answered with INFO_REPLY
    INFO_REPLY = "info_reply"
    OK = "ok"
    ERROR = "error"          # {message}
    MSG = "msg"              # a Jupyter message, with channel/header/parent_header/metadata/content


def utcnow_iso() -> str:
    """Return the current UTC time in ISO 8601, as Jupyter headers carry it."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def new_id() -> str:
    """Return a new random message or session id."""
    return uuid.uuid4().hex


def new_header(msg_type: str, session: str, username: str = "salvus") -> dict[str, Any]:
    """Build a Jupyter message header."""
    return {
        "msg_id": new_id(),
        "msg_type": msg_type,
        "session": session,
        "username": username,
        "date": utcnow_iso(),
        "version": PROTOCOL_VERSION,
    }


def new_message(
    msg_type: str,
    content: dict[str, Any],
    channel: str,
    session: str,
    parent: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a Jupyter message dict (the websocket JSON shape)."""
    return {
        "channel": channel,
        "header": new_header(msg_type, session),
        "parent_header": (parent or {}).get("header", {}) if parent else {},
        "metadata": metadata or {},
        "content": content,
        "buffers": [],
    }


def validate_client_message(msg: Any) -> str | None:
    """Return why a client's Jupyter message is malformed, or None when it is acceptable."""
    if not isinstance(msg, dict):
        return "a message must be a JSON object"
    channel = msg.get("channel")
    if channel not in CHANNELS:
        return f"unknown channel {channel!r}: use one of shell, control, stdin"
    header = msg.get("header")
    if not isinstance(header, dict):
        return "header must be an object"
    msg_type = header.get("msg_type")
    if not isinstance(msg_type, str) or not msg_type:
        return "header.msg_type is required"
    if not isinstance(header.get("msg_id", ""), str):
        return "header.msg_id must be a string"
    if msg_type not in CLIENT_REQUESTS[channel]:
        return f"message type {msg_type!r} is not accepted on the {channel} channel"
    for key in ("content", "metadata", "parent_header"):
        if not isinstance(msg.get(key, {}), dict):
            return f"{key} must be an object"
    if not isinstance(msg.get("buffers", []), list):
        return "buffers must be a list"
    return None


def encode_buffers(buffers: list[bytes | memoryview]) -> list[str]:
    """Encode binary buffers for a JSON frame."""
    return [base64.b64encode(bytes(b)).decode("ascii") for b in buffers]


def decode_buffers(buffers: list[str]) -> list[bytes]:
    """Decode binary buffers from a JSON frame."""
    return [base64.b64decode(b) for b in buffers]


def _json_default(obj: Any) -> Any:
    """Serialize what json cannot: dates, bytes, and anything else as its repr."""
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, (bytes, memoryview)):
        return base64.b64encode(bytes(obj)).decode("ascii")
    return repr(obj)


def dumps(obj: Any) -> bytes:
    """Serialize to compact UTF-8 JSON."""
    return json.dumps(obj, separators=(",", ":"), default=_json_default, ensure_ascii=False).encode()


class ProtocolError(Exception):
    """A frame was unsigned, tampered, replayed, malformed or too large."""


class ConnectionClosed(Exception):
    """The peer closed the connection."""


def derive_key(master: bytes | bytearray, nonce: str) -> bytes:
    """Derive the per-connection signing key from the per-boot master key and a nonce."""
    return hmac.new(bytes(master), nonce.encode(), hashlib.sha256).digest()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    """Read exactly n bytes or raise ConnectionClosed."""
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise ConnectionClosed()
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket) -> bytes:
    """Read one length-prefixed frame."""
    (n,) = _LEN.unpack(_recv_exact(sock, 4))
    if n > MAX_FRAME:
        raise ProtocolError(f"frame of {n} bytes exceeds the {MAX_FRAME} byte limit")
    return _recv_exact(sock, n)


def write_frame(sock: socket.socket, payload: bytes) -> None:
    """Write one length-prefixed frame."""
    sock.sendall(_LEN.pack(len(payload)) + payload)


class SignedConnection:
    """One end of a signed, ordered frame stream over a socket (thread-safe send)."""

    def __init__(self, sock: socket.socket, key: bytes, listener: bool) -> None:
        self.sock = sock
        self.key = key
        # Each side signs its own direction; a frame reflected back fails verification.
        self._out_dir, self._in_dir = (b"s", b"c") if listener else (b"c", b"s")
        self.send_seq = 0
        self.recv_seq = 0
        self._send_lock = threading.Lock()
        self.dropped = 0

    @classmethod
    def accept(cls, sock: socket.socket, master: bytes | bytearray, **hello: Any) -> SignedConnection:
        """Greet a newly accepted client with a nonce and return the listener's end."""
        nonce = os.urandom(16).hex()
        write_frame(sock, b"0" * 64 + dumps({"type": Verb.HELLO, "nonce": nonce, **hello}))
        return cls(sock, derive_key(master, nonce), listener=True)

    @classmethod
    def connect(cls, sock: socket.socket, master: bytes | bytearray) -> tuple[SignedConnection, dict[str, Any]]:
        """Read the listener's hello and return the client's end and the hello."""
        frame = read_frame(sock)
        try:
            hello = json.loads(frame[64:])
            nonce = hello["nonce"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolError("malformed hello frame") from exc
        return cls(sock, derive_key(master, nonce), listener=False), hello

    def _sign(self, direction: bytes, body: bytes) -> bytes:
        """Return the hex signature of a body in one direction."""
        return hmac.new(self.key, direction + body, hashlib.sha256).hexdigest().encode()

    def send(self, obj: dict[str, Any]) -> None:
        """Sign and send one frame; safe to call from several threads."""
        with self._send_lock:
            self.send_seq += 1
            body = dumps({**obj, "seq": self.send_seq})
            write_frame(self.sock, self._sign(self._out_dir, body) + body)

    def verify(self, frame: bytes) -> dict[str, Any]:
        """Check one frame's signature and sequence and return its body."""
        sig, body = frame[:64], frame[64:]
        if not hmac.compare_digest(sig, self._sign(self._in_dir, body)):
            raise ProtocolError("bad signature: frame unsigned or tampered")
        try:
            obj = json.loads(body)
            seq = obj["seq"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolError("malformed frame body") from exc
        if not isinstance(seq, int) or seq <= self.recv_seq:
            raise ProtocolError("replayed or out-of-order frame")
        self.recv_seq = seq
        return obj

    def recv(self) -> dict[str, Any]:
        """Return the next valid frame, dropping (and logging) bad ones."""
        while True:
            frame = read_frame(self.sock)
            try:
                return self.verify(frame)
            except ProtocolError as exc:
                self.dropped += 1
                log.warning("dropped frame: %s", exc)  # never log the frame or the key

    def close(self) -> None:
        """Close the socket."""
        try:
            self.sock.close()
        except OSError:
            pass
