"""The file browser: create, rename, move, copy, delete (with undo and the trash), upload, download."""

from __future__ import annotations

import base64
import os
import re

from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import signin
from .hold import Hold, pump_until, release_and_settle
from .workspace_helpers import get_text, mkdir, put_text, unique, write_outside


def open_folder(page: object, client: Server, folder: str) -> None:
    signin(page, client, f"/files/{folder}/")
    expect(page.locator(".file-crumbs strong")).to_have_text(folder.rsplit("/", 1)[-1])


def row(page: object, name: str) -> object:
    return page.locator("tr.file-row", has=page.locator(".file-link", has_text=re.compile(rf"^{re.escape(name)}/?$")))


def answer(page: object, text: str) -> None:
    """Fill the open dialog's field and confirm it."""
    field = page.locator(".ask-dialog .dialog-input")
    field.fill(text)
    field.press("Enter")


def test_create_rename_delete_and_undo(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("files")
    mkdir(client, folder)
    open_folder(page, client, folder)
    expect(page.locator(".file-table .empty")).to_contain_text("This folder is empty")

    # A new folder: the browser goes into it; the breadcrumb leads back.
    page.locator("button.new-folder").click()
    answer(page, "data")
    expect(page.locator(".file-crumbs strong")).to_have_text("data")
    page.locator(".file-crumbs a", has_text=folder).click()
    expect(row(page, "data")).to_be_visible()

    # A new text file opens in the editor.
    page.locator("button.new-file").click()
    answer(page, "notes.txt")
    page.wait_for_url(f"**/edit/{folder}/notes.txt")
    assert client.get(f"/api/contents/{folder}/notes.txt").status_code == 200
    page.go_back()
    expect(row(page, "notes.txt")).to_be_visible()

    # Rename (F2 works too; here the button).
    row(page, "notes.txt").locator("input[type=checkbox]").check()
    page.locator("button.rename").click()
    answer(page, "ideas.txt")
    expect(row(page, "ideas.txt")).to_be_visible()
    expect(row(page, "notes.txt")).to_have_count(0)
    assert client.get(f"/api/contents/{folder}/ideas.txt").status_code == 200

    # Delete goes to the trash; Undo in the message brings it back.
    row(page, "ideas.txt").locator("input[type=checkbox]").check()
    page.locator("button.delete").click()
    expect(row(page, "ideas.txt")).to_have_count(0)
    assert client.get(f"/api/contents/{folder}/ideas.txt").status_code == 404
    page.locator(".toast .toast-action", has_text="Undo").click()
    expect(row(page, "ideas.txt")).to_be_visible()
    assert client.get(f"/api/contents/{folder}/ideas.txt").status_code == 200

    # Deleted again, it can be restored from the Trash view.
    row(page, "ideas.txt").locator("input[type=checkbox]").check()
    page.keyboard.press("Delete")
    expect(row(page, "ideas.txt")).to_have_count(0)
    page.locator("button.trash-button").click()
    trash_row = page.locator("tr.trash-row", has_text=f"{folder}/ideas.txt").first
    trash_row.locator("button.restore").click()
    page.locator("button.trash-button").click()
    expect(row(page, "ideas.txt")).to_be_visible()
    assert not page.errors


def test_rename_to_a_taken_name_is_refused_and_loses_nothing(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("files")
    mkdir(client, folder)
    put_text(client, f"{folder}/a.txt", "first")
    put_text(client, f"{folder}/b.txt", "second")
    open_folder(page, client, folder)
    row(page, "a.txt").locator("input[type=checkbox]").check()
    page.locator("button.rename").click()
    answer(page, "b.txt")
    expect(page.locator(".toast", has_text="Could not move a.txt")).to_be_visible()
    assert get_text(client, f"{folder}/a.txt") == "first"
    assert get_text(client, f"{folder}/b.txt") == "second"


def test_move_and_copy(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("files")
    mkdir(client, folder)
    mkdir(client, f"{folder}/dest")
    put_text(client, f"{folder}/x.py", "print(1)\n")
    open_folder(page, client, folder)
    row(page, "x.py").locator("input[type=checkbox]").check()
    page.locator("button.copy").click()
    answer(page, folder)  # same folder: the server names the copy x-Copy1.py
    expect(row(page, "x-Copy1.py")).to_be_visible()
    row(page, "x-Copy1.py").locator("input[type=checkbox]").check()
    row(page, "x.py").locator("input[type=checkbox]").uncheck()
    page.locator("button.move").click()
    answer(page, f"{folder}/dest")
    expect(row(page, "x-Copy1.py")).to_have_count(0)
    assert get_text(client, f"{folder}/dest/x-Copy1.py") == "print(1)\n"
    assert get_text(client, f"{folder}/x.py") == "print(1)\n"


def test_upload_and_download(page: object, contents_client: Server, tmp_path) -> None:
    client = contents_client
    folder = unique("files")
    mkdir(client, folder)
    open_folder(page, client, folder)
    data = bytes(range(256)) * 64  # binary, 16 KB
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    page.locator("input[type=file]").set_input_files(str(src))
    expect(row(page, "blob.bin")).to_be_visible()
    expect(row(page, "blob.bin").locator(".size")).to_have_text("16 KB")
    r = client.get(f"/api/contents/{folder}/blob.bin?format=base64")
    assert base64.b64decode(r.json()["content"]) == data
    row(page, "blob.bin").locator("input[type=checkbox]").check()
    with page.expect_download() as info:
        page.locator("button.download").click()
    path = info.value.path()
    assert open(path, "rb").read() == data


def test_large_upload_goes_in_chunks(page: object, contents_client: Server, tmp_path) -> None:
    client = contents_client
    folder = unique("files")
    mkdir(client, folder)
    open_folder(page, client, folder)
    data = os.urandom(9 * 1024 * 1024 + 123)  # more than one 8 MB chunk
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    page.locator("input[type=file]").set_input_files(str(src))
    expect(row(page, "big.bin")).to_be_visible(timeout=60_000)
    r = client.get(f"/api/contents/{folder}/big.bin?format=base64")
    assert base64.b64decode(r.json()["content"]) == data


def test_listing_follows_changes_on_disk(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("files")
    mkdir(client, folder)
    open_folder(page, client, folder)
    write_outside(client, f"{folder}/from-a-terminal.txt", "made elsewhere\n")
    expect(row(page, "from-a-terminal.txt")).to_be_visible(timeout=20_000)


def test_leaving_the_trash_before_it_loaded_keeps_the_listing(page: object, contents_client: Server) -> None:
    """The trash answers after the user went back to the files: the files stay on screen."""
    client = contents_client
    folder = unique("files")
    mkdir(client, folder)
    put_text(client, f"{folder}/kept.txt", "here\n")
    open_folder(page, client, folder)
    expect(row(page, "kept.txt")).to_be_visible()
    hold = Hold(page, r"/api/projects/[^/]+/trash$")
    page.locator("button.trash-button").click()
    hold.wait(what="the trash listing")
    page.locator("button.trash-button").click()  # back to the files before the trash arrived
    expect(row(page, "kept.txt")).to_be_visible()
    release_and_settle(page, hold)
    expect(row(page, "kept.txt")).to_be_visible()
    expect(page.locator("tr.trash-row")).to_have_count(0)
    expect(page.locator("button.trash-button")).not_to_have_class(re.compile(r"\bactive\b"))
    assert not page.errors


def test_a_reload_pending_when_the_trash_opens_does_not_leave_it(page: object, contents_client: Server) -> None:
    """A change on disk schedules a listing reload (300 ms later); the trash opened meanwhile stays open, and the
    Trash button then goes back to the files (a CI failure: the reload left the trash behind the user's back, so
    the next click opened it again)."""
    client = contents_client
    folder = unique("files")
    mkdir(client, folder)
    put_text(client, f"{folder}/a.txt", "a\n")
    page.clock.install()  # the page's timers run as usual until paused below
    open_folder(page, client, folder)
    expect(row(page, "a.txt")).to_be_visible()
    page.evaluate("() => { window.heard = []; window.salvus.page.feed.addEventListener('change', (e) => window.heard.push(e.detail.path)); }")
    page.clock.pause_at(page.evaluate("() => Date.now()") / 1000 + 1)  # from here timers fire only on run_for
    write_outside(client, f"{folder}/b.txt", "b\n")
    pump_until(page, lambda: page.evaluate(f"() => window.heard.includes('{folder}/b.txt')"), "the change event")
    page.locator("button.trash-button").click()  # while the reload waits
    expect(page.locator(".file-crumbs strong")).to_have_text("Trash")
    page.clock.run_for(1000)  # the pending reload's time comes
    page.clock.resume()
    expect(page.locator(".file-crumbs strong")).to_have_text("Trash")
    expect(page.locator("button.trash-button")).to_have_class(re.compile(r"\bactive\b"))
    page.locator("button.trash-button").click()
    expect(row(page, "b.txt")).to_be_visible()
    expect(page.locator(".file-crumbs strong")).to_have_text(folder)
    assert not page.errors
