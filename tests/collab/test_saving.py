"""Saving and merging: nothing before sync, disk changes merged as diffs, offline edits merged."""

from __future__ import annotations

import json

import websocket
from pycrdt import Array, Doc, Map, create_update_message

from salvus_local.collab import schema, wire
from tests.collab.conftest import (client, default_dir, disk_notebook, notebook, put_notebook, room_status, room_url,
                                   settled, sources)
from tests.conftest import wait_for


def test_a_save_before_the_first_sync_writes_nothing(collab_server, clients) -> None:
    put_notebook(collab_server, "early.ipynb", notebook("a = 1", "b = 2"))
    path = default_dir(collab_server) / "early.ipynb"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    # A client that knows the file's structs (the load is deterministic) deletes every cell and sends
    # that as an update and as a step 2, before its own step 1: the room must drop both.
    doc = Doc()
    doc.get("state", type=Map), doc.get("meta", type=Map)
    cells = doc.get("cells", type=Array)
    doc.apply_update(schema.load_update("notebook", before)[0])
    state = doc.get_state()
    cells.clear()
    wipe = doc.get_update(state)
    ws = websocket.create_connection(room_url(collab_server, "early.ipynb"),
                                     header=[f"Authorization: token {collab_server.token}"])
    ws.send_binary(create_update_message(wipe))
    ws.send_binary(wire.sync_frame(wire.SYNC_STEP2, wipe))
    settled(collab_server, "early.ipynb")
    b = client(collab_server, "early.ipynb", "b")
    clients.append(b)
    ws.close()
    assert sources(b.notebook()) == ["a = 1", "b = 2"]
    settled(collab_server, "early.ipynb")
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert room_status(collab_server, "early.ipynb")["saves"] == 0


def test_a_file_changed_on_disk_is_merged_and_never_saved_empty(collab_server, clients) -> None:
    put_notebook(collab_server, "disk.ipynb", notebook("x = 1", "y = 2"))
    a = client(collab_server, "disk.ipynb", "a")
    clients.append(a)
    a.insert(0, 5, "0")
    wait_for(lambda: sources(disk_notebook(collab_server, "disk.ipynb")["cells"]) == ["x = 10", "y = 2"], 60, "save")
    path = default_dir(collab_server) / "disk.ipynb"
    on_disk = json.loads(path.read_text())
    on_disk["cells"][1]["source"] = "y = 20"
    on_disk["cells"].append({"id": "from-terminal", "cell_type": "markdown", "metadata": {}, "source": "# new"})
    path.write_text(json.dumps(on_disk, indent=1))  # as a terminal, git or sync would
    a.insert(0, 6, "0")  # meanwhile, in the room
    want = ["x = 100", "y = 20", "# new"]
    wait_for(lambda: sources(a.notebook()) == want, 60, "the disk change in the room")
    wait_for(lambda: sources(disk_notebook(collab_server, "disk.ipynb")["cells"]) == want, 60, "merged file saved")
    path.write_bytes(b"")  # a program truncating before it writes: not "every cell deleted"
    settled(collab_server, "disk.ipynb")
    assert sources(a.notebook()) == want
    a.insert(1, 0, "#")
    want = ["x = 100", "#y = 20", "# new"]
    wait_for(lambda: path.stat().st_size > 0 and sources(disk_notebook(collab_server, "disk.ipynb")["cells"]) == want,
             60, "the room's content saved over the empty file")
    ids = [c["id"] for c in disk_notebook(collab_server, "disk.ipynb")["cells"]]
    assert len(set(ids)) == 3 and "from-terminal" in ids


def test_a_text_file_changed_on_disk_is_merged_as_characters(collab_server, clients) -> None:
    r = collab_server.put("/api/contents/merge.txt", json={"type": "file", "format": "text", "content": "one\ntwo\n"})
    assert r.status_code in (200, 201)
    a = client(collab_server, "merge.txt", "a")
    clients.append(a)
    a.edit(lambda _d: a.source.insert(0, ">> "))
    wait_for(lambda: (default_dir(collab_server) / "merge.txt").read_text() == ">> one\ntwo\n", 60, "save")
    (default_dir(collab_server) / "merge.txt").write_text(">> one\ntwo\nthree\n")
    wait_for(lambda: a.text() == ">> one\ntwo\nthree\n", 60, "the appended line in the room")
    settled(collab_server, "merge.txt")
    assert (default_dir(collab_server) / "merge.txt").read_text() == ">> one\ntwo\nthree\n"


def test_edits_made_offline_merge_on_reconnect(collab_server, clients) -> None:
    put_notebook(collab_server, "offline.ipynb", notebook("p = 1", "q = 2"))
    a = client(collab_server, "offline.ipynb", "a")
    b = client(collab_server, "offline.ipynb", "b")
    clients.extend([a, b])
    b.disconnect()
    b.insert(1, 5, "22")          # offline: typed into q
    b.add_cell(2, "offline-cell", "r = 3")
    a.insert(0, 5, "11")          # online meanwhile
    wait_for(lambda: sources(disk_notebook(collab_server, "offline.ipynb")["cells"]) == ["p = 111", "q = 2"], 60,
             "a's edit saved")
    b.connect()
    want = ["p = 111", "q = 222", "r = 3"]
    wait_for(lambda: sources(a.notebook()) == want and sources(b.notebook()) == want, 60, "both converge")
    wait_for(lambda: sources(disk_notebook(collab_server, "offline.ipynb")["cells"]) == want, 60, "saved")
    assert b.resets == 0
