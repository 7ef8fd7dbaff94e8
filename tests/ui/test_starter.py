"""The starter page: the token URL leads to a scratch box that runs Sage code at once."""

from __future__ import annotations

from playwright.sync_api import expect

from salvus_local import __version__
from tests.conftest import Server

from .conftest import KERNEL_TIMEOUT_MS, signin, wait_idle


def test_token_url_to_scratch_box_runs_code(page: object, client: Server) -> None:
    signin(page, client)
    assert "token=" not in page.url  # the server swapped the token for a cookie
    wait_idle(page)
    page.locator(".scratch-input .cm-content").click()
    page.keyboard.type("2+2")
    page.keyboard.press("Shift+Enter")
    entry = page.locator(".scratch-entry").last
    entry.locator(".output-area").filter(has_text="4").wait_for(timeout=KERNEL_TIMEOUT_MS)
    expect(entry.locator(".prompt").first).to_have_text("In [1]:")
    assert page.evaluate("window.salvus.page.editor.state.doc.toString()") == ""  # the box is ready again
    assert not page.errors


def test_scratch_history_survives_reload(page: object, client: Server) -> None:
    signin(page, client)
    wait_idle(page)
    page.locator(".scratch-input .cm-content").click()
    page.keyboard.type("a = 6*7; a")
    page.keyboard.press("Shift+Enter")
    page.locator(".scratch-entry .output-area").filter(has_text="42").wait_for(timeout=KERNEL_TIMEOUT_MS)
    page.reload()
    wait_idle(page)
    page.locator(".scratch-entry .output-area").filter(has_text="42").wait_for()
    # The same kernel is reconnected: the variable is still there.
    page.locator(".scratch-input .cm-content").click()
    page.keyboard.type("a + 1")
    page.keyboard.press("Shift+Enter")
    page.locator(".scratch-entry .output-area").filter(has_text="43").wait_for(timeout=KERNEL_TIMEOUT_MS)


def test_notebook_list_and_new_notebook(page: object, contents_client: Server) -> None:
    client = contents_client
    signin(page, client)
    page.locator(".files .new-notebook").click()
    page.wait_for_url("**/notebooks/**.ipynb")
    wait_idle(page)
    path = page.url.split("/notebooks/", 1)[1]
    assert client.get(f"/api/contents/{path}").status_code == 200
    page.goto(client.url("/"))
    page.locator(".file-list a", has_text=path.rsplit("/", 1)[-1]).wait_for()
    client.delete(f"/api/contents/{path}")


def test_footer_shows_the_version(page: object, client: Server) -> None:
    """The starter page's footer names the version `salvus-local --version` prints."""
    signin(page, client)
    expect(page.locator(".app-footer")).to_have_text(f"Salvus Local {__version__} · BSD-3-Clause")
