"""Websocket frames of the Jupyter Server kernel channels (the "legacy" format).

A message without buffers is one JSON text frame with a ``channel`` field.  A message with
buffers is one binary frame, as jupyter_server's ``serialize_binary_message``:
``nbufs | offset_0 … offset_{nbufs-1}`` (big-endian uint32) then the JSON and each buffer,
where part 0 is the JSON message without ``buffers``.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from salvus_local.protocol import decode_buffers, dumps, encode_buffers


def encode(msg: dict[str, Any]) -> str | bytes:
    """Encode a message (buffers as base64 strings) for the websocket."""
    header = msg.get("header") or {}
    out = {**msg, "msg_id": msg.get("msg_id") or header.get("msg_id", ""),
           "msg_type": msg.get("msg_type") or header.get("msg_type", "")}
    buffers = out.pop("buffers", None) or []
    if not buffers:
        return dumps({**out, "buffers": []}).decode()
    parts = [dumps(out), *decode_buffers(buffers)]
    offsets = [4 * (len(parts) + 1)]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + len(part))
    return struct.pack(f"!{len(parts) + 1}I", len(parts), *offsets) + b"".join(parts)


def decode(data: str | bytes) -> Any:
    """Decode a websocket frame into a message (buffers as base64 strings); ValueError says what is wrong."""
    if isinstance(data, str):
        try:
            msg = json.loads(data)
        except ValueError as exc:
            raise ValueError(f"the message is not valid JSON ({exc})") from None
        if isinstance(msg, dict) and isinstance(msg.get("buffers"), list):
            if not all(isinstance(b, str) for b in msg["buffers"]):
                raise ValueError("buffers in a text frame must be base64 strings; send binary frames instead")
        return msg
    return _decode_binary(data)


def _decode_binary(data: bytes) -> dict[str, Any]:
    """Split a binary frame into its JSON message and buffers."""
    if len(data) < 8:
        raise ValueError("binary frame too short for the Jupyter binary message format")
    (nbufs,) = struct.unpack("!I", data[:4])
    if not 1 <= nbufs <= 4096 or len(data) < 4 * (nbufs + 1):
        raise ValueError("binary frame has a bad buffer count")
    offsets = list(struct.unpack(f"!{nbufs}I", data[4:4 * (nbufs + 1)])) + [len(data)]
    if offsets != sorted(offsets) or offsets[0] < 4 * (nbufs + 1):
        raise ValueError("binary frame has bad buffer offsets")
    parts = [data[a:b] for a, b in zip(offsets, offsets[1:], strict=False)]
    try:
        msg = json.loads(parts[0].decode("utf-8"))
    except ValueError as exc:
        raise ValueError(f"the binary frame's message part is not valid JSON ({exc})") from None
    if not isinstance(msg, dict):
        raise ValueError("a message must be a JSON object")
    msg["buffers"] = encode_buffers(parts[1:])
    return msg
