"""input() that waits while cells are run again, and markdown cell attachments (issue 8, items 4 and 5)."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import KERNEL_TIMEOUT_MS, new_notebook_path, open_notebook, run_in_new_cell, wait_done
from .test_notebook import PNG_1PX
from .test_outputs import add_cell_and_save, put_notebook

v4 = nbformat.v4


@pytest.fixture
def nb_path(contents_client: Server) -> str:
    """A fresh notebook path, deleted afterwards."""
    path = new_notebook_path()
    yield path
    contents_client.delete(f"/api/contents/{path}")


def run_cell_again(page: object, cell: object) -> None:
    """Click into a cell's code and run it in place (Ctrl+Enter)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")


def test_running_cells_while_input_waits_is_refused_with_a_message(page: object, contents_client: Server,
                                                                     nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    asking = run_in_new_cell(page, 'name = input("Tell me something! ")')
    box = asking.locator(".stdin-input")
    box.wait_for(timeout=KERNEL_TIMEOUT_MS)
    run_cell_again(page, asking)  # as JupyterLab 4: refused, the input box stays
    expect(page.locator(".toast", has_text="waiting for input")).to_be_visible()
    expect(box).to_be_visible()
    expect(box).to_be_focused()
    other = page.locator(".cell").last
    other.locator(".cm-content").click()
    page.keyboard.insert_text("print('after', name)")
    page.keyboard.press("Control+Enter")  # another cell: refused too, not queued unseen behind input()
    expect(other.locator(".prompt")).to_have_text("[ ]:")
    box.fill("hello")
    box.press("Enter")
    wait_done(asking)
    expect(asking.locator(".stdin-value")).to_have_text("hello")
    run_cell_again(page, other)
    wait_done(other)
    expect(other.locator(".stream-output")).to_have_js_property("textContent", "after hello\n")
    assert not page.errors, page.errors


def test_interrupted_input_shows_only_the_users_code(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    asking = run_in_new_cell(page, 'answer = input("Your name? ")')
    asking.locator(".stdin-input").wait_for(timeout=KERNEL_TIMEOUT_MS)
    page.locator("button.interrupt").click()
    wait_done(asking)
    error = asking.locator(".error-output")
    expect(error).to_contain_text("KeyboardInterrupt: Interrupted by user")
    text = error.text_content()
    assert 'answer = input("Your name? ")' in text
    assert "salvus" not in text.lower() and "File /" not in text and ".py" not in text, text
    expect(asking.locator(".stdin-input")).to_have_count(0)  # the box is retired, not left waiting
    expect(asking.locator(".stdin-cancelled")).to_be_visible()
    # The kernel is free again: the next cell runs.
    after = run_in_new_cell(page, "print(6 * 7)")
    expect(after.locator(".stream-output")).to_have_js_property("textContent", "42\n", timeout=KERNEL_TIMEOUT_MS)


def test_interrupted_getpass_hides_server_paths_too(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    asking = run_in_new_cell(page, "import getpass\nsecret = getpass.getpass()")
    expect(asking.locator(".stdin-input[type=password]")).to_be_visible(timeout=KERNEL_TIMEOUT_MS)
    page.locator("button.interrupt").click()
    wait_done(asking)
    text = asking.locator(".error-output").text_content()
    assert "KeyboardInterrupt" in text and "getpass.getpass()" in text
    assert "salvus" not in text.lower() and "File /" not in text, text


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="red"/></svg>'
ATTACHMENTS = {
    "image.png": {"image/png": PNG_1PX},
    "my image.png": {"image/png": PNG_1PX},
    "100% & more #1.png": {"image/png": PNG_1PX},
    "Grafik ü 🙂.svg": {"image/svg+xml": SVG},
}
LINKS = [
    ("plain", "attachment:image.png"),
    ("spaces-encoded", "attachment:my%20image.png"),
    ("spaces-angle", "<attachment:my image.png>"),
    ("escapes", "attachment:100%25%20%26%20more%20%231.png"),
    ("unicode", "<attachment:Grafik ü 🙂.svg>"),
]


def test_markdown_attachments_render_and_are_kept(page: object, contents_client: Server, nb_path: str) -> None:
    source = "\n\n".join(f"![{alt}]({link})" for alt, link in LINKS)
    md = v4.new_markdown_cell(source, attachments=ATTACHMENTS)
    nb = v4.new_notebook(cells=[md, v4.new_code_cell("1")])
    before = put_notebook(contents_client, nb_path, nb)
    open_notebook(page, contents_client, nb_path)
    for alt, _ in LINKS:
        img = page.locator(f".markdown-rendered img[alt='{alt}']")
        expect(img).to_have_attribute("src", re.compile(r"^data:image/"))
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    # Editing the cell and rendering it again keeps them; so does saving.
    page.locator(".markdown-rendered").dblclick()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("\n\nEdited.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".markdown-rendered", has_text="Edited.").locator("img")).to_have_count(len(LINKS))
    after = add_cell_and_save(page, contents_client, nb_path, before)
    cell = json.loads(after)["cells"][0]
    assert cell["attachments"] == json.loads(before)["cells"][0]["attachments"]
    assert not page.errors, page.errors


def test_scratch_box_refuses_to_run_while_input_waits(page: object, client: Server) -> None:
    from .conftest import signin, wait_idle

    signin(page, client)
    wait_idle(page)
    page.locator(".scratch-input .cm-content").click()
    page.keyboard.insert_text('said = input("Say something: ")')
    page.keyboard.press("Shift+Enter")
    box = page.locator(".scratch-entry").last.locator(".stdin-input")
    box.wait_for(timeout=KERNEL_TIMEOUT_MS)
    page.locator(".scratch-input .cm-content").click()
    page.keyboard.insert_text("said")
    page.keyboard.press("Shift+Enter")
    expect(page.locator(".toast", has_text="waiting for input")).to_be_visible()
    expect(page.locator(".scratch-entry")).to_have_count(1)  # nothing queued unseen behind the input()
    expect(box).to_be_focused()
    box.fill("hi")
    box.press("Enter")
    page.wait_for_selector(".kernel-status[data-status=idle]", timeout=KERNEL_TIMEOUT_MS)
    page.locator(".scratch-input .cm-content").click()
    page.keyboard.press("Shift+Enter")  # the code is still in the box: it runs now
    expect(page.locator(".scratch-entry").last.locator(".output-area")).to_contain_text("'hi'",
                                                                                       timeout=KERNEL_TIMEOUT_MS)
