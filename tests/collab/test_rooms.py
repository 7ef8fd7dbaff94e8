"""Rooms over real websockets against a real server: sync, saving, viewers, outsiders."""

from __future__ import annotations

import threading

from pycrdt import Text

from tests.collab.conftest import client, disk_notebook, notebook, put_notebook, sources
from tests.conftest import wait_for


def test_two_clients_open_at_the_same_moment_see_the_files_cells(collab_server, clients) -> None:
    put_notebook(collab_server, "same.ipynb", notebook("a = 1", "b = 2", "c = 3"))
    made: list = []
    barrier = threading.Barrier(2)

    def open_one(name: str) -> None:
        barrier.wait()
        made.append(client(collab_server, "same.ipynb", name))

    threads = [threading.Thread(target=open_one, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    clients.extend(made)
    for c in made:
        assert sources(c.notebook()) == ["a = 1", "b = 2", "c = 3"]
        assert [cell["id"] for cell in c.notebook()] == ["c0", "c1", "c2"]


def test_an_edit_reaches_the_other_client_and_the_file(collab_server, clients) -> None:
    put_notebook(collab_server, "edit.ipynb", notebook("x = 1"))
    a = client(collab_server, "edit.ipynb", "a")
    b = client(collab_server, "edit.ipynb", "b")
    clients.extend([a, b])
    a.edit(lambda doc: a.cells[0]["source"].insert(5, "23"))
    wait_for(lambda: sources(b.notebook()) == ["x = 123"], 60, "the edit at b")
    wait_for(lambda: sources(disk_notebook(collab_server, "edit.ipynb")["cells"]) == ["x = 123"], 60, "the save")
    nb = disk_notebook(collab_server, "edit.ipynb")
    assert nb["cells"][0]["id"] == "c0"


def test_text_files_are_one_text(collab_server, clients) -> None:
    r = collab_server.put("/api/contents/notes.txt", json={"type": "file", "format": "text", "content": "héllo\n"})
    assert r.status_code in (200, 201)
    a = client(collab_server, "notes.txt", "a")
    clients.append(a)
    assert a.text() == "héllo\n"
    a.edit(lambda doc: a.source.insert(len("héllo".encode()), " wörld"))
    wait_for(lambda: collab_server.get("/api/contents/notes.txt").json()["content"] == "héllo wörld\n", 60, "save")


def test_status_says_on_and_who(collab_server) -> None:
    r = collab_server.get("/api/collab/status")
    assert r.status_code == 200
    body = r.json()
    assert body["enabled"] is True and body["user"]["name"] == "you"
    assert body["user"]["color"].startswith("#") and len(body["user"]["color"]) == 7


def test_bad_rooms_are_refused_before_the_upgrade(collab_server) -> None:
    from tests.accounts.conftest import ws_status
    from tests.collab.conftest import room_url
    from tests.collab.yclient import YClient

    assert collab_server.put("/api/contents/folder", json={"type": "directory"}).status_code in (200, 201)
    (collab_server.data_dir / "projects" / "default" / "blob.txt").write_bytes(b"\xff\xfe\x00binary")
    token = [f"Authorization: token {collab_server.token}"]
    for path, status in (("folder", 400), ("blob.txt", 400), ("no-such-folder/x.ipynb", 404)):
        assert ws_status(lambda: YClient(room_url(collab_server, path), token).connect()) == status, path
    r = collab_server.get("/api/collab/rooms/x.ipynb")  # not a websocket
    assert r.status_code == 400  # werkzeug: a websocket-only rule
    assert collab_server.get("/p/no-such-project/api/collab/status").status_code == 404


def test_awareness_is_relayed_and_cleared_when_a_socket_closes(collab_server, clients) -> None:
    put_notebook(collab_server, "aware.ipynb", notebook("1"))
    a = client(collab_server, "aware.ipynb", "a")
    b = client(collab_server, "aware.ipynb", "b")
    clients.extend([a, b])
    a_id = a.doc.client_id
    # b learns a's state (sent on join or relayed), with the account's name put in by the server
    state = wait_for(lambda: b.awareness.get(a_id), 60, "a's presence at b")
    assert state["user"]["name"] == "you" and state["user"]["color"].startswith("#")
    a.disconnect()
    wait_for(lambda: a_id not in b.awareness, 60, "a's presence gone at b")
