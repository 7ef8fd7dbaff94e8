"""The read-only share page in real Chromium: outputs, math, inert untrusted HTML, no login, copy."""

from __future__ import annotations

import json
import os
import re

import nbformat
from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import signin

NB = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_markdown_cell("# Shared title\n\nEuler: $e^{i\\pi}+1=0$"),
    nbformat.v4.new_code_cell("factor(2^64-1)", execution_count=3, outputs=[nbformat.v4.new_output(
        "execute_result", execution_count=3, data={"text/plain": "3 * 5 * 17 * 257 * 641 * 65537 * 6700417"})]),
    nbformat.v4.new_code_cell("evil()", execution_count=4, outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": "<b class='bold-out'>bold</b><img src=x onerror=\"window.pwned=1\">"
                                           "<script>window.pwned=2</script>", "text/plain": "evil"})]),
])
SHOTS = os.environ.get("SALVUS_SCREENSHOTS")


def _publish(client: Server, path: str) -> dict:
    r = client.put(f"/api/contents/{path}", json={"type": "notebook", "format": "json",
                                                  "content": json.loads(nbformat.writes(NB))})
    assert r.status_code in (200, 201), r.text
    r = client.post("/api/shares", json={"path": path})
    assert r.status_code == 201, r.text
    return r.json()


def test_share_page_renders_outputs_and_math_without_login(page: object, client: Server) -> None:
    share = _publish(client, "share-ui.ipynb")
    page.goto(client.url(share["url"]))  # a fresh browser: no token, no cookie
    expect(page.locator("h1", has_text="Shared title")).to_be_visible()
    expect(page.locator(".katex").first).to_be_visible()
    expect(page.locator(".output", has_text="6700417")).to_be_visible()
    expect(page.locator(".bold-out")).to_have_text("bold")
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    assert page.evaluate("window.pwned") is None  # untrusted HTML stayed inert
    assert page.locator(".share-copy").count() == 0  # a public viewer only reads
    assert page.locator(".cm-content[contenteditable='true']").count() == 0
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/share-desktop.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=f"{SHOTS}/share-phone.png", full_page=True)
    assert not page.errors


def test_signed_in_viewer_copies_into_a_project(page: object, client: Server) -> None:
    share = _publish(client, "share-copy.ipynb")
    signin(page, client, share["url"])
    expect(page.locator(".share-copy select")).to_have_value("default")  # the user's own project comes first
    page.locator(".share-copy button").click()
    expect(page.locator(".toast").first).to_be_visible()
    assert page.locator(".toast").first.text_content().startswith("Copied"), page.locator(".toast").all_text_contents()
    expect(page.locator(".share-copy a", has_text="Open")).to_be_visible()
    page.locator(".share-copy a").click()
    expect(page.locator(".cell").first).to_be_visible()
    assert "/notebooks/share-copy-1.ipynb" in page.url
    assert not page.errors


def test_unpublished_share_is_gone(page: object, client: Server) -> None:
    share = _publish(client, "share-gone.ipynb")
    assert client.delete(f"/api/shares/{share['slug']}").status_code == 204
    response = page.goto(client.url(share["url"]))
    assert response.status == 404


def test_publish_from_the_file_browser_and_unpublish(page: object, client: Server, browser: object) -> None:
    from .workspace_helpers import mkdir, put_text, unique

    folder = unique("pubdir")
    mkdir(client, folder)
    put_text(client, f"{folder}/readme.txt", "published words")
    signin(page, client, "/files/")
    row = page.locator("tr.file-row", has=page.locator(".file-link", has_text=folder))
    row.locator("input[type=checkbox]").check()
    page.locator("button.publish").click()
    page.locator(".publish-dialog button.publish-now").click()
    link = page.locator(".publish-dialog .share-link")
    expect(link).to_have_value(re.compile(r"/share/pubdir-[a-z0-9-]+/$"))
    url = link.input_value()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/publish-dialog.png")
    # Another browser, with no login, reads the folder and opens the file.
    other = browser.new_context().new_page()
    other.goto(url)
    other.locator(".share-list a", has_text="readme.txt").click()
    expect(other.locator(".share-text")).to_have_text("published words")
    page.locator(".publish-dialog button.unpublish").click()
    expect(page.locator(".publish-dialog button.publish-now")).to_be_visible()
    assert other.goto(url).status == 404
    other.context.close()
    assert not page.errors


def test_publish_and_export_from_the_notebook_page(page: object, client: Server) -> None:
    from .conftest import open_notebook

    _publish(client, "nb-export.ipynb")
    open_notebook(page, client, "nb-export.ipynb")
    page.locator("button.publish-button").click()
    expect(page.locator(".publish-dialog .share-link")).to_have_value(re.compile(r"/share/nb-export-"))
    with page.expect_download() as info:
        page.locator(".publish-dialog a.export-html").click()
    assert info.value.suggested_filename == "nb-export.html"
    html = open(info.value.path(), encoding="utf-8").read()
    assert "6700417" in html
    with page.expect_download() as info:
        page.locator(".publish-dialog a.export-pdf").click()
    assert open(info.value.path(), "rb").read(5) == b"%PDF-"
    if SHOTS:
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=f"{SHOTS}/publish-phone.png")
    assert not page.errors
