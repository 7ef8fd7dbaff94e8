"""A small Jupyter Server API client: REST for kernels, the websocket for messages.

The same code drives salvus_local and jupyter_server, so both are measured through
exactly the requests a Jupyter front end would make.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests
import websocket


@dataclass
class Server:
    """A running server: its base URL and token."""

    name: str
    base_url: str
    token: str
    pid: int
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.http.headers["Authorization"] = f"token {self.token}"

    def api(self, method: str, path: str, **kw: Any) -> Any:
        """Call a REST endpoint and return its JSON (None for 204)."""
        resp = self.http.request(method, self.base_url + path, timeout=120, **kw)
        if resp.status_code >= 400:
            raise RuntimeError(f"{self.name}: {method} {path} -> {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content else None

    def kernelspecs(self) -> dict[str, dict]:
        """Return the server's kernelspecs by name."""
        return self.api("GET", "/api/kernelspecs")["kernelspecs"]

    def kernel_name(self, language: str) -> str:
        """Find the kernelspec name for a language ('python' or 'sage')."""
        for name, spec in sorted(self.kernelspecs().items()):
            if spec["spec"].get("language", "").lower() == language:
                return name
        raise RuntimeError(f"{self.name} has no {language} kernel")

    def start_kernel(self, name: str) -> str:
        """POST /api/kernels and return the new kernel id."""
        return self.api("POST", "/api/kernels", json={"name": name})["id"]

    def shutdown_kernel(self, kernel_id: str) -> None:
        """DELETE /api/kernels/{id}."""
        self.api("DELETE", f"/api/kernels/{kernel_id}")

    def connect(self, kernel_id: str) -> Channels:
        """Open the kernel's channels websocket."""
        ws_url = self.base_url.replace("http", "ws", 1)
        session = uuid.uuid4().hex
        url = f"{ws_url}/api/kernels/{kernel_id}/channels?session_id={session}&token={self.token}"
        return Channels(websocket.create_connection(url, timeout=300), session)


@dataclass
class Channels:
    """One kernel websocket in the Jupyter Server JSON format (channel field per frame)."""

    ws: websocket.WebSocket
    session: str

    def send(self, msg_type: str, content: dict, channel: str = "shell") -> str:
        """Send a message and return its msg_id."""
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "bench",
            "session": self.session,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        }
        frame = {"header": header, "parent_header": {}, "metadata": {}, "content": content,
                 "channel": channel, "buffers": []}
        self.ws.send(json.dumps(frame))
        return msg_id

    def execute(self, code: str, timeout: float = 300, need_reply: bool = True) -> Any:
        """Run code; return the execute_result's text/plain once it (and the reply) arrived."""
        deadline = time.monotonic() + timeout
        msg_id = self.send("execute_request", {
            "code": code, "silent": False, "store_history": False,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True,
        })
        result, replied = None, False
        while result is None or (need_reply and not replied):
            msg = self.recv(deadline)
            kind = msg["header"]["msg_type"]
            if kind == "status" and msg["content"].get("execution_state") in ("dead", "restarting"):
                raise RuntimeError(f"kernel {msg['content']['execution_state']} while running {code!r}")
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if kind == "execute_result":
                result = msg["content"]["data"].get("text/plain")
            elif kind == "error":
                raise RuntimeError(f"{code!r} failed: {msg['content'].get('evalue')}")
            elif kind == "execute_reply":
                replied = True
                if msg["content"].get("status") != "ok":
                    raise RuntimeError(f"{code!r}: {msg['content']}")
        return result

    def recv(self, deadline: float) -> dict:
        """Receive the next JSON text message before deadline (time.monotonic)."""
        while True:
            # Control frames are returned too, so server pings cannot extend the deadline.
            opcode, frame = self.ws.recv_data_frame(True)
            if opcode == websocket.ABNF.OPCODE_TEXT:
                data = frame.data
                return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise ConnectionError("the server closed the websocket")
            if time.monotonic() > deadline:
                raise TimeoutError("no answer before the deadline")

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()


def new_session_first_result(server: Server, kernel: str, code: str = "1+1") -> tuple[float, str, Channels]:
    """Time POST /api/kernels + websocket + execute until the execute_result; return (seconds, id, channels)."""
    t0 = time.perf_counter()
    kernel_id = server.start_kernel(kernel)
    chans = server.connect(kernel_id)
    result = chans.execute(code, need_reply=False)
    elapsed = time.perf_counter() - t0
    if result is None:
        raise RuntimeError(f"{server.name}: no result for {code!r}")
    return elapsed, kernel_id, chans
