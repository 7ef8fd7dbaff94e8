"""Signed frames between the web server and the compute server: forgeries are dropped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import psutil
import pytest

from salvus_local.protocol import SignedConnection, Verb, dumps, write_frame

from .conftest import ROOT, Forker, wait_for


def _raw(forker: Forker) -> tuple[socket.socket, SignedConnection]:
    conn, _ = forker.connect()
    return conn.sock, conn


def _kernels(forker: Forker) -> dict:
    return forker.request(Verb.INFO)["content"]["kernels"]


@pytest.fixture
def fk(tmp_path):
    f = Forker("python", tmp_path)
    yield f
    f.stop()
    assert f.key.hex() not in f.stderr  # no secret in any log line, not even on failure


def test_unsigned_request_is_dropped(fk):
    sock, _ = _raw(fk)
    write_frame(sock, b"0" * 64 + dumps({"type": "start", "seq": 1, "content": {"kernel_id": "evil"}}))
    assert sock.recv(1) == b""  # closed without an answer
    assert "evil" not in _kernels(fk)


def test_tampered_request_is_dropped(fk):
    sock, conn = _raw(fk)
    body = dumps({"type": "info", "seq": 1, "content": {}})
    sig = conn._sign(b"c", body)
    write_frame(sock, sig + body.replace(b"info", b"kill"))
    assert sock.recv(1) == b""


def test_frame_replayed_on_another_connection_is_dropped(fk):
    sock_a, conn_a = _raw(fk)
    body = dumps({"type": "start", "seq": 1, "content": {"kernel_id": "replayed", "cwd": "/tmp"}})
    frame = conn_a._sign(b"c", body) + body
    sock_b, _ = _raw(fk)
    write_frame(sock_b, frame)  # signed for connection A's nonce
    assert sock_b.recv(1) == b""
    assert "replayed" not in _kernels(fk)


def test_frame_replayed_to_a_session_is_dropped_and_the_session_carries_on(fk):
    kc = fk.start()
    msg = kc.send("execute_request", {"code": "counter = globals().get('counter', 0) + 1"})
    kc.collect(msg)
    # Resend the very same signed bytes (same seq): the session must ignore them.
    body = dumps({"type": Verb.MSG, **msg, "seq": kc.conn.send_seq})
    write_frame(kc.conn.sock, kc.conn._sign(b"c", body) + body)
    assert kc.result("counter") == "1"
    kc.kill()


def test_reflected_frame_is_dropped(fk):
    sock, conn = _raw(fk)
    body = dumps({"type": "info", "seq": 1, "content": {}})
    write_frame(sock, conn._sign(b"s", body) + body)  # signed as if it came from the server side
    assert sock.recv(1) == b""


def test_unknown_verb_gets_an_error(fk):
    answer = fk.request("format_disk")
    assert answer["type"] == Verb.ERROR and "unknown request" in answer["content"]["message"]


def test_signed_connection_round_trip_over_a_socketpair():
    a, b = socket.socketpair()
    key = os.urandom(32)
    listener = SignedConnection.accept(a, key)
    client, hello = SignedConnection.connect(b, key)
    assert hello["type"] == Verb.HELLO
    client.send({"type": "ping", "n": 1})
    assert listener.recv()["n"] == 1
    listener.send({"type": "pong"})
    assert client.recv()["type"] == "pong"
    # A frame signed with another key is dropped (logged), the next good one still arrives.
    stranger = SignedConnection(b, os.urandom(32), listener=False)
    stranger.send_seq = client.send_seq
    stranger.send({"type": "forged"})
    client.send({"type": "genuine"})
    assert listener.recv()["type"] == "genuine" and listener.dropped == 1


def test_tcp_listener_needs_the_shared_secret(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret = "correct horse battery staple"
    f = Forker("python", tmp_path, tcp=f"127.0.0.1:{port}", secret=secret)
    try:
        good = socket.create_connection(("127.0.0.1", port))
        conn, hello = SignedConnection.connect(good, secret.encode())
        conn.send({"type": Verb.INFO, "content": {}})
        assert conn.recv()["type"] == Verb.INFO_REPLY
        bad = socket.create_connection(("127.0.0.1", port))
        conn, _ = SignedConnection.connect(bad, b"wrong secret of some length")
        conn.send({"type": Verb.INFO, "content": {}})
        assert bad.recv(1) == b""
    finally:
        f.stop()
    assert secret not in f.stderr


def test_sigterm_stops_every_session(tmp_path):
    f = Forker("python", tmp_path)
    kids = [f.start().pid for _ in range(3)]
    f.stop()
    for pid in kids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_compute_server_stops_when_its_parent_dies(tmp_path):
    # A middle process starts the compute server and is then killed with SIGKILL.
    script = (
        "import subprocess, sys, os\n"
        f"p = subprocess.Popen([sys.executable, '-m', 'salvus_local.kernel', '--kind', 'python', '--socket',"
        f" {str(tmp_path / 'k.sock')!r}], stdin=subprocess.PIPE)\n"
        "p.stdin.write(os.urandom(32).hex().encode() + b'\\n'); p.stdin.close()\n"
        "print(p.pid, flush=True)\nimport time\ntime.sleep(600)\n")
    middle = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT)
    forker_pid = int(middle.stdout.readline())
    wait_for(lambda: (tmp_path / "k.sock").exists(), 60, "the socket")
    middle.send_signal(signal.SIGKILL)
    middle.wait()
    wait_for(lambda: not psutil.pid_exists(forker_pid) or psutil.Process(forker_pid).status() == "zombie",
             60, "the orphaned compute server to stop")


def test_no_sqlite_or_web_code_in_a_session(fk):
    kc = fk.start()
    try:
        out = kc.result(
            "import os, sys\n"
            "fds = [os.readlink(f'/proc/self/fd/{n}') for n in os.listdir('/proc/self/fd')"
            " if os.path.exists(f'/proc/self/fd/{n}')]\n"
            "(sorted(m for m in ('flask', 'werkzeug', 'sqlite_utils', 'webview', 'PyQt6') if m in sys.modules),"
            " [f for f in fds if f.endswith(('.db', '.sqlite', '-wal'))])")
        assert out == "([], [])"
    finally:
        kc.kill()
