"""Hostile or unlucky rooms: a poisoning editor, kill -9 before a save, huge files, links leaving the project."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import psutil
import pytest
import requests
from pycrdt import Array, Doc, Map, Text, create_update_message

from tests.collab.conftest import (ARGS, client, default_dir, disk_notebook, notebook, put_notebook, room_status,
                                   room_url, settled, sources)
from tests.conftest import Server, free_port, wait_for


def poison(mode: str):
    """An edit a hostile editor can send that old servers stored and could not save (attack c5_poison.py)."""
    def go(doc) -> None:
        if mode == "cells":
            doc.get("cells", type=Array).append("i am not a cell")
        elif mode == "meta":
            doc.get("meta", type=Map)["nbformat"] = "x"
        elif mode == "state":
            doc.get("state", type=Map)["save_error"] = "fake: the server is broken"
        elif mode == "source":
            doc.get("cells", type=Array)[0]["source"] = 42
        else:
            doc.get("cells", type=Array).append(Map({"id": "c0", "cell_type": "bogus", "source": Text("x")}))
    return go


@pytest.mark.parametrize("mode", ["cells", "meta", "dupid", "state", "source", "garbage"])
def test_a_malformed_update_is_refused_on_arrival(collab_server, clients, mode: str) -> None:
    name = f"poison-{mode}.ipynb"
    put_notebook(collab_server, name, notebook("1+1"))
    bad = client(collab_server, name, "bad")
    good = client(collab_server, name, "good")
    clients.extend([bad, good])
    settled(collab_server, name)
    if mode == "garbage":  # bytes pycrdt cannot apply
        bad.ws.send_binary(create_update_message(b"\x05\xff\xff\xffnot an update"))
    else:
        bad.edit(poison(mode))
    wait_for(lambda: bad.closed_code == 4400, 60, "the sender closed with 4400")
    assert "edit refused" in bad.closed_reason
    good.insert(0, 0, "# GOOD-EDIT\n")
    wait_for(lambda: "# GOOD-EDIT" in disk_notebook(collab_server, name)["cells"][0]["source"], 60, "good edit saved")
    # not broadcast: the other client never saw it; not stored: the store grew by the good edit only
    assert [c["id"] for c in good.notebook()] == ["c0"] and isinstance(good.cells[0]["source"], Text)
    assert good.doc.get("meta", type=Map).get("nbformat") != "x"
    assert "save_error" not in good.doc.get("state", type=Map).to_py() or \
        good.doc.get("state", type=Map).get("save_error") == ""
    stored = stored_doc(collab_server.data_dir, name)  # what a restarted server would load
    assert [c.get("id") if isinstance(c, Map) else c for c in stored.get("cells", type=Array)] == ["c0"]
    assert stored.get("meta", type=Map).get("nbformat") != "x"
    assert not str(stored.get("state", type=Map).get("save_error") or "").startswith("fake")
    assert isinstance(stored.get("cells", type=Array)[0]["source"], Text)
    on_disk = json.loads((default_dir(collab_server) / name).read_text())
    assert [c["id"] for c in on_disk["cells"]] == ["c0"] and on_disk["nbformat"] == 4
    assert room_status(collab_server, name)["save_error"] == ""
    # the room is whole: a new client sees what good sees
    late = client(collab_server, name, "late")
    clients.append(late)
    assert sources(late.notebook()) == sources(good.notebook())


def test_an_embed_in_a_text_file_is_refused(collab_server, clients) -> None:
    r = collab_server.put("/api/contents/embed.txt", json={"type": "file", "format": "text", "content": "t\n"})
    assert r.status_code in (200, 201), r.text
    bad = client(collab_server, "embed.txt", "bad")
    clients.append(bad)
    bad.edit(lambda _doc: bad.source.insert_embed(0, Map({"x": 1})))
    wait_for(lambda: bad.closed_code == 4400, 60, "the sender closed with 4400")
    late = client(collab_server, "embed.txt", "late")
    clients.append(late)
    assert late.text() == "t\n"


def test_a_poisoned_history_saves_after_a_restart(tmp_path: Path, clients) -> None:
    """A store written by an older server that accepted malformed updates still opens and saves."""
    data_dir, port, token = tmp_path / "data", free_port(), "t" * 32
    first = Server(*ARGS, data_dir=data_dir, port=port, token=token)
    try:
        put_notebook(first, "p.ipynb", notebook("1+1"))
        c = client(first, "p.ipynb", "c")
        clients.append(c)
        settled(first, "p.ipynb")
        c.disconnect()
    finally:
        first.stop()
    append_poison(data_dir, "p.ipynb")
    second = Server(*ARGS, data_dir=data_dir, port=port, token=token)
    try:
        good = client(second, "p.ipynb", "good")
        clients.append(good)
        good.insert(0, 0, "# AFTER-RESTART\n")
        wait_for(lambda: "# AFTER-RESTART" in disk_notebook(second, "p.ipynb")["cells"][0]["source"], 60, "saved")
    finally:
        for c in clients:
            c.disconnect()
        second.stop()


def stored_doc(data_dir: Path, path: str) -> Doc:
    """A notebook doc made of a room's stored updates (read from the server's SQLite file)."""
    db = sqlite3.connect(data_dir / "salvus.db", timeout=30)
    try:
        doc = Doc()
        doc.get("state", type=Map), doc.get("meta", type=Map), doc.get("cells", type=Array)
        for (data,) in db.execute("select data from collab_updates where path = ? order by id", (path,)):
            doc.apply_update(data)
        return doc
    finally:
        db.close()


def append_poison(data_dir: Path, path: str) -> None:
    """Append malformed updates to a room's stored history, as an older server would have stored them."""
    doc = stored_doc(data_dir, path)
    db = sqlite3.connect(data_dir / "salvus.db", timeout=30)
    try:
        state = doc.get_state()
        with doc.transaction():
            poison("cells")(doc)
            poison("meta")(doc)
        with db:
            db.execute("insert into collab_updates (project_id, path, data, created) values ('default', ?, ?, 0)",
                       (path, doc.get_update(state)))
    finally:
        db.close()


def stored_updates(data_dir: Path, path: str) -> int:
    """How many updates of a room the store holds (read from the server's SQLite file)."""
    db = sqlite3.connect(data_dir / "salvus.db", timeout=30)
    try:
        return db.execute("select count(*) from collab_updates where path = ?", (path,)).fetchone()[0]
    finally:
        db.close()


def kill_9(server: Server) -> None:
    """kill -9 the server and every process it started (as a crash or the OOM killer would)."""
    family = psutil.Process(server.proc.pid).children(recursive=True)
    for proc in [psutil.Process(server.proc.pid), *family]:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    server.proc.wait(timeout=60)
    psutil.wait_procs(family, timeout=30)
    server.stop()


def test_an_edit_unsaved_at_kill_9_is_saved_after_restart(tmp_path: Path, clients) -> None:
    data_dir, port, token = tmp_path / "data", free_port(), "t" * 32
    server = Server(*ARGS, data_dir=data_dir, port=port, token=token)
    file = default_dir(server) / "k.ipynb"
    try:
        put_notebook(server, "k.ipynb", notebook("base"))
        for attempt in range(5):  # the save is debounced 1 s: kill before it (an attempt it beat is retried)
            c = client(server, "k.ipynb", "c")
            clients.append(c)
            before = stored_updates(data_dir, "k.ipynb")
            c.insert(0, 0, f"E{attempt} ")
            wait_for(lambda: stored_updates(data_dir, "k.ipynb") > before, 60, "edit stored")
            kill_9(server)
            c.disconnect()
            unsaved = f"E{attempt} " not in file.read_text()
            server = Server(*ARGS, data_dir=data_dir, port=port, token=token)
            if unsaved:
                break
        assert unsaved, "every attempt was saved before the kill"
        # The restarted room holds the edit from its store: opening it saves it to the file.
        watcher = client(server, "k.ipynb", "w")
        clients.append(watcher)
        wait_for(lambda: sources(disk_notebook(server, "k.ipynb")["cells"])[0].startswith(f"E{attempt} "),
                 60, "the edit made before the kill saved")
        assert sources(watcher.notebook())[0].startswith(f"E{attempt} ")
    finally:
        for c in clients:
            c.disconnect()
        server.stop()


def upgrade(server: Server, path: str) -> requests.Response:
    """A websocket upgrade request of a room, as plain HTTP (the refusal comes before the handshake)."""
    url = room_url(server, path).replace("ws", "http", 1)
    return requests.get(url, headers={"Authorization": f"token {server.token}", "Upgrade": "websocket",
                                      "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                                      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, timeout=30)


def test_a_file_above_the_limit_is_refused_before_the_upgrade(start_server) -> None:
    server = start_server(*ARGS, "--collaboration-max-mb", "1")
    put_notebook(server, "first.ipynb", notebook("1"))
    folder = default_dir(server)
    (folder / "big.txt").write_text("x" * (2 * 2**20))
    (folder / "small.txt").write_text("y" * 1000)
    r = upgrade(server, "big.txt")
    assert r.status_code == 413, r.text
    assert "1 MB" in r.json()["message"] and "collaboration_max_mb" in r.json()["message"]
    assert room_status(server, "big.txt") == {"open": False}
    # a notebook may be 4 times bigger (outputs); a small file opens
    put_notebook(server, "nb.ipynb", notebook("z" * (2 * 2**20)))
    c = client(server, "nb.ipynb", "nb")
    try:
        assert sources(c.notebook())[0].startswith("zzz")
    finally:
        c.disconnect()
    c = client(server, "small.txt", "s")
    try:
        assert c.text() == "y" * 1000
    finally:
        c.disconnect()


def test_a_link_leaving_the_project_is_refused_before_the_upgrade(tmp_path: Path, start_server) -> None:
    server = start_server(*ARGS)
    put_notebook(server, "first.ipynb", notebook("1"))
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    os.symlink(outside, default_dir(server) / "ln.txt")
    r = upgrade(server, "ln.txt")
    assert r.status_code == 404, r.text
    assert "not inside this project" in r.json()["message"]
    assert outside.read_text() == "secret"
    assert room_status(server, "ln.txt") == {"open": False}
