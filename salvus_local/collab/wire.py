"""The y-websocket wire format (y-protocols): varUint framing of sync and awareness messages.

A frame is ``varUint(message type)`` + payload.  Types: ``0`` sync, ``1`` awareness, ``3`` query
awareness.  A sync payload is ``varUint(sync type)`` + ``varUint8Array(data)``: sync type ``0`` step 1
(data = the sender's state vector), ``1`` step 2 (data = an update the receiver lacks), ``2`` update.
An awareness payload is ``varUint8Array`` of ``varUint(n)`` then n × (``varUint(client id)``,
``varUint(clock)``, ``varString(JSON state or "null")``).  Integers are unsigned LEB128 (7 bits per
byte, high bit = more); strings and byte arrays are prefixed by their length.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MSG_SYNC, MSG_AWARENESS, MSG_AUTH, MSG_QUERY_AWARENESS = 0, 1, 2, 3
SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE = 0, 1, 2


class WireError(ValueError):
    """A frame that does not follow the y-protocols format."""


def write_var_uint(n: int) -> bytes:
    """Encode a non-negative integer as unsigned LEB128."""
    if n < 0:
        raise ValueError("varUint must be non-negative")
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def write_var_bytes(data: bytes) -> bytes:
    """Encode a length-prefixed byte array."""
    return write_var_uint(len(data)) + data


class Reader:
    """Reads varUints, byte arrays and strings from a buffer; raises WireError past its end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def var_uint(self) -> int:
        """Read one unsigned LEB128 integer (at most 64 bits)."""
        n, shift = 0, 0
        while True:
            if self.pos >= len(self.data):
                raise WireError("frame ends inside a number")
            byte = self.data[self.pos]
            self.pos += 1
            n |= (byte & 0x7F) << shift
            if byte < 0x80:
                return n
            shift += 7
            if shift > 63:
                raise WireError("number too long")

    def var_bytes(self) -> bytes:
        """Read a length-prefixed byte array."""
        size = self.var_uint()
        if self.pos + size > len(self.data):
            raise WireError("frame ends inside a byte array")
        out = self.data[self.pos:self.pos + size]
        self.pos += size
        return out

    def var_string(self) -> str:
        """Read a length-prefixed UTF-8 string."""
        try:
            return self.var_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError("string is not UTF-8") from exc


@dataclass
class Message:
    """One decoded frame: ``kind`` (MSG_*), ``sync`` (SYNC_* for sync frames) and ``data``."""

    kind: int
    sync: int | None
    data: bytes


def decode(frame: bytes) -> Message:
    """Decode a frame into a Message (raises WireError)."""
    reader = Reader(frame)
    kind = reader.var_uint()
    if kind == MSG_SYNC:
        sync = reader.var_uint()
        if sync not in (SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE):
            raise WireError(f"unknown sync message type {sync}")
        return Message(kind, sync, reader.var_bytes())
    if kind == MSG_AWARENESS:
        return Message(kind, None, reader.var_bytes())
    if kind in (MSG_QUERY_AWARENESS, MSG_AUTH):
        return Message(kind, None, b"")
    raise WireError(f"unknown message type {kind}")


def sync_frame(sync: int, data: bytes) -> bytes:
    """Encode a sync frame (step 1: data = state vector; step 2 / update: data = update)."""
    return write_var_uint(MSG_SYNC) + write_var_uint(sync) + write_var_bytes(data)


def awareness_frame(update: bytes) -> bytes:
    """Encode an awareness frame around an awareness update."""
    return write_var_uint(MSG_AWARENESS) + write_var_bytes(update)


def decode_state_vector(sv: bytes) -> dict[int, int]:
    """Decode a state vector: {client id: clock}."""
    reader = Reader(sv)
    return {reader.var_uint(): reader.var_uint() for _ in range(reader.var_uint())}


EMPTY_STATE_VECTOR = write_var_uint(0)


def decode_awareness(update: bytes) -> list[tuple[int, int, Any]]:
    """Decode an awareness update: [(client id, clock, state or None)]."""
    reader = Reader(update)
    out = []
    for _ in range(reader.var_uint()):
        client, clock = reader.var_uint(), reader.var_uint()
        try:
            state = json.loads(reader.var_string())
        except json.JSONDecodeError as exc:
            raise WireError("awareness state is not JSON") from exc
        out.append((client, clock, state))
    return out


def encode_awareness(entries: list[tuple[int, int, Any]]) -> bytes:
    """Encode an awareness update from [(client id, clock, state or None)]."""
    out = bytearray(write_var_uint(len(entries)))
    for client, clock, state in entries:
        text = json.dumps(state, separators=(",", ":")).encode("utf-8")
        out += write_var_uint(client) + write_var_uint(clock) + write_var_bytes(text)
    return bytes(out)
