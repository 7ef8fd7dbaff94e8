"""Phones (390×844, touch): no sideways page scroll, readable text, a Run button within reach,
and the cell being edited stays above the on-screen keyboard (simulated by the layout viewport
shrinking, which is what `interactive-widget=resizes-content` makes Chrome do)."""

from __future__ import annotations

import nbformat
import pytest
from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import KERNEL_TIMEOUT_MS, new_notebook_path, signin, wait_idle
from .workspace_helpers import mkdir, put_text, unique

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def phone(browser: object, client: Server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def no_sideways_scroll(page: object) -> None:
    width, inner = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner, f"the page scrolls sideways: {width} > {inner}"


def min_font_px(page: object, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")


def test_starter_page_on_a_phone(phone: object, client: Server) -> None:
    signin(phone, client)
    wait_idle(phone)
    phone.locator(".scratch-input .cm-content").tap()
    phone.keyboard.insert_text("factor(2^64 - 1) * 123456789123456789123456789")
    run = phone.locator(".run-button")
    expect(run).to_be_in_viewport()
    assert run.bounding_box()["height"] >= 40
    run.tap()
    expect(phone.locator(".scratch-entry .output-area").last).to_contain_text("6700417", timeout=KERNEL_TIMEOUT_MS)
    no_sideways_scroll(phone)
    assert min_font_px(phone, ".scratch-input .cm-content") >= 13
    assert not phone.errors


def test_notebook_on_a_phone_run_button_and_keyboard(phone: object, contents_client: Server) -> None:
    path = new_notebook_path()
    cells = [nbformat.v4.new_code_cell(f"# cell {i}\n{i} + 1") for i in range(24)]
    long_line = "x = " + " + ".join(str(10**12 + i) for i in range(30))
    cells.append(nbformat.v4.new_code_cell(long_line))
    contents_client.put(f"/api/contents/{path}", json={"type": "notebook", "content": nbformat.v4.new_notebook(cells=cells)})
    try:
        signin(phone, contents_client, f"/notebooks/{path}")
        wait_idle(phone)
        no_sideways_scroll(phone)  # long code lines wrap; the toolbar scrolls within itself
        run = phone.locator(".phone-run")
        expect(run).to_be_visible()
        box = run.bounding_box()
        assert box["y"] + box["height"] <= 844 and box["y"] > 844 / 2, box  # in the thumb's half
        assert box["height"] >= 44 and box["width"] >= 44
        # Edit a cell low on the screen, then the keyboard comes up (the layout viewport shrinks).
        target = phone.locator(".cell").nth(6)
        target.scroll_into_view_if_needed()
        target.locator(".cm-content").tap()
        phone.wait_for_function("() => document.activeElement && document.activeElement.closest('.cell')")
        active = "document.activeElement.closest('.cell')"
        # Put the cell near the bottom of the tall screen, where a keyboard would cover it.
        phone.evaluate(f"() => {active}.scrollIntoView({{block: 'end'}})")
        phone.set_viewport_size({"width": 390, "height": 420})
        phone.wait_for_function(
            f"() => {{ const r = {active}.querySelector('.cm-activeLine, .cm-content').getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= innerHeight - 56; }")
        expect(run).to_be_in_viewport()
        # Tapping Run runs the cell being edited.
        run.tap()
        expect(phone.locator(".cell").nth(6).locator(".output-area")).to_have_text("7", timeout=KERNEL_TIMEOUT_MS)
        phone.set_viewport_size(PHONE["viewport"])
        no_sideways_scroll(phone)
        assert not phone.errors
    finally:
        contents_client.delete(f"/api/contents/{path}")


def test_files_and_editor_on_a_phone(phone: object, contents_client: Server) -> None:
    folder = unique("phone")
    mkdir(contents_client, folder)
    put_text(contents_client, f"{folder}/a file with a rather long name for a small screen.txt", "hello\n" * 3)
    put_text(contents_client, f"{folder}/notes.md", "# Notes\n" + "a long line of text " * 20 + "\n")
    signin(phone, contents_client, f"/files/{folder}/")
    link = phone.locator(".file-link", has_text="notes.md")
    expect(link).to_be_visible()
    no_sideways_scroll(phone)
    row = phone.locator("tr.file-row").first.bounding_box()
    assert row["height"] >= 40  # rows a finger can hit
    link.tap()
    phone.wait_for_url(f"**/edit/{folder}/notes.md")
    editor = phone.locator(".text-editor .cm-content")
    expect(editor).to_contain_text("a long line of text")
    no_sideways_scroll(phone)
    assert min_font_px(phone, ".text-editor .cm-content") >= 13
    expect(phone.get_by_role("button", name="Save")).to_be_in_viewport()
    assert not phone.errors
