"""Access that ends while a websocket is open (multi-user): sockets closed, kernels and terminals stopped, writes dropped.

A real multi-user server, real websockets: a collaborator removed or downgraded, a password changed with
the CLI or the API.  See salvus_local/server/accounts/revocation.py.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import websocket
from pycrdt import Doc, Map, Text

from salvus_local.collab import wire
from tests.conftest import wait_for

from .conftest import PASSWORD, Person, make_user
from .test_cli import cli

CLOSE_WAIT = 60.0  # the CLI's change is seen by the periodic sweep (every second)


def wait_closed(ws: websocket.WebSocket, timeout: float = CLOSE_WAIT) -> int:
    """Read until the server closes the socket; return the close code (AssertionError when it stays open)."""
    deadline = time.monotonic() + timeout
    ws.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            op, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return 1006
        if op == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
    raise AssertionError("the server kept the socket open")


def execute(ws: websocket.WebSocket, code: str) -> str:
    """Send an execute_request; return its msg_id (errors of a closed socket ignored)."""
    msg_id = uuid.uuid4().hex
    msg = {"header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": uuid.uuid4().hex,
                      "version": "5.3", "date": ""}, "parent_header": {}, "metadata": {}, "channel": "shell",
           "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                       "allow_stdin": False}, "buffers": []}
    try:
        ws.send(json.dumps(msg))
    except (websocket.WebSocketException, OSError):
        pass
    return msg_id


def stream_of(ws: websocket.WebSocket, msg_id: str, timeout: float = 60.0) -> str:
    """The stream text the kernel printed for msg_id."""
    ws.settimeout(timeout)
    while True:
        m = json.loads(ws.recv())
        if m.get("parent_header", {}).get("msg_id") == msg_id and m["msg_type"] == "stream":
            return m["content"]["text"]


@pytest.fixture
def team(multi) -> dict[str, Any]:
    """alice (owner) and bob, her editor."""
    alice, bob = make_user(multi, prefix="alice"), make_user(multi, prefix="bob")
    home = alice.home()
    assert alice.put(f"/api/projects/{home}/collaborators/{bob.name}", json={"role": "editor"}).status_code == 200
    return {"alice": alice, "bob": bob, "home": home}


def test_removed_collaborators_kernel_socket_closes_and_kernel_stops(multi, team) -> None:
    alice, bob, home = team["alice"], team["bob"], team["home"]
    own = alice.post(f"/p/{home}/api/kernels", json={"name": "python3"}).json()["id"]  # alice's: stays
    kid = bob.post(f"/p/{home}/api/kernels", json={"name": "python3"}).json()["id"]
    ws = bob.ws(f"/p/{home}/api/kernels/{kid}/channels")
    assert "ok" in stream_of(ws, execute(ws, "print('ok')"))
    assert alice.delete(f"/api/projects/{home}/collaborators/{bob.name}").status_code == 204
    marker = multi.data_dir / "projects" / home / "after_removal.txt"
    execute(ws, f"open({str(marker)!r}, 'w').write('bob')")
    assert wait_closed(ws) in (1008, 1006)
    kernels = [k["id"] for k in alice.get(f"/p/{home}/api/kernels").json()]
    assert kid not in kernels and own in kernels  # only the kernel bob started was stopped
    assert not marker.exists()
    assert bob.ws_refused(f"/p/{home}/api/kernels/{own}/channels") == 404


def test_removed_collaborators_terminal_socket_closes(multi, team) -> None:
    alice, bob, home = team["alice"], team["bob"], team["home"]
    name = bob.post(f"/p/{home}/api/terminals", json={}).json()["name"]
    ws = bob.ws(f"/p/{home}/terminals/websocket/{name}")
    assert alice.delete(f"/api/projects/{home}/collaborators/{bob.name}").status_code == 204
    marker = multi.data_dir / "projects" / home / "term_after_removal.txt"
    try:
        ws.send(json.dumps(["stdin", f"echo bob > {marker}\r"]))
    except (websocket.WebSocketException, OSError):
        pass
    assert wait_closed(ws) in (1008, 1006)
    assert name not in [t["name"] for t in alice.get(f"/p/{home}/api/terminals").json()]
    assert not marker.exists()


class RawRoom:
    """A y-websocket client that sends whatever it is told, without reading the server's close first."""

    def __init__(self, person: Person, home: str, path: str) -> None:
        self.doc = Doc()
        self.doc.get("state", type=Map)
        self.source = self.doc.get("source", type=Text)
        self.ws = person.ws(f"/p/{home}/api/collab/rooms/{path}")
        self.ws.send_binary(wire.sync_frame(wire.SYNC_STEP1, self.doc.get_state()))
        self.ws.settimeout(30)
        while True:  # until the server's step 2 (the room's content)
            m = wire.decode(self.ws.recv())
            if m.kind == wire.MSG_SYNC and m.sync in (wire.SYNC_STEP2, wire.SYNC_UPDATE):
                self.doc.apply_update(m.data)
                if str(self.source):
                    return

    def insert(self, text: str) -> None:
        """Insert text at the start and send the update (a closed socket's error ignored)."""
        before = self.doc.get_state()
        self.source.insert(0, text)
        try:
            self.ws.send_binary(wire.sync_frame(wire.SYNC_UPDATE, self.doc.get_update(before)))
        except (websocket.WebSocketException, OSError):
            pass


def _room_write_after(multi, team, change: Any) -> str:
    """bob joins a room as editor; change() lowers his role; his next update must never reach the file."""
    alice, bob, home = team["alice"], team["bob"], team["home"]
    path = f"shared-{uuid.uuid4().hex[:6]}.txt"
    assert alice.put(f"/p/{home}/api/contents/{path}", json={"type": "file", "format": "text",
                                                             "content": "hello\n"}).status_code in (200, 201)
    room = RawRoom(bob, home, path)
    owner = RawRoom(alice, home, path)
    change()
    room.insert("BOB-AFTER-CHANGE\n")
    owner.insert("ALICE-LATER\n")  # sent after bob's: once it is on disk, bob's would be too
    disk = wait_for(lambda: (c := alice.get(f"/p/{home}/api/contents/{path}").json()["content"]) and
                    "ALICE-LATER" in c and c, what="alice's edit saved")
    assert "BOB-AFTER-CHANGE" not in disk
    assert wait_closed(room.ws) in (1008, 1006)
    return path


def test_removed_editors_room_update_never_lands(multi, team) -> None:
    _room_write_after(multi, team, lambda: team["alice"].delete(
        f"/api/projects/{team['home']}/collaborators/{team['bob'].name}").raise_for_status())


def test_downgraded_editors_room_update_is_dropped(multi, team) -> None:
    alice, bob, home = team["alice"], team["bob"], team["home"]
    path = _room_write_after(multi, team, lambda: alice.put(f"/api/projects/{home}/collaborators/{bob.name}",
                                                            json={"role": "viewer"}).raise_for_status())
    RawRoom(bob, home, path).ws.close()  # the client reconnects as a viewer


def test_password_change_by_cli_closes_the_old_sessions_sockets(multi) -> None:
    dave = make_user(multi, prefix="dave")
    kid = dave.post("/api/kernels", json={"name": "python3"}).json()["id"]
    ws = dave.ws(f"/api/kernels/{kid}/channels")
    r = cli(multi.data_dir, "user", "passwd", dave.name, "--password-stdin", stdin="new horse 4242 x\n")
    assert r.returncode == 0, r.stderr
    assert dave.get("/api/projects").status_code == 403
    assert wait_closed(ws) in (1008, 1006)
    dave.password = "new horse 4242 x"
    assert dave.login().status_code == 302
    assert kid in [k["id"] for k in dave.get("/api/kernels").json()]  # still his project: the kernel runs on


def test_password_change_by_api_closes_other_sessions_sockets(multi) -> None:
    erin = make_user(multi, prefix="erin")
    thief = Person(multi, erin.name)
    assert thief.login().status_code == 302
    kid = erin.post("/api/kernels", json={"name": "python3"}).json()["id"]
    stolen, mine = thief.ws(f"/api/kernels/{kid}/channels"), erin.ws(f"/api/kernels/{kid}/channels")
    r = erin.post("/api/me/password", json={"old_password": PASSWORD, "new_password": "another horse 99"})
    assert r.status_code in (200, 204), r.text
    assert wait_closed(stolen) in (1008, 1006)
    assert "still here" in stream_of(mine, execute(mine, "print('still here')"))


def test_removed_user_with_an_api_token_loses_sockets_and_kernels(multi, team) -> None:
    alice, bob, home = team["alice"], team["bob"], team["home"]
    token = bob.post("/api/tokens", json={"scope": "api"}).json()["token"]
    kid = bob.post(f"/p/{home}/api/kernels", json={"name": "python3"}).json()["id"]
    url = multi.base_url.replace("http", "ws", 1) + f"/p/{home}/api/kernels/{kid}/channels"
    by_token = websocket.create_connection(url, header=[f"Authorization: token {token}"], timeout=30)
    by_cookie = bob.ws(f"/p/{home}/api/kernels/{kid}/channels")
    assert multi.delete(f"/api/users/{bob.name}").status_code == 204
    assert wait_closed(by_token) in (1008, 1006) and wait_closed(by_cookie) in (1008, 1006)
    assert kid not in [k["id"] for k in alice.get(f"/p/{home}/api/kernels").json()]
