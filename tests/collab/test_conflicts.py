"""The room and the disk changed the same region: both versions are kept; a cell order changed on disk is
applied to the room.  The server saves 10 minutes after an edit here, so the room's edit is certainly
not on disk yet when the file changes under it (a real conflict, every run)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collab.conftest import ARGS, client, default_dir, notebook, put_notebook, room_status, sources, write_json
from tests.conftest import Server, wait_for


@pytest.fixture(scope="module")
def slow_saver() -> Iterator[Server]:
    srv = Server(*ARGS, "--collaboration-save-delay", "600")
    yield srv
    srv.stop()


def test_a_line_changed_in_the_room_and_on_disk_keeps_both(slow_saver: Server, clients) -> None:
    r = slow_saver.put("/api/contents/c.txt", json={"type": "file", "format": "text", "content": "one\ntwo\nthree\n"})
    assert r.status_code in (200, 201), r.text
    a = client(slow_saver, "c.txt", "a")
    clients.append(a)
    def rewrite(_doc) -> None:  # "two" -> "TWO (room)"
        del a.source[4:7]
        a.source.insert(4, "TWO (room)")
    a.edit(rewrite)
    wait_for(lambda: room_status(slow_saver, "c.txt")["dirty"], 60, "the room changed")
    (default_dir(slow_saver) / "c.txt").write_text("one\n2 (disk)\nthree\n")  # as a terminal would
    wait_for(lambda: "(disk)" in a.text(), 60, "the disk version in the room")
    text = a.text()
    assert "TWO (room)" in text and "2 (disk)" in text
    assert text.startswith("one\nTWO (room)") and text.endswith("three\n") and text.count("three") == 1
    assert "<<<<<<< on disk" in text and ">>>>>>> end of the version on disk" in text


def test_a_cell_changed_in_the_room_and_on_disk_keeps_both(slow_saver: Server, clients) -> None:
    put_notebook(slow_saver, "c.ipynb", notebook("x = 1", "y = 1"))
    a = client(slow_saver, "c.ipynb", "a")
    clients.append(a)
    def rewrite(_doc) -> None:  # "x = 1" -> "x = 7"
        del a.cells[0]["source"][4:5]
        a.cells[0]["source"].insert(4, "7")
    a.edit(rewrite)
    wait_for(lambda: room_status(slow_saver, "c.ipynb")["dirty"], 60, "the room changed")
    write_json(default_dir(slow_saver) / "c.ipynb", notebook("x = 2", "y = 2"))
    wait_for(lambda: sources(a.notebook())[1] == "y = 2", 60, "the disk version in the room")
    first = sources(a.notebook())[0]
    assert first.startswith("x = 7") and "\n2\n" in first and "<<<<<<< on disk" in first


def test_cells_reordered_on_disk_are_reordered_in_the_room(slow_saver: Server, clients) -> None:
    put_notebook(slow_saver, "order.ipynb", notebook("a", "b", "c"))
    a = client(slow_saver, "order.ipynb", "a")
    clients.append(a)
    a.insert(1, 1, "+room")  # an edit in a cell that moves on disk
    wait_for(lambda: room_status(slow_saver, "order.ipynb")["dirty"], 60, "the room changed")
    nb = notebook("a", "b", "c")
    nb["cells"] = [nb["cells"][2], nb["cells"][0], nb["cells"][1]]  # c, a, b
    nb["cells"][0]["source"] = "c+disk"
    write_json(default_dir(slow_saver) / "order.ipynb", nb)
    wait_for(lambda: [c["id"] for c in a.notebook()] == ["c2", "c0", "c1"], 60, "the disk's order in the room")
    assert sources(a.notebook()) == ["c+disk", "a", "b+room"]
    late = client(slow_saver, "order.ipynb", "late")
    clients.append(late)
    assert [c["id"] for c in late.notebook()] == ["c2", "c0", "c1"]
