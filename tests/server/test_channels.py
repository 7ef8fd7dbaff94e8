"""The kernel websocket as a Jupyter client drives it: execute, routing, bad messages, interrupt, restart, death."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import websocket

from salvus_local.server.kernels import wire


def wait_until(condition, timeout: float = 60.0) -> None:
    """Poll a condition until it holds (fails the test at the deadline)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.fixture
def kernel(server):
    """A fresh python3 kernel, shut down afterwards."""
    kernel_id = server.start_kernel("python3")
    yield kernel_id
    server.delete(f"/api/kernels/{kernel_id}")


@pytest.fixture
def kc(server, kernel):
    """A websocket client of the kernel."""
    client = server.kernel_client(kernel)
    yield client
    client.close()


def test_execute_result(kc):
    out = kc.execute("2+2")
    assert out.reply["msg_type"] == "execute_reply" and out.reply["content"]["status"] == "ok"
    assert out.result == "4"
    assert [m["msg_type"] for m in out.iopub][0] == "status"
    assert out.iopub[-1]["content"]["execution_state"] == "idle"


def test_message_shape(kc):
    out = kc.execute("1")
    msg = out.reply
    assert msg["channel"] == "shell"
    assert msg["msg_id"] == msg["header"]["msg_id"] and msg["msg_type"] == msg["header"]["msg_type"]
    assert {"header", "parent_header", "metadata", "content", "buffers"} <= set(msg)


def test_streaming_order(kc):
    out = kc.execute("import sys\nfor i in range(50):\n    print(i, flush=True)\nprint('err', file=sys.stderr)")
    assert out.text.replace("err\n", "") == "".join(f"{i}\n" for i in range(50))
    assert "err\n" in out.text


def test_error_output(kc):
    out = kc.execute("1/0")
    assert out.reply["content"]["status"] == "error"
    assert any(m["msg_type"] == "error" and m["content"]["ename"] == "ZeroDivisionError" for m in out.outputs)


BAD_FRAMES = [
    ("not json {", None),
    ("[1, 2, 3]", None),
    (json.dumps({"channel": "shell"}), None),
    (json.dumps({"channel": "bogus", "header": {"msg_id": "a", "msg_type": "execute_request"}}), "execute_reply"),
    (json.dumps({"channel": "iopub", "header": {"msg_id": "b", "msg_type": "execute_request"}}), "execute_reply"),
    (json.dumps({"channel": "shell", "header": {"msg_id": "c", "msg_type": "shutdown_request"}}), "shutdown_reply"),
    (json.dumps({"channel": "shell", "header": {"msg_id": "d", "msg_type": "execute_request"},
                 "content": "code"}), "execute_reply"),
    (json.dumps({"channel": "shell", "header": {"msg_type": "execute_request"}, "content": {}}), "execute_reply"),
    (b"\x00\x00\x00\x05garbage", None),
]


@pytest.mark.parametrize("frame,reply_type", BAD_FRAMES)
def test_malformed_message_gets_error_and_kernel_survives(kc, frame, reply_type):
    if isinstance(frame, bytes):
        kc.ws.send_binary(frame)
    else:
        kc.ws.send(frame)
    msg = kc.recv(30)
    if reply_type:
        assert msg["msg_type"] == reply_type and msg["content"]["status"] == "error"
        assert msg["content"]["evalue"]
    else:
        assert msg["msg_type"] == "stream" and msg["content"]["name"] == "stderr"
        assert "message refused" in msg["content"]["text"]
    assert kc.execute("2+2").result == "4"


def test_iopub_to_all_replies_to_sender(server, kernel):
    a, b = server.kernel_client(kernel), server.kernel_client(kernel)
    try:
        # the handshake completes just before the server attaches the socket to the kernel
        wait_until(lambda: server.get(f"/api/kernels/{kernel}").json()["connections"] == 2)
        out = a.execute("print('hello')")
        assert out.text == "hello\n"
        parent = out.reply["parent_header"]["msg_id"]
        # b sees the same iopub messages, but never a's reply
        _, seen = b.wait_for(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                             and m["parent_header"].get("msg_id") == parent)
        assert any(m["msg_type"] == "stream" and m["content"]["text"] == "hello\n" for m in seen)
        assert not any(m["channel"] == "shell" for m in seen)
        # and b's own request is answered to b only
        assert b.execute("3*3").result == "9"
        a.ws.settimeout(0.5)
        extra = []
        try:
            while True:
                extra.append(json.loads(a.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        assert not any(m["channel"] == "shell" for m in extra)
    finally:
        a.close()
        b.close()


def test_stdin_goes_to_the_requesting_websocket(server, kernel, kc):
    other = server.kernel_client(kernel)
    try:
        wait_until(lambda: server.get(f"/api/kernels/{kernel}").json()["connections"] == 2)
        msg_id = kc.send("shell", "execute_request", {"code": "name = input('name? ')\nprint('hi', name)",
                                                      "allow_stdin": True})
        prompt, _ = kc.wait_for(lambda m: m["msg_type"] == "input_request")
        assert prompt["channel"] == "stdin" and prompt["content"]["prompt"] == "name? "
        reply = kc.message("stdin", "input_reply", {"value": "Ada"})
        reply["parent_header"] = prompt["header"]
        kc.ws.send(json.dumps(reply))
        done, seen = kc.wait_for(lambda m: m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id)
        assert done["content"]["status"] == "ok"
        assert any(m["msg_type"] == "stream" and "hi Ada" in m["content"]["text"] for m in seen)
        _, other_seen = other.wait_for(lambda m: m["msg_type"] == "stream" and "hi Ada" in m["content"]["text"])
        assert not any(m["channel"] == "stdin" for m in other_seen)
    finally:
        other.close()


def test_interrupt_by_rest(server, kernel, kc):
    # stop_on_error=False: the next request must not be aborted as "queued behind a failed cell"
    msg_id = kc.send("shell", "execute_request", {"code": "while True: pass", "stop_on_error": False})
    kc.wait_for(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "busy"
                and m["parent_header"].get("msg_id") == msg_id)
    assert server.post(f"/api/kernels/{kernel}/interrupt").status_code == 204
    reply, _ = kc.wait_for(lambda m: m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id,
                           timeout=60)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    assert kc.execute("2+2").result == "4"


def test_interrupt_by_control_message(kc):
    msg_id = kc.send("shell", "execute_request", {"code": "import time\nwhile True: time.sleep(0.01)",
                                                  "stop_on_error": False})
    kc.wait_for(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "busy"
                and m["parent_header"].get("msg_id") == msg_id)
    ctl = kc.send("control", "interrupt_request")
    reply, _ = kc.wait_for(lambda m: m["msg_type"] == "interrupt_reply", timeout=60)
    assert reply["parent_header"]["msg_id"] == ctl and reply["content"]["status"] == "ok"
    done, _ = kc.wait_for(lambda m: m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id,
                          timeout=60)
    assert done["content"]["ename"] == "KeyboardInterrupt"


def test_restart_keeps_id_and_websocket(server, kernel, kc):
    assert kc.execute("x = 42").reply["content"]["status"] == "ok"
    r = server.post(f"/api/kernels/{kernel}/restart")
    assert r.status_code == 200 and r.json()["id"] == kernel
    states = []
    while "idle" not in states:
        msg = kc.recv(30)
        if msg["msg_type"] == "status":
            states.append(msg["content"]["execution_state"])
    assert states[:2] == ["restarting", "starting"]
    out = kc.execute("print('x' in dir())")
    assert out.text == "False\n"  # a fresh namespace behind the same websocket
    assert server.get(f"/api/kernels/{kernel}").json()["id"] == kernel


def test_restart_twice_and_restart_idle_kernel(server, kernel, kc):
    for n in range(3):
        assert server.post(f"/api/kernels/{kernel}/restart").status_code == 200
        assert kc.execute(f"{n} + 1").result == str(n + 1)
    assert server.get(f"/api/kernels/{kernel}").json()["execution_state"] == "idle"


@pytest.mark.parametrize("talk_first", [True, False])
def test_shutdown_closes_websockets(server, talk_first):
    # without talking first, the kernel may be gone before the server attached the new socket
    for _ in range(5):
        kernel_id = server.start_kernel()
        kc = server.kernel_client(kernel_id)
        if talk_first:
            kc.execute("1")
        assert server.delete(f"/api/kernels/{kernel_id}").status_code == 204
        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
            while True:  # a final status dead may come first, then a clean close frame
                kc.recv(30)
        assert server.get(f"/api/kernels/{kernel_id}").status_code == 404


def test_dead_kernel_reported_while_others_answer(server):
    doomed, other = server.start_kernel(), server.start_kernel()
    try:
        kc, kc2 = server.kernel_client(doomed), server.kernel_client(other)
        first = kc.send("shell", "execute_request", {"code": "import os; os._exit(1)"})
        dead, _ = kc.wait_for(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "dead")
        why, _ = kc.wait_for(lambda m: m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
        assert "status 1" in why["content"]["text"] or "code 1" in why["content"]["text"]
        assert server.get(f"/api/kernels/{doomed}").json()["execution_state"] == "dead"
        # a websocket that connects after the death hears about it at once
        late = server.kernel_client(doomed)
        late.wait_for(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "dead", timeout=60)
        late.close()
        assert kc2.execute("6*7").result == "42"
        # the request the kernel died on is answered too
        reply, _ = kc.wait_for(lambda m: m["channel"] == "shell" and m["parent_header"].get("msg_id") == first)
        assert reply["content"]["status"] == "error" and "died" in reply["content"]["evalue"]
        # a request to the dead kernel gets an answer saying so, and restart revives it
        later = kc.send("shell", "execute_request", {"code": "1"})
        reply, _ = kc.wait_for(lambda m: m["channel"] == "shell" and m["parent_header"].get("msg_id") == later)
        assert reply["content"]["status"] == "error" and "dead" in reply["content"]["evalue"]
        assert server.post(f"/api/kernels/{doomed}/restart").status_code == 200
        kc.backlog.clear()
        assert kc.execute("2+2").result == "4"
        kc.close()
        kc2.close()
    finally:
        server.delete(f"/api/kernels/{doomed}")
        server.delete(f"/api/kernels/{other}")


def test_binary_frames_round_trip():
    msg = {"channel": "shell", "header": {"msg_id": "m", "msg_type": "comm_msg"}, "parent_header": {},
           "metadata": {}, "content": {"data": {}}, "buffers": ["AAEC", "/w=="]}
    frame = wire.encode(msg)
    assert isinstance(frame, bytes)
    back = wire.decode(frame)
    assert back["buffers"] == ["AAEC", "/w=="] and back["header"] == msg["header"]
    assert isinstance(wire.encode({**msg, "buffers": []}), str)


def test_binary_comm_message_accepted(kc):
    msg = kc.message("shell", "comm_msg", {"comm_id": uuid.uuid4().hex, "data": {}})
    msg["buffers"] = ["AAEC"]
    kc.ws.send_binary(wire.encode(msg))
    assert kc.execute("2+2").result == "4"  # an unknown comm is ignored; the kernel is fine


def test_connections_count_drops_on_close(server, kernel):
    kc = server.kernel_client(kernel)
    wait_until(lambda: server.get(f"/api/kernels/{kernel}").json()["connections"] == 1)
    kc.close()
    wait_until(lambda: server.get(f"/api/kernels/{kernel}").json()["connections"] == 0)


def test_sage_kernel_through_the_server(server):
    if "sagemath" not in server.get("/api/kernelspecs").json()["kernelspecs"]:
        pytest.skip("Sage is not installed")
    kernel_id = server.start_kernel("sagemath")
    kc = server.kernel_client(kernel_id)
    try:
        out = kc.execute("f(x) = x^2; f(3), 2^10")
        assert out.result == "(9, 1024)"
    finally:
        kc.close()
        server.delete(f"/api/kernels/{kernel_id}")
