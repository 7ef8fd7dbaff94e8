"""Issue 7, item 6: temp files of a save killed by kill -9 are swept at start; websockets past the
thread cap are refused at once with a clear 503, while ordinary HTTP keeps answering."""

from __future__ import annotations

import base64
import os
import signal
import threading
from pathlib import Path

import psutil
import pytest
import requests
import websocket

from tests.conftest import wait_for

ARGS = ("--kernels", "python", "--kernel", "python")


def _temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".~salvus-") and p.name.endswith(".tmp")]


def test_temp_file_of_a_killed_save_is_swept_at_start(start_server, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(*ARGS, data_dir=data)
    assert server.put("/api/contents/big.bin", json={"type": "file", "format": "text", "content": "old"}).status_code == 201
    folder = data / "projects" / "default"
    payload = base64.b64encode(os.urandom(3 * 64 * 1024 * 1024)).decode()  # 192 MB once decoded
    family = [psutil.Process(server.proc.pid), *psutil.Process(server.proc.pid).children(recursive=True)]

    def save() -> None:
        try:
            server.put("/api/contents/big.bin", json={"type": "file", "format": "base64", "content": payload},
                       timeout=120)
        except requests.RequestException:
            pass  # the server dies under it

    writer = threading.Thread(target=save, daemon=True)
    writer.start()
    wait_for(lambda: _temp_files(folder), timeout=120, what="the save's temp file")
    for p in family:  # kill -9 everything mid-save: nothing gets to clean up
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=30)
    writer.join(timeout=60)
    assert _temp_files(folder), "the kill came too late to leave a temp file"
    assert (folder / "big.bin").read_text() == "old"

    restarted = start_server(*ARGS, data_dir=data)
    wait_for(lambda: not _temp_files(folder), timeout=60, what="the start-up sweep")
    assert restarted.get("/api/contents/big.bin").json()["content"] == "old"


def test_websockets_past_the_thread_cap_get_an_immediate_503(start_server) -> None:
    server = start_server(*ARGS, "--threads", "4")  # 4 threads: 3 websockets, 1 kept for HTTP
    kid = server.start_kernel("python3")
    path = f"/api/kernels/{kid}/channels"
    open_sockets = [server.ws(path) for _ in range(3)]
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            server.ws(path, timeout=10)
        assert refused.value.status_code == 503
        body = refused.value.resp_body.decode()
        assert "too many open connections (3)" in body and "--threads" in body
        assert server.get("/api/status", timeout=10).status_code == 200  # HTTP still has its thread
        open_sockets.pop().close()
        wait_for(lambda: _try_ws(server, path, open_sockets), timeout=60, what="a free websocket slot")
    finally:
        for ws in open_sockets:
            ws.close()
        server.delete(f"/api/kernels/{kid}")


def _try_ws(server, path: str, keep: list) -> bool:
    try:
        keep.append(server.ws(path, timeout=10))
        return True
    except websocket.WebSocketBadStatusException:
        return False
