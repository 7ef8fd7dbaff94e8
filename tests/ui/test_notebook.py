"""Notebooks in the browser: plots, @interact, inert untrusted HTML, saving, keyboard editing."""

from __future__ import annotations

import json
import re
import uuid

import nbformat
import pytest
from playwright.sync_api import expect

from tests.conftest import Server, wait_for

from .conftest import KERNEL_TIMEOUT_MS, new_notebook_path, open_notebook, run_in_new_cell, wait_done


@pytest.fixture
def nb_path(contents_client: Server) -> str:
    """A fresh notebook path, deleted afterwards."""
    path = new_notebook_path()
    yield path
    contents_client.delete(f"/api/contents/{path}")


def saved(client: Server, path: str) -> dict:
    """The notebook as the server stored it."""
    r = client.get(f"/api/contents/{path}")
    assert r.status_code == 200, r.text
    return r.json()["content"]


def test_plot_shows_svg(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    cell = run_in_new_cell(page, "plot(sin(x), (x, 0, 6))")
    img = cell.locator("img.svg-output")
    img.wait_for(timeout=KERNEL_TIMEOUT_MS)
    assert img.get_attribute("src").startswith("data:image/svg+xml")
    wait_for(lambda: img.evaluate("el => el.complete && el.naturalWidth > 0"), what="the SVG to be decoded")


def test_interact_slider_changes_output(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    cell = run_in_new_cell(page, "@interact\ndef f(n=slider(1, 10, 1, default=3)):\n    print('square', n^2)")
    cell.locator(".widget-output", has_text="square 9").wait_for(timeout=KERNEL_TIMEOUT_MS)
    slider = cell.locator("input.widget-slider")
    slider.focus()
    page.keyboard.press("ArrowRight")
    cell.locator(".widget-output", has_text="square 16").wait_for(timeout=KERNEL_TIMEOUT_MS)
    expect(cell.locator(".widget-readout")).to_have_text("4")


def test_untrusted_html_stays_inert(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    html = ("<b id=ok>bold</b><img src=x onerror=\"window.pwned=1;alert(1)\">"
            "<script>window.pwned=2;alert(2)</script><a href=\"javascript:window.pwned=3\">link</a>"
            "<iframe srcdoc=\"<script>parent.pwned=4</script>\"></iframe>"
            "<form action=\"https://evil.example\"><button>go</button></form>")
    cell = run_in_new_cell(page, f"from IPython.display import HTML, display\ndisplay(HTML({html!r}))")
    out = cell.locator(".html-output")
    out.locator("#ok").wait_for(timeout=KERNEL_TIMEOUT_MS)
    # Poll from Python: a string passed to wait_for_function is eval'd in the page, which the page's CSP forbids.
    image = page.locator(".html-output img").first
    image.wait_for(state="attached")
    wait_for(lambda: image.evaluate("img => img.complete"), what="the untrusted image to finish loading")
    page.locator(".html-output a").click()
    assert page.evaluate("window.pwned") is None
    assert not page.dialogs
    assert out.locator("script, iframe, form, [onerror]").count() == 0
    assert (out.locator("a").get_attribute("href") or "").startswith("javascript:") is False


def test_saved_in_jupyter_shapes_and_reload_shows_it(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    cell = run_in_new_cell(page, "print('hello'); 6*7")
    wait_done(cell)
    page.keyboard.press("Escape")
    page.keyboard.press("m")
    page.keyboard.press("Enter")
    page.keyboard.insert_text("# Notes\nEuler: $e^{i\\pi} + 1 = 0$")
    page.keyboard.press("Shift+Enter")
    page.locator(".markdown-rendered .katex").first.wait_for()
    page.locator(".save-state[data-state=saved]").wait_for()
    nb = nbformat.from_dict(saved(contents_client, nb_path))
    nbformat.validate(nb)  # JupyterLab can open it
    code, md = nb.cells[0], nb.cells[1]
    assert code.outputs[0] == {"output_type": "stream", "name": "stdout", "text": "hello\n"}
    assert code.outputs[1]["output_type"] == "execute_result"
    assert code.outputs[1]["data"]["text/plain"] == "42" and code.execution_count == code.outputs[1]["execution_count"]
    assert md.cell_type == "markdown" and md.source.startswith("# Notes")
    page.reload()
    page.locator(".cell .output-area", has_text="42").wait_for()
    page.locator(".markdown-rendered h1", has_text="Notes").wait_for()


def test_unsaved_edit_survives_immediate_reload(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    page.locator(".cell .cm-content").first.click()
    page.keyboard.insert_text("x_unsaved = 1")
    page.reload()  # before the autosave had time to run
    page.locator(".cell .cm-content", has_text="x_unsaved = 1").wait_for()
    page.locator(".save-state[data-state=saved]").wait_for()
    assert "x_unsaved = 1" in json.dumps(saved(contents_client, nb_path))


def test_command_mode_keys(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    page.locator(".cell .cm-content").first.click()
    page.keyboard.insert_text("first")
    page.keyboard.press("Escape")
    cells = page.locator(".cell")
    # expect() waits for the page to catch up with each key (the client renders asynchronously).
    page.keyboard.press("b")
    page.keyboard.press("a")
    expect(cells).to_have_count(3)
    page.keyboard.press("d")
    page.keyboard.press("d")
    expect(cells).to_have_count(2)
    page.keyboard.press("z")
    expect(cells).to_have_count(3)
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("c")
    page.keyboard.press("j")
    page.keyboard.press("v")
    expect(cells).to_have_count(4)
    expect(cells.nth(2).locator(".cm-content")).to_have_text("first")
    page.keyboard.press("m")
    expect(cells.nth(2)).to_have_class(re.compile(r"\bmarkdown-cell\b"))
    page.keyboard.press("y")
    expect(cells.nth(2)).to_have_class(re.compile(r"\bcode-cell\b"))
    page.keyboard.press("x")
    expect(cells).to_have_count(3)
    page.keyboard.press("Enter")
    page.keyboard.insert_text("1+1")
    page.keyboard.press("Control+Enter")
    cells.nth(2).locator(".output-area", has_text="2").wait_for(timeout=KERNEL_TIMEOUT_MS)
    assert not page.errors


def test_input_prompt_completion_and_help(page: object, contents_client: Server, nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    cell = run_in_new_cell(page, "variable_for_completion = 1\nname = input('Your name? ')\nprint('hello', name)")
    cell.locator(".stdin-input").fill("Ada")
    cell.locator(".stdin-input").press("Enter")
    cell.locator(".output-area", has_text="hello Ada").wait_for(timeout=KERNEL_TIMEOUT_MS)
    cell = page.locator(".cell").last
    cell.locator(".cm-content").click()
    page.keyboard.insert_text("variable_for_compl")
    page.keyboard.press("Tab")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="variable_for_completion")
    option.wait_for(timeout=KERNEL_TIMEOUT_MS)
    page.keyboard.press("Enter")
    expect(cell.locator(".cm-content")).to_have_text("variable_for_completion")
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    run_in_new_cell(page, "factor?")  # the pager payload opens the help panel
    page.locator(".help-panel .help-body", has_text="Signature").wait_for(timeout=KERNEL_TIMEOUT_MS)
    page.locator(".help-panel button[title^=Close]").click()
    assert page.locator(".help-panel").is_hidden()


PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def jupyterlab_notebook() -> nbformat.NotebookNode:
    """A notebook as JupyterLab writes one: every common output type, math, a kernelspec of its own."""
    v4 = nbformat.v4
    nb = v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python", "version": "3.11.7"},
    })
    nb.cells = [
        v4.new_markdown_cell("## From JupyterLab\nThe identity $e^{i\\pi} + 1 = 0$ holds."),
        v4.new_code_cell("print('streamed')\n{'a': 1}", execution_count=3, outputs=[
            v4.new_output("stream", name="stdout", text="streamed\n"),
            v4.new_output("execute_result", execution_count=3,
                          data={"text/plain": "{'a': 1}", "text/html": "<table class='lab-table'><tr><td>cell-a</td></tr></table>"}),
        ]),
        v4.new_code_cell("display(Image(...))", execution_count=4, outputs=[
            v4.new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "<IPython.core.display.Image object>"}),
        ]),
        v4.new_code_cell("1/0", execution_count=5, outputs=[
            v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                          traceback=["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"]),
        ]),
    ]
    nbformat.validate(nb)
    return nb


def test_a_jupyterlab_notebook_opens_with_its_outputs(page: object, contents_client: Server, nb_path: str) -> None:
    r = contents_client.put(f"/api/contents/{nb_path}", json={"type": "notebook", "content": jupyterlab_notebook()})
    assert r.status_code == 201, r.text
    open_notebook(page, contents_client, nb_path)
    page.locator(".markdown-rendered .katex").first.wait_for()
    page.locator(".output-area", has_text="streamed").wait_for()
    page.locator(".output-area td", has_text="cell-a").wait_for()  # HTML output, sanitized but shown
    expect(page.locator("img.image-output[src^='data:image/png;base64,']")).to_have_count(1)
    page.locator(".output-area", has_text="ZeroDivisionError").wait_for()
    expect(page.locator(".cell .prompt", has_text="[3]")).to_have_count(1)  # execution counts kept
    # Saving it back keeps every output in Jupyter's shapes (JupyterLab opens it again).
    page.locator(".cell .cm-content").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new cell below, as in JupyterLab
    page.keyboard.press("Enter")
    page.keyboard.insert_text("1 + 1")
    page.keyboard.press("Shift+Enter")
    wait_done(page.locator(".cell").nth(4))
    page.locator(".save-state[data-state=saved]").wait_for()
    nb = nbformat.from_dict(saved(contents_client, nb_path))
    nbformat.validate(nb)
    original = jupyterlab_notebook()
    for before, after in zip(original.cells, nb.cells):
        assert after.source == before.source
        if before.cell_type == "code":
            assert after.outputs == before.outputs and after.execution_count == before.execution_count


def test_a_trusted_flag_in_the_file_runs_no_script(page: object, contents_client: Server, nb_path: str) -> None:
    # Trust is read from the notebook's own metadata, which whoever wrote the file controls (a collaborator,
    # a student's submission, a synced or downloaded notebook): its HTML must still not run scripts here.
    gadget = f"gadget-{uuid.uuid4().hex[:6]}.js"
    r = contents_client.put(f"/api/contents/{gadget}", json={"type": "file", "format": "text",
                                                                "content": "top.pwned = 'gadget'"})
    assert r.status_code == 201, r.text
    slug = contents_client.post("/api/shares", json={"path": gadget}).json()["slug"]
    frame = f'<iframe srcdoc="<script src=&quot;/api/shares/{slug}/raw/&quot;></script>"></iframe>'
    nb = nbformat.v4.new_notebook(metadata={"salvus": {"trusted": True}}, cells=[
        nbformat.v4.new_markdown_cell(f"# Homework\n\n{frame}"),
        nbformat.v4.new_code_cell("1", execution_count=1, outputs=[nbformat.v4.new_output(
            "display_data", data={"text/html": f"<b id=ok>ok</b>{frame}", "text/plain": "x"})])])
    r = contents_client.put(f"/api/contents/{nb_path}", json={"type": "notebook", "content": nb})
    assert r.status_code in (200, 201), r.text
    open_notebook(page, contents_client, nb_path)
    page.locator(".markdown-rendered h1", has_text="Homework").wait_for()
    page.locator(".html-output #ok").wait_for()
    # The gadget itself is inert now; an iframe left in place would still show it had been let through.
    assert page.locator(".cell iframe").count() == 0
    assert page.evaluate("window.pwned") is None
    contents_client.delete(f"/api/contents/{gadget}")
