"""The anonymous-embedding policy over HTTP and websockets against real servers: off by default, origins, keys, limits."""

from __future__ import annotations

import json
import os

import pytest
import websocket

from tests.conftest import Server

ORIGIN = "http://127.0.0.1:9"  # a page elsewhere that the server lists in embed_origins
PYTHON_ONLY = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python"}


def test_embedding_is_off_by_default(server: Server) -> None:
    r = server.get("/embed.js", auth=False)
    assert r.status_code == 404 and "--embed-origins" in r.json()["message"]
    r = server.post("/embed/kernels", json={}, auth=False, headers={"Origin": ORIGIN})
    assert r.status_code == 403
    r = server.post("/api/v1/execute", json={"code": "1"}, auth=False, headers={"Origin": ORIGIN})
    assert r.status_code == 403


@pytest.fixture(scope="module")
def embedding() -> Server:
    srv = Server("--embed-origins", ORIGIN, "--embed-rate-limit", "4", "--embed-timeout", "2", env=PYTHON_ONLY)
    yield srv
    srv.stop()


def test_embed_script_and_cors_for_allowed_origins(embedding: Server) -> None:
    r = embedding.get("/embed.js", auth=False)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    pre = embedding.request("OPTIONS", "/embed/kernels", auth=False, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = embedding.request("OPTIONS", "/embed/kernels", auth=False, headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert embedding.post("/embed/kernels", json={}, auth=False,
                          headers={"Origin": "http://127.0.0.1:9.evil.com"}).status_code == 403


def test_anonymous_session_key_rate_limit_and_websocket(embedding: Server) -> None:
    headers = {"Origin": ORIGIN}
    r = embedding.post("/embed/kernels", json={"kernel": "python"}, auth=False, headers=headers)
    assert r.status_code == 201, r.text
    session = r.json()
    assert session["expires_in"] > 0 and session["key"]
    ws_base = embedding.base_url.replace("http", "ws", 1) + f"/embed/kernels/{session['id']}/channels"
    for bad in ("", "?key=wrong"):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(ws_base + bad, origin=ORIGIN, timeout=30)
        assert refused.value.status_code == 403 and b"key is wrong" in refused.value.resp_body
    # A normal (token) kernel cannot be reached through the anonymous path.
    normal = embedding.start_kernel("python3")
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(embedding.base_url.replace("http", "ws", 1) + f"/embed/kernels/{normal}/channels"
                                    f"?key={session['key']}", origin=ORIGIN, timeout=30)
    ws = websocket.create_connection(f"{ws_base}?key={session['key']}", origin=ORIGIN, timeout=60)
    from tests.conftest import KernelClient

    client = KernelClient(ws)
    assert client.execute("print(6*7)").text == "42\n"
    folder = client.execute("import os; print(os.getcwd())").text.strip()
    assert folder.startswith(str(embedding.data_dir / "embed") + "/")  # a private folder per visitor
    spin = client.execute("while True: pass", timeout=120)  # embed_timeout (2 s) is its CPU limit
    assert "CPU" in json.dumps(spin.reply) + json.dumps([m["content"] for m in spin.iopub]), spin
    ws.close()
    assert embedding.request("DELETE", f"/embed/kernels/{session['id']}?key=nope", auth=False,
                             headers=headers).status_code == 404
    assert embedding.request("DELETE", f"/embed/kernels/{session['id']}?key={session['key']}", auth=False,
                             headers=headers).status_code == 204
    assert session["id"] not in [k["id"] for k in embedding.get("/api/kernels").json()]
    assert not os.path.exists(folder)
    embedding.delete(f"/api/kernels/{normal}")


def test_anonymous_execute_is_limited_and_rate_limited(embedding: Server) -> None:
    headers = {"Origin": ORIGIN}
    r = embedding.post("/api/v1/execute", json={"code": "2+2"}, auth=False, headers=headers)
    assert r.status_code == 200 and r.json()["result"]["text/plain"] == "4"
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = embedding.post("/api/v1/execute", json={"code": "while True: pass", "timeout": 60}, auth=False, headers=headers)
    assert r.json()["error"]["ename"] == "TimeoutError" and "2 s" in r.json()["error"]["evalue"]  # capped
    r = embedding.post("/api/v1/execute", json={"code": "1", "session": "x"}, auth=False, headers=headers)
    assert r.status_code in (403, 429) and ("'session'" in r.json()["message"] or "Too many" in r.json()["message"])
    statuses = [embedding.post("/api/v1/execute", json={"code": "1"}, auth=False, headers=headers).status_code
                for _ in range(6)]
    assert 429 in statuses
    limited = embedding.post("/api/v1/execute", json={"code": "1"}, auth=False, headers=headers)
    assert limited.status_code == 429 and "try again" in limited.json()["message"]
    # The token still works, unlimited.
    assert embedding.post("/api/v1/execute", json={"code": "1"}).status_code == 200

