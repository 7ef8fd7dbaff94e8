"""Co-editing in real Chromium against a real ``salvus-local --multi-user``: each browser context is
another person signed in by password (the owner, an editor, a viewer of one project).

Two people typing in one cell converge with both people's characters; a viewer cannot type or
change cells; a late joiner sees the outputs of a cell that is still running (the server writes
them into the document) and nobody sees them twice; the text editor converges; a browser that
goes offline keeps its edits and they merge when it is back.  Set SALVUS_SCREENSHOTS=DIR to keep
the screenshots of a notebook with two people in it (desktop and phone).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import Server, wait_for

from .conftest import KERNEL_TIMEOUT_MS
from .hold import Hold

PASSWORD = "correct horse battery"
PYTHON_ONLY = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python"}
SHOTS = os.environ.get("SALVUS_SCREENSHOTS")
SYNC_S = 30  # seconds: edits cross in milliseconds; the bound only ends a test that hangs


class Person:
    """An account and its cookie jar (for API calls outside the browser)."""

    def __init__(self, srv: Server, role: str = "student") -> None:
        self.name = f"p{uuid.uuid4().hex[:8]}"
        r = srv.post("/api/users", json={"username": self.name, "password": PASSWORD, "role": role})
        assert r.status_code == 201, r.text
        self.srv = srv
        self.s = requests.Session()
        self.s.get(srv.url("/login"), timeout=30)
        r = self.s.post(srv.url("/login"), data={"username": self.name, "password": PASSWORD, "next": "/",
                                                 "_xsrf": self.s.cookies.get("_xsrf", "")}, allow_redirects=False, timeout=30)
        assert r.status_code == 302, r.text

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        """An API request as the client makes it (X-XSRFToken echoed)."""
        return self.s.request(method, self.srv.url(path), headers={"X-XSRFToken": self.s.cookies.get("_xsrf", "")},
                              timeout=30, **kw)

    def home(self) -> str:
        """The id of this person's home project."""
        rows = self.call("GET", "/api/projects").json()
        return next(p["id"] for p in rows if p["owner"] == self.name)


@pytest.fixture(scope="module")
def multi() -> Iterator[Server]:
    """One multi-user server (collaboration is on in multi-user mode) for this module."""
    srv = Server("--multi-user", env=PYTHON_ONLY)
    if srv.get("/api/collab/status").status_code == 404:
        srv.stop()
        pytest.skip("the server has no collaboration rooms yet (GET /api/collab/status is 404)")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def team(multi: Server) -> dict[str, Any]:
    """An owner, an editor and a viewer of the owner's home project."""
    owner, editor, viewer = Person(multi), Person(multi), Person(multi)
    home = owner.home()
    for person, role in ((editor, "editor"), (viewer, "viewer")):
        r = owner.call("PUT", f"/api/projects/{home}/collaborators/{person.name}", json={"role": role})
        assert r.status_code == 200, r.text
    return {"owner": owner, "editor": editor, "viewer": viewer, "home": home}


def put_notebook(owner: Person, home: str, cells: list[dict[str, Any]]) -> str:
    """Write a new notebook into the project; return its path."""
    path = f"nb-{uuid.uuid4().hex[:8]}.ipynb"
    content = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
               "nbformat": 4, "nbformat_minor": 5}
    r = owner.call("PUT", f"/p/{home}/api/contents/{path}", json={"type": "notebook", "content": content})
    assert r.status_code in (200, 201), r.text
    return path


def code(source: str, cid: str) -> dict[str, Any]:
    return {"id": cid, "cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None}


def open_as(browser: object, multi: Server, person: Person, path: str, width: int = 1280, height: int = 800,
            before: Any = None) -> object:
    """A new browser (context) signed in as person, on path, once its room is live (before(page) runs first).

    The browser gets the person's login cookies (the pair of session and _xsrf the login form set):
    a test module signs the same people in many times, and the login form's throttle is not under test here.
    """
    ctx = browser.new_context(viewport={"width": width, "height": height})
    ctx.add_cookies([{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"} for c in person.s.cookies])
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    if before:
        before(page)
    page.goto(multi.url(path))
    expect(page.locator(".collab-indicator[data-state=live]")).to_be_visible(timeout=SYNC_S * 1000)
    return page


def cell_sources(page: object) -> list[str]:
    """What each cell's editor shows (CodeMirror's text, not the remote carets drawn in it)."""
    return page.evaluate("() => window.salvus.nb.cells.map((c) => c.editor ? c.editor.state.doc.toString() : c.source)")


def type_at(page: object, cell: int, where: str, text: str) -> None:
    """Click into a cell's editor, move to its start or end, type text key by key."""
    page.locator(".cell").nth(cell).locator(".cm-content").click()
    page.keyboard.press("Control+Home" if where == "start" else "Control+End")
    page.keyboard.type(text)


def saved_sources(person: Person, home: str, path: str) -> list[str]:
    """Cell sources of the notebook as the server saved it on disk."""
    r = person.call("GET", f"/p/{home}/api/contents/{path}")
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in r.json()["content"]["cells"]]


def test_two_people_typing_in_one_cell_converge(browser: object, multi: Server, team: dict[str, Any]) -> None:
    home, owner, editor = team["home"], team["owner"], team["editor"]
    path = put_notebook(owner, home, [code("x = 1", "c-one"), code("y = 2", "c-two")])
    url = f"/p/{home}/notebooks/{path}"
    a, b = open_as(browser, multi, owner, url), open_as(browser, multi, editor, url)
    # Each sees the other: two avatars, "2 people".
    for page in (a, b):
        expect(page.locator(".collab-indicator")).to_have_text(re.compile(r"live · 2 people"), timeout=SYNC_S * 1000)
        expect(page.locator(".collab-avatars .avatar")).to_have_count(2)
    a.locator(".cell").nth(0).locator(".cm-content").click()
    b.locator(".cell").nth(0).locator(".cm-content").click()
    a.keyboard.press("Control+End")
    b.keyboard.press("Control+Home")
    # Interleaved keystrokes in one cell: each letter is one edit that crosses the other's.
    for ca, cb in zip("  # alice", "z=0 # bob", strict=True):
        a.keyboard.type(ca)
        b.keyboard.type(cb)
    expected = "z=0 # bobx = 1  # alice"
    wait_for(lambda: cell_sources(a)[0] == cell_sources(b)[0] == expected, SYNC_S,
             f"both editors to show {expected!r}: {cell_sources(a)[0]!r} / {cell_sources(b)[0]!r}")
    assert cell_sources(a)[1] == cell_sources(b)[1] == "y = 2"
    # The other person's caret shows, with their name, in the cell they type in.
    expect(a.locator(".cell").nth(0).locator(".cm-ySelectionInfo")).to_have_text(editor.name)
    expect(b.locator(".cell").nth(0).locator(".cm-ySelectionInfo")).to_have_text(owner.name)
    expect(a.locator(".cell").nth(0)).to_have_class(re.compile(r"\bpeer-active\b"))
    # The server saves it (no page PUTs in a room); the page says so.
    wait_for(lambda: saved_sources(owner, home, path)[0] == expected, SYNC_S, "the server to save both people's text")
    expect(a.locator(".save-state")).to_have_text("Saved", timeout=SYNC_S * 1000)
    assert not a.errors and not b.errors, a.errors + b.errors
    a.context.close()
    b.context.close()


def test_cells_added_moved_and_deleted_show_for_everyone(browser: object, multi: Server, team: dict[str, Any]) -> None:
    home, owner, editor = team["home"], team["owner"], team["editor"]
    path = put_notebook(owner, home, [code("first", "c-1"), code("second", "c-2")])
    url = f"/p/{home}/notebooks/{path}"
    a, b = open_as(browser, multi, owner, url), open_as(browser, multi, editor, url)
    uids = lambda page: page.evaluate("() => window.salvus.nb.cells.map((c) => c.uid)")  # noqa: E731
    a.locator(".cell").nth(1).locator(".prompt").click()
    a.keyboard.press("b")  # a new cell below the second
    wait_for(lambda: len(uids(b)) == 3, SYNC_S, "the new cell to reach the other page")
    type_at(a, 2, "end", "third")
    wait_for(lambda: cell_sources(b) == ["first", "second", "third"], SYNC_S, "its text to reach the other page")
    b.locator(".cell").nth(0).locator(".prompt").click()
    b.keyboard.press("Escape")
    b.keyboard.press("Control+Shift+ArrowDown")  # move "first" below "second"
    wait_for(lambda: cell_sources(a) == ["second", "first", "third"], SYNC_S, "the move to reach the other page")
    b.keyboard.press("m")  # "first" becomes markdown, for everyone
    wait_for(lambda: a.evaluate("() => window.salvus.nb.cells[1].type") == "markdown", SYNC_S, "the type change")
    b.keyboard.press("d")
    b.keyboard.press("d")
    wait_for(lambda: cell_sources(a) == ["second", "third"], SYNC_S, "the deletion to reach the other page")
    assert uids(a) == uids(b) and len(set(uids(a))) == 2
    b.keyboard.press("z")  # cell-level undo: the deleted cell comes back, for everyone
    wait_for(lambda: len(cell_sources(a)) == 3 and "first" in cell_sources(a), SYNC_S, "the undone deletion")
    wait_for(lambda: saved_sources(owner, home, path) == cell_sources(a), SYNC_S, "the server to save the structure")
    a.context.close()
    b.context.close()


def test_a_viewer_cannot_type_or_change_cells(browser: object, multi: Server, team: dict[str, Any]) -> None:
    home, owner, viewer = team["home"], team["owner"], team["viewer"]
    path = put_notebook(owner, home, [code("print('hi')", "c-v")])
    url = f"/p/{home}/notebooks/{path}"
    v = open_as(browser, multi, viewer, url)
    expect(v.locator(".read-only-badge")).to_be_visible()
    expect(v.locator(".cell .cm-content").first).to_have_attribute("contenteditable", "false")
    v.locator(".cell .cm-content").first.click()
    v.keyboard.type("HACKED")
    v.keyboard.press("Escape")
    v.keyboard.press("b")  # command mode: add a cell
    v.keyboard.press("d")
    v.keyboard.press("d")  # and delete one
    assert cell_sources(v) == ["print('hi')"]
    expect(v.locator(".toast").last).to_contain_text("not change it")
    # The owner, arriving after, sees the file as it was and the viewer among the people here.
    a = open_as(browser, multi, owner, url)
    expect(a.locator(".collab-avatars .avatar")).to_have_count(2, timeout=SYNC_S * 1000)
    assert cell_sources(a) == ["print('hi')"]
    type_at(a, 0, "end", "  # owner")
    wait_for(lambda: cell_sources(v) == ["print('hi')  # owner"], SYNC_S, "the owner's edit to reach the viewer")
    assert saved_sources(owner, home, path) in (["print('hi')"], ["print('hi')  # owner"])
    a.context.close()
    v.context.close()


def test_a_late_joiner_sees_the_outputs_of_a_running_cell(browser: object, multi: Server, team: dict[str, Any]) -> None:
    home, owner, editor = team["home"], team["owner"], team["editor"]
    stop = f"stop-{uuid.uuid4().hex[:8]}"
    # The cell runs until the test writes a file: no race with a slow machine.
    loop = (f"import os, time\ni = 0\nwhile not os.path.exists({stop!r}):\n    print(f'tick {{i}}', flush=True)\n"
            "    i += 1\n    time.sleep(0.2)\nprint('done')")
    path = put_notebook(owner, home, [code(loop, "c-loop"), code("", "c-after")])
    url = f"/p/{home}/notebooks/{path}"
    a = open_as(browser, multi, owner, url)
    expect(a.locator(".kernel-status[data-status=idle]")).to_be_visible(timeout=KERNEL_TIMEOUT_MS)
    a.locator(".cell").nth(0).locator(".cm-content").click()
    a.keyboard.press("Control+Enter")
    first = a.locator(".cell").nth(0)
    expect(first.locator(".output-area")).to_contain_text("tick 3", timeout=KERNEL_TIMEOUT_MS)
    # Bob arrives while it runs: he sees what was printed so far and the busy prompt, then the rest live.
    b = open_as(browser, multi, editor, url)
    late = b.locator(".cell").nth(0)
    expect(late.locator(".output-area")).to_contain_text("tick 3", timeout=SYNC_S * 1000)
    expect(late.locator(".prompt")).to_have_text("[*]:", timeout=SYNC_S * 1000)
    a.context.close()  # the page that ran it leaves: the outputs keep coming (the server writes them)
    seen = len(late.locator(".output-area").inner_text().splitlines())
    wait_for(lambda: len(late.locator(".output-area").inner_text().splitlines()) > seen + 2, KERNEL_TIMEOUT_MS / 1000,
             "more ticks after the page that ran the cell closed")
    r = owner.call("PUT", f"/p/{home}/api/contents/{stop}", json={"type": "file", "format": "text", "content": ""})
    assert r.status_code in (200, 201), r.text
    expect(late.locator(".output-area")).to_contain_text("done", timeout=KERNEL_TIMEOUT_MS)
    expect(late.locator(".prompt")).to_have_text(re.compile(r"\[\d+\]:"), timeout=SYNC_S * 1000)
    lines = [line for line in late.locator(".output-area .output-stream").first.inner_text().splitlines() if line.strip()]
    assert lines == [f"tick {i}" for i in range(len(lines) - 1)] + ["done"], lines[-3:]  # each once, in order
    b.context.close()


def test_outputs_show_once_for_the_person_who_ran_the_cell(browser: object, multi: Server, team: dict[str, Any]) -> None:
    home, owner, editor = team["home"], team["owner"], team["editor"]
    path = put_notebook(owner, home, [code("print('once')\n6 * 7", "c-once")])
    url = f"/p/{home}/notebooks/{path}"
    a, b = open_as(browser, multi, owner, url), open_as(browser, multi, editor, url)
    expect(a.locator(".kernel-status[data-status=idle]")).to_be_visible(timeout=KERNEL_TIMEOUT_MS)
    a.locator(".cell").nth(0).locator(".cm-content").click()
    a.keyboard.press("Control+Enter")
    for page in (a, b):
        cell = page.locator(".cell").nth(0)
        expect(cell.locator(".prompt")).to_have_text(re.compile(r"\[\d+\]:"), timeout=KERNEL_TIMEOUT_MS)
        expect(cell.locator(".output-area")).to_contain_text("42")
        assert cell.locator(".output-area").inner_text().count("once") == 1
        expect(cell.locator(".output")).to_have_count(2)
    wait_for(lambda: len(json.dumps(owner.call("GET", f"/p/{home}/api/contents/{path}").json()["content"]["cells"][0]["outputs"])) > 2,
             SYNC_S, "the outputs to be saved")
    a.context.close()
    b.context.close()


def test_the_text_editor_converges(browser: object, multi: Server, team: dict[str, Any]) -> None:
    home, owner, editor = team["home"], team["owner"], team["editor"]
    path = f"notes-{uuid.uuid4().hex[:8]}.txt"
    assert owner.call("PUT", f"/p/{home}/api/contents/{path}", json={"type": "file", "format": "text", "content": "middle\n"}).status_code in (200, 201)
    url = f"/p/{home}/edit/{path}"
    a, b = open_as(browser, multi, owner, url), open_as(browser, multi, editor, url)
    text = lambda page: page.evaluate("() => window.salvus.page.view.state.doc.toString()")  # noqa: E731
    a.locator(".cm-content").click()
    b.locator(".cm-content").click()
    a.keyboard.press("Control+Home")
    b.keyboard.press("Control+End")
    for ca, cb in zip("top  ", "bottom\n"[:5], strict=True):
        a.keyboard.type(ca)
        b.keyboard.type(cb)
    b.keyboard.type("m\n")
    wait_for(lambda: text(a) == text(b) == "top  middle\nbottom\n", SYNC_S, f"both editors to converge: {text(a)!r} / {text(b)!r}")
    expect(a.locator(".cm-ySelectionInfo")).to_have_text(editor.name)
    expect(a.locator(".save-button")).to_be_hidden()  # the server saves a room's text
    wait_for(lambda: owner.call("GET", f"/p/{home}/api/contents/{path}").json()["content"] == "top  middle\nbottom\n",
             SYNC_S, "the server to save the text")
    a.context.close()
    b.context.close()


def test_edits_made_offline_merge_when_back_online(browser: object, multi: Server, team: dict[str, Any]) -> None:
    home, owner, editor = team["home"], team["owner"], team["editor"]
    path = put_notebook(owner, home, [code("shared = 1", "c-off"), code("", "c-off2")])
    url = f"/p/{home}/notebooks/{path}"
    a, b = open_as(browser, multi, owner, url), open_as(browser, multi, editor, url)
    b.context.set_offline(True)
    expect(b.locator(".collab-indicator")).to_have_attribute("data-state", "offline", timeout=SYNC_S * 1000)
    expect(b.locator(".collab-indicator")).to_contain_text("edits kept")
    type_at(b, 1, "end", "offline = 2")  # the offline page keeps editing
    type_at(a, 0, "end", "  # online")  # while the other goes on
    wait_for(lambda: cell_sources(b) == ["shared = 1", "offline = 2"], SYNC_S, "the offline page to keep its edit")
    assert cell_sources(a) == ["shared = 1  # online", ""]  # nothing crossed while offline
    b.context.set_offline(False)
    expect(b.locator(".collab-indicator")).to_have_attribute("data-state", "live", timeout=SYNC_S * 1000)
    want = ["shared = 1  # online", "offline = 2"]
    wait_for(lambda: cell_sources(a) == cell_sources(b) == want, SYNC_S, f"both pages to merge: {cell_sources(a)} / {cell_sources(b)}")
    wait_for(lambda: saved_sources(owner, home, path) == want, SYNC_S, "the merged notebook to be saved")
    a.context.close()
    b.context.close()


def test_edits_kept_in_a_closed_offline_tab_merge_when_it_opens_again(browser: object, multi: Server, team: dict[str, Any]) -> None:
    home, owner, editor = team["home"], team["owner"], team["editor"]
    path = put_notebook(owner, home, [code("kept = 0", "c-kept")])
    url = f"/p/{home}/notebooks/{path}"
    a, b = open_as(browser, multi, owner, url), open_as(browser, multi, editor, url)
    b.context.set_offline(True)
    expect(b.locator(".collab-indicator")).to_have_attribute("data-state", "offline", timeout=SYNC_S * 1000)
    type_at(b, 0, "end", "  # typed offline")
    # Wait until IndexedDB has it (a read after the writes completes after them), then close the tab.
    b.evaluate("""() => new Promise((done) => {
        const tx = window.salvus.room.local.db.transaction(["updates"], "readonly");
        tx.oncomplete = done; tx.objectStore("updates").count(); })""")
    context = b.context
    b.close()
    assert cell_sources(a) == ["kept = 0"]
    context.set_offline(False)
    again = context.new_page()  # the same browser, online again, opens the notebook
    again.goto(multi.url(url))
    expect(again.locator(".collab-indicator[data-state=live]")).to_be_visible(timeout=SYNC_S * 1000)
    wait_for(lambda: cell_sources(a) == ["kept = 0  # typed offline"], SYNC_S, f"the offline edit to reach the other page: {cell_sources(a)}")
    assert cell_sources(again) == ["kept = 0  # typed offline"]
    a.context.close()
    context.close()


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
def test_two_people_in_a_notebook_fit_the_screen(browser: object, multi: Server, team: dict[str, Any], width: int,
                                                  height: int, tmp_path: Path) -> None:
    home, owner, editor = team["home"], team["owner"], team["editor"]
    cells = [{"id": "m-title", "cell_type": "markdown", "source": "# Orbits\nTwo people work here.", "metadata": {}},
             code("def f(x):\n    return x**2\n\nf(12)", "c-f"), code("for k in range(3):\n    print(k)", "c-k")]
    path = put_notebook(owner, home, cells)
    url = f"/p/{home}/notebooks/{path}"
    a = open_as(browser, multi, owner, url, width, height)
    b = open_as(browser, multi, editor, url, width, height)
    b.locator(".cell").nth(1).locator(".cm-content").click()
    b.keyboard.press("Control+End")
    b.keyboard.press("Shift+ArrowLeft")
    b.keyboard.press("Shift+ArrowLeft")
    a.locator(".cell").nth(2).locator(".cm-content").click()
    expect(a.locator(".cell").nth(1).locator(".cm-ySelectionInfo")).to_have_text(editor.name, timeout=SYNC_S * 1000)
    expect(a.locator(".cell").nth(1)).to_have_class(re.compile(r"\bpeer-active\b"))
    expect(a.locator(".collab-presence")).to_be_visible()
    # Nothing spills out sideways; the indicator and both avatars are on screen.
    assert a.evaluate("() => document.documentElement.scrollWidth") <= width
    for el in a.locator(".collab-avatars .avatar").all():
        box = el.bounding_box()
        assert box and 0 <= box["x"] and box["x"] + box["width"] <= width
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    a.screenshot(path=str(shots / f"collab-notebook-{width}.png"))
    a.context.close()
    b.context.close()


def test_a_text_file_above_the_room_limit_opens_in_the_ordinary_editor(browser: object, multi: Server,
                                                                       team: dict[str, Any]) -> None:
    """The server refuses a room for it (413): the page says so and edits it alone, without retrying a room."""
    home, owner = team["home"], team["owner"]
    path = f"big-{uuid.uuid4().hex[:8]}.txt"
    body = "line of a big log file\n" * (5 * 2**20 // 23 + 1)  # 5 MB, above the 4 MB default
    assert owner.call("PUT", f"/p/{home}/api/contents/{path}", json={"type": "file", "format": "text", "content": body}).status_code in (200, 201)
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.add_cookies([{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"} for c in owner.s.cookies])
    page = ctx.new_page()
    rooms: list[str] = []
    page.on("websocket", lambda ws: "/api/collab/rooms/" in ws.url and rooms.append(ws.url))
    page.goto(multi.url(f"/p/{home}/edit/{path}"))
    notice = page.locator(".room-notice")
    expect(notice).to_contain_text("above the 4 MB a shared room opens", timeout=SYNC_S * 1000)
    expect(page.locator(".save-button")).to_be_visible()
    if SHOTS:
        for width, height in ((1280, 800), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(Path(SHOTS) / f"collab-too-big-{width}.png"))
        page.set_viewport_size({"width": 1280, "height": 800})
    page.locator(".cm-content").click()
    page.keyboard.press("Control+Home")
    page.keyboard.type("EDITED ")
    page.keyboard.press("Control+s")
    wait_for(lambda: owner.call("GET", f"/p/{home}/api/contents/{path}").json()["content"].startswith("EDITED line"),
             SYNC_S, "the page to save the file itself")
    expect(notice).to_be_visible()  # it stays after a save (the conflict bar is for conflicts)
    assert rooms == [] and page.locator(".collab-indicator").count() == 0
    ctx.close()


def test_cells_show_when_the_room_is_live_not_after_the_kernel_list(browser: object, multi: Server,
                                                                     team: dict[str, Any]) -> None:
    """"live" shows when the room has the document: its cells are on the page then, however slow the kernel list."""
    home, owner = team["home"], team["owner"]
    path = put_notebook(owner, home, [code("first = 1", "c-live-1"), code("second = 2", "c-live-2")])
    holds: list[Hold] = []
    a = open_as(browser, multi, owner, f"/p/{home}/notebooks/{path}",
                before=lambda page: holds.append(Hold(page, r"/api/kernelspecs$")))
    hold = holds[0]
    hold.wait(what="the page's kernel list")
    wait_for(lambda: cell_sources(a) == ["first = 1", "second = 2"], SYNC_S, "the cells while the kernel list is held")
    hold.release()
    # Then the page goes on to its kernel (whether one starts depends on the owner's kernel quota, which
    # earlier tests of this module may have used up: not what is tested here).
    expect(a.locator(".kernel-status")).not_to_have_attribute("data-status", "disconnected", timeout=KERNEL_TIMEOUT_MS)
    assert not a.errors, a.errors
    a.context.close()
