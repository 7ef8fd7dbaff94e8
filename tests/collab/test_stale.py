"""Clients whose history the room did not make: after a restart with the update store deleted, after
an eviction.  No duplicated cells, and their edits are kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.collab.conftest import ARGS, client, disk_notebook, notebook, put_notebook, room_status, sources
from tests.conftest import Server, free_port, wait_for


def delete_update_store(data_dir: Path) -> None:
    """Delete every room's stored history, as if the update store were lost."""
    db = sqlite3.connect(data_dir / "salvus.db", timeout=30)
    with db:
        db.execute("delete from collab_updates")
        db.execute("delete from collab_rooms")
    db.close()


def converged(clients: list, server: Server, path: str, want: list[str]) -> bool:
    """Every client and the file hold exactly these cell sources."""
    return all(sources(c.notebook()) == want for c in clients) and \
        sources(disk_notebook(server, path)["cells"]) == want


def test_restart_with_the_update_store_deleted_duplicates_nothing(tmp_path: Path, clients) -> None:
    data_dir, port, token = tmp_path / "data", free_port(), "t" * 32
    first = Server(*ARGS, data_dir=data_dir, port=port, token=token)
    try:
        put_notebook(first, "restart.ipynb", notebook("a = 1", "b = 2", "c = 3"))
        a = client(first, "restart.ipynb", "a")
        b = client(first, "restart.ipynb", "b")
        clients.extend([a, b])
        a.insert(0, 5, "0")
        wait_for(lambda: sources(disk_notebook(first, "restart.ipynb")["cells"])[0] == "a = 10", 60, "saved")
    finally:
        first.stop()
    # While the server is down the tabs stay open: a types on (offline), b does nothing.
    a.insert(1, 5, "0")
    a.add_cell(3, "added-offline", "d = 4")
    delete_update_store(data_dir)
    second = Server(*ARGS, data_dir=data_dir, port=port, token=token)
    try:
        a.connect()
        b.connect()
        want = ["a = 10", "b = 20", "c = 3", "d = 4"]
        wait_for(lambda: converged([a, b], second, "restart.ipynb", want), 60, "no duplicates, a's edits kept")
        assert a.resets == 1 and b.resets == 1  # both were told to start from a fresh document
        ids = [c["id"] for c in disk_notebook(second, "restart.ipynb")["cells"]]
        assert ids == ["c0", "c1", "c2", "added-offline"]
        # a third tab opening now sees the same cells
        c = client(second, "restart.ipynb", "c")
        clients.append(c)
        assert sources(c.notebook()) == want
    finally:
        for x in clients:
            x.disconnect()
        second.stop()


def test_an_evicted_room_and_stale_clients_duplicate_nothing(start_server, clients) -> None:
    srv = start_server(*ARGS, "--collaboration-idle", "1")
    put_notebook(srv, "evict.ipynb", notebook("x = 1", "y = 2"))
    a = client(srv, "evict.ipynb", "a")
    b = client(srv, "evict.ipynb", "b")
    clients.extend([a, b])
    a.insert(0, 5, "0")
    wait_for(lambda: sources(b.notebook()) == ["x = 10", "y = 2"], 60, "b in step")
    a.disconnect()
    b.disconnect()
    wait_for(lambda: not room_status(srv, "evict.ipynb")["open"], 60, "eviction")
    # Evicted, history stored: b's offline edit merges as an ordinary reconnect.
    b.insert(1, 5, "0")
    b.connect()
    wait_for(lambda: sources(disk_notebook(srv, "evict.ipynb")["cells"]) == ["x = 10", "y = 20"], 60, "b merged")
    assert b.resets == 0
    b.disconnect()
    wait_for(lambda: not room_status(srv, "evict.ipynb")["open"], 60, "second eviction")
    # Evicted AND the history lost AND the file changed on disk meanwhile: a's divergent history.
    delete_update_store(srv.data_dir)
    path = srv.data_dir / "projects" / "default" / "evict.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"].insert(0, {"id": "disk-cell", "cell_type": "markdown", "metadata": {}, "source": "# title"})
    path.write_text(json.dumps(nb))
    a.add_cell(2, "a-offline", "z = 3")   # a still has x = 10, y = 2 (it left before b's edit)
    a.connect()
    want = ["# title", "x = 10", "y = 20", "z = 3"]
    wait_for(lambda: converged([a], srv, "evict.ipynb", want), 60, "merged without duplicates")
    assert a.resets == 1
    b.connect()
    wait_for(lambda: converged([a, b], srv, "evict.ipynb", want), 60, "b too")
    ids = [c["id"] for c in disk_notebook(srv, "evict.ipynb")["cells"]]
    assert len(ids) == len(set(ids)) == 4
