"""The text editor: modes, Ctrl+S, changes on disk (reload when clean, a conflict bar when not)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import signin
from .hold import Hold, pump_until, settle
from .workspace_helpers import get_text, mkdir, put_text, unique, write_outside


def doc(page: object) -> str:
    return page.evaluate("window.salvus.page.text()")


def open_editor(page: object, client: Server, path: str) -> None:
    signin(page, client, f"/edit/{path}")
    expect(page.locator(".save-state")).to_have_attribute("data-state", "saved")


def type_at_end(page: object, text: str) -> None:
    page.locator(".text-editor .cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_edit_and_save_with_ctrl_s(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("edit")
    mkdir(client, folder)
    put_text(client, f"{folder}/f.sage", "f(x) = x^2\n")
    open_editor(page, client, f"{folder}/f.sage")
    expect(page.locator(".mode-label")).to_have_text("Python")  # Sage files get Python highlighting
    assert doc(page) == "f(x) = x^2\n"
    type_at_end(page, "f(3)")
    expect(page.locator(".save-state")).to_have_attribute("data-state", "dirty")
    page.keyboard.press("Control+s")
    expect(page.locator(".save-state")).to_have_attribute("data-state", "saved")
    assert get_text(client, f"{folder}/f.sage") == "f(x) = x^2\nf(3)"
    assert not page.errors


def test_modes_by_extension_and_search_panel(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("edit")
    mkdir(client, folder)
    put_text(client, f"{folder}/paper.tex", "\\section{Intro} $x^2$ % note\n")
    open_editor(page, client, f"{folder}/paper.tex")
    expect(page.locator(".mode-label")).to_have_text("LaTeX")
    page.locator(".text-editor .cm-content").click()
    page.keyboard.press("Control+f")
    expect(page.locator(".cm-search input[name=search]")).to_be_focused()


def test_new_file_is_created_on_first_save(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("edit")
    mkdir(client, folder)
    signin(page, client, f"/edit/{folder}/new.md")
    expect(page.locator(".save-state")).to_have_attribute("data-state", "new")
    page.locator(".text-editor .cm-content").click()
    page.keyboard.type("# Title")
    page.keyboard.press("Control+s")
    expect(page.locator(".save-state")).to_have_attribute("data-state", "saved")
    assert get_text(client, f"{folder}/new.md") == "# Title"


def test_external_edit_reloads_a_clean_editor(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("edit")
    mkdir(client, folder)
    put_text(client, f"{folder}/a.py", "x = 1\n")
    open_editor(page, client, f"{folder}/a.py")
    write_outside(client, f"{folder}/a.py", "x = 2  # changed in a terminal\n")
    expect(page.locator(".cm-content")).to_contain_text("changed in a terminal", timeout=20_000)
    expect(page.locator(".save-state")).to_have_text("Reloaded from disk")
    expect(page.locator(".conflict-bar")).to_be_hidden()


def test_external_edit_with_unsaved_edits_shows_a_conflict(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("edit")
    mkdir(client, folder)
    put_text(client, f"{folder}/b.py", "base\n")
    open_editor(page, client, f"{folder}/b.py")
    type_at_end(page, "mine")
    write_outside(client, f"{folder}/b.py", "theirs\n")
    bar = page.locator(".conflict-bar")
    expect(bar).to_contain_text("changed on disk", timeout=20_000)
    assert doc(page) == "base\nmine"  # nothing was replaced behind the user's back

    bar.locator("button", has_text="Show diff").click()
    dialog = page.locator(".diff-dialog")
    expect(dialog).to_contain_text("On disk (theirs)")
    expect(dialog.locator(".cm-content").first).to_contain_text("theirs")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # Saving while in conflict does not overwrite: the bar stays until the user chooses.
    page.locator(".text-editor .cm-content").click()
    page.keyboard.press("Control+s")
    expect(bar).to_be_visible()
    assert get_text(client, f"{folder}/b.py") == "theirs\n"

    bar.locator("button", has_text="Keep mine").click()
    page.keyboard.press("Control+s")
    expect(page.locator(".save-state")).to_have_attribute("data-state", "saved")
    assert get_text(client, f"{folder}/b.py") == "base\nmine"


def test_load_theirs_keeps_mine_in_undo(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("edit")
    mkdir(client, folder)
    put_text(client, f"{folder}/c.txt", "base\n")
    open_editor(page, client, f"{folder}/c.txt")
    type_at_end(page, "mine")
    write_outside(client, f"{folder}/c.txt", "theirs\n")
    page.locator(".conflict-bar button", has_text="Load theirs").click(timeout=20_000)
    assert doc(page) == "theirs\n"
    expect(page.locator(".save-state")).to_have_attribute("data-state", "saved")
    page.locator(".text-editor .cm-content").click()
    page.keyboard.press("Control+z")
    assert doc(page) == "base\nmine"


def test_a_change_while_the_file_is_first_read_shows_the_new_text_once(page: object, contents_client: Server) -> None:
    """The first read (the old text) arrives after a change on disk was announced: the editor ends with the new text."""
    client = contents_client
    folder = unique("edit")
    mkdir(client, folder)
    put_text(client, f"{folder}/race.py", "old = 1\n")
    # The page's first read of the file: answered now (the old text), delivered after the change.
    hold = Hold(page, rf"/api/contents/{folder}/race\.py\?type=file", read_now=True)
    signin(page, client, f"/edit/{folder}/race.py")
    hold.wait(what="the editor's first read")
    page.evaluate("() => { window.heard = []; window.salvus.page.feed.addEventListener('change', (e) => window.heard.push(e.detail.path)); }")
    write_outside(client, f"{folder}/race.py", "new = 2\n")  # the page hears of it while its read waits
    pump_until(page, lambda: page.evaluate(f"() => window.heard.includes('{folder}/race.py')"), "the change event")
    settle(page)  # an editor that reacts at once has read the new text by now
    hold.release()
    expect(page.locator(".cm-content")).to_contain_text("new = 2", timeout=20_000)
    expect(page.locator(".save-state")).to_have_attribute("data-state", "saved")
    settle(page)
    assert doc(page) == "new = 2\n"
    assert not page.errors
