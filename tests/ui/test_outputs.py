"""Outputs in the browser: stored outputs are never rewritten; stream text shows as a terminal would.

Examples come from public bug reports of Jupyter, JupyterLab and tqdm users (issue 8): progress
lines with "\\r", pip's and Windows tools' "\\r\\n", `!cmd` through a pty, inverse video.
"""

from __future__ import annotations

import json
import random
import re

import nbformat
import pytest
from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import KERNEL_TIMEOUT_MS, new_notebook_path, open_notebook, run_in_new_cell, wait_done

v4 = nbformat.v4


@pytest.fixture
def nb_path(contents_client: Server) -> str:
    """A fresh notebook path, deleted afterwards."""
    path = new_notebook_path()
    yield path
    contents_client.delete(f"/api/contents/{path}")


def put_notebook(client: Server, path: str, nb: nbformat.NotebookNode) -> bytes:
    """Store a notebook as JupyterLab would (nbformat's writer: text split into lines); return the file's bytes."""
    nbformat.validate(nb)
    r = client.put(f"/api/contents/{path}", json={"type": "notebook", "content": nb})
    assert r.status_code in (200, 201), r.text
    return file_bytes(client, path)


def file_bytes(client: Server, path: str) -> bytes:
    """The notebook file exactly as it is on disk (the raw file handler)."""
    r = client.get(f"/api/contents/{path}", params={"type": "file", "format": "text"})
    assert r.status_code == 200, r.text
    return r.json()["content"].encode()


def outputs_by_cell(raw: bytes, ids: object = None) -> dict[str, str]:
    """cell id -> the JSON text of its outputs, as stored in the file (only the cells in ids, if given)."""
    return {c["id"]: json.dumps(c.get("outputs"), ensure_ascii=False, sort_keys=True)
            for c in json.loads(raw)["cells"] if c["cell_type"] == "code" and (ids is None or c["id"] in ids)}


def add_cell_and_save(page: object, client: Server, path: str, before: bytes) -> bytes:
    """In the page: add a cell below the first, type into it, and wait until the file changed."""
    page.locator(".cell").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text("# added in the browser")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    expect(page.locator(".save-state[data-state=saved]")).to_be_visible(timeout=KERNEL_TIMEOUT_MS)
    raw = file_bytes(client, path)
    assert raw != before and b"added in the browser" in raw
    return raw


# --- 1. display processing never changes stored data ----------------------------------------

PIECES = ["a", "xyz", "Progress 10%", " ", "\n", "\n", "\r", "\r\n", "\b", "\t", "\x1b[31m", "\x1b[0m", "\x1b[7m",
          "\x1b[27m", "\x1b[1;4m", "\x1b[38;5;200m", "\x1b[48;2;1;2;3m", "\x1b[K", "\x1b[2A", "\x1b]0;title\x07",
          "é", "日本語", "🙂", "\u2028", "\x0c", "100%|██████████|", "<b>not html</b>", "$x$"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25)))


def random_notebook(rng: random.Random) -> nbformat.NotebookNode:
    """A valid notebook whose outputs hold every control character a stream can carry."""
    cells = [v4.new_markdown_cell("# " + random_text(rng).replace("\x1b", ""))]
    for n in range(rng.randint(2, 4)):
        outputs = []
        for _ in range(rng.randint(1, 5)):
            kind = rng.choice(["stream", "stream", "stream", "display", "error", "result"])
            if kind == "stream":  # consecutive streams of one name are kept as separate outputs
                outputs.append(v4.new_output("stream", name=rng.choice(["stdout", "stderr"]), text=random_text(rng)))
            elif kind == "display":
                outputs.append(v4.new_output("display_data", data={"text/plain": random_text(rng)}))
            elif kind == "error":
                outputs.append(v4.new_output("error", ename="ValueError", evalue=random_text(rng),
                                             traceback=[random_text(rng) for _ in range(rng.randint(1, 3))]))
            else:
                outputs.append(v4.new_output("execute_result", execution_count=n + 1, data={
                    "text/plain": random_text(rng), "application/json": [random_text(rng), 1]}))
        cells.append(v4.new_code_cell(f"cell_{n}()", execution_count=n + 1, outputs=outputs))
    return v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}})


def test_issue_examples_survive_open_edit_save_and_render_as_a_terminal(page: object, contents_client: Server,
                                                                         nb_path: str) -> None:
    nb = v4.new_notebook(cells=[
        v4.new_code_cell("!pip install x", execution_count=1, outputs=[v4.new_output(
            "stream", name="stdout", text=["Installing\n", "Progress 10%\r", "Progress 100%\n", "ok\n"])]),
        v4.new_code_cell("!dir", execution_count=2, outputs=[v4.new_output(
            "stream", name="stdout", text=["line one\r\n", "line two\r\n"])]),
    ])
    before = put_notebook(contents_client, nb_path, nb)
    open_notebook(page, contents_client, nb_path)
    streams = page.locator(".stream-output")
    expect(streams.nth(0)).to_have_js_property("textContent", "Installing\nProgress 100%\nok\n")
    expect(streams.nth(1)).to_have_js_property("textContent", "line one\nline two\n")
    after = add_cell_and_save(page, contents_client, nb_path, before)
    assert outputs_by_cell(after, outputs_by_cell(before)) == outputs_by_cell(before)
    assert '"Progress 10%\\r"' in after.decode()  # the stored text still holds what the program wrote


def test_random_notebooks_keep_every_output_byte_for_byte(page: object, contents_client: Server) -> None:
    rng = random.Random(8)  # seeded: a failure replays; bounded: 6 notebooks
    for example in range(6):
        path = new_notebook_path()
        before = put_notebook(contents_client, path, random_notebook(rng))
        try:
            open_notebook(page, contents_client, path)
            after = add_cell_and_save(page, contents_client, path, before)
            assert outputs_by_cell(after, outputs_by_cell(before)) == outputs_by_cell(before), f"example {example} changed"
            assert not page.errors, page.errors
        finally:
            contents_client.delete(f"/api/contents/{path}")


def test_consecutive_streams_render_as_one_terminal(page: object, contents_client: Server, nb_path: str) -> None:
    # Two stored outputs: the second's "\r" returns to the start of the line the first began.
    nb = v4.new_notebook(cells=[v4.new_code_cell("x", execution_count=1, outputs=[
        v4.new_output("stream", name="stdout", text="  0%"),
        v4.new_output("stream", name="stdout", text="\r 50%\r100%\ndone\b\b\b\bDONE\n"),
        v4.new_output("stream", name="stderr", text="warn\n"),
    ])])
    before = put_notebook(contents_client, nb_path, nb)
    open_notebook(page, contents_client, nb_path)
    expect(page.locator(".stream-output.stdout")).to_have_js_property("textContent", "100%\nDONE\n")
    expect(page.locator(".stream-output.stderr")).to_have_js_property("textContent", "warn\n")
    after = add_cell_and_save(page, contents_client, nb_path, before)
    assert outputs_by_cell(after, outputs_by_cell(before)) == outputs_by_cell(before)


def test_every_sgr_attribute_renders(page: object, contents_client: Server, nb_path: str) -> None:
    text = ("\x1b[7mINV\x1b[27m plain \x1b[1mBOLD\x1b[22m \x1b[2mDIM\x1b[22m \x1b[3mITAL\x1b[23m "
            "\x1b[4mUNDER\x1b[24m \x1b[31mRED\x1b[39m \x1b[92mBRIGHT\x1b[0m \x1b[38;5;208mC256\x1b[39m "
            "\x1b[38;2;10;20;30mTRUE\x1b[0m \x1b[31;7mREDINV\x1b[0m\n")
    nb = v4.new_notebook(cells=[v4.new_code_cell("x", execution_count=1, outputs=[
        v4.new_output("stream", name="stdout", text=text)])])
    put_notebook(contents_client, nb_path, nb)
    open_notebook(page, contents_client, nb_path)
    out = page.locator(".stream-output")
    expect(out).to_have_js_property("textContent", "INV plain BOLD DIM ITAL UNDER RED BRIGHT C256 TRUE REDINV\n")
    style = "(el, p) => getComputedStyle(el)[p]"
    inv = out.locator("span", has_text="INV").first
    assert inv.evaluate(style, "backgroundColor") == "rgb(28, 35, 48)"  # the page's ink behind…
    assert inv.evaluate(style, "color") == "rgb(255, 255, 255)"  # …and its paper as letters
    assert out.locator("span", has_text="BOLD").evaluate(style, "fontWeight") == "700"
    assert float(out.locator("span", has_text="DIM").evaluate(style, "opacity")) < 1
    assert out.locator("span", has_text="ITAL").evaluate(style, "fontStyle") == "italic"
    assert "underline" in out.locator("span", has_text="UNDER").evaluate(style, "textDecorationLine")
    assert out.locator("span", has_text="RED").first.evaluate(style, "color") == "rgb(192, 57, 43)"
    assert out.locator("span", has_text="BRIGHT").evaluate(style, "color") == "rgb(39, 174, 96)"
    assert out.locator("span", has_text="C256").evaluate(style, "color") == "rgb(255, 135, 0)"
    assert out.locator("span", has_text="TRUE").evaluate(style, "color") == "rgb(10, 20, 30)"
    red_inv = out.locator("span", has_text="REDINV")
    assert red_inv.evaluate(style, "backgroundColor") == "rgb(192, 57, 43)"


# --- 2. terminal semantics for output a kernel sends now -------------------------------------

def stream_text(cell: object, expected: str, name: str = "stdout") -> None:
    expect(cell.locator(f".stream-output.{name}")).to_have_js_property("textContent", expected,
                                                                      timeout=KERNEL_TIMEOUT_MS)


def test_carriage_return_backspace_and_pty_lines_from_a_kernel(page: object, contents_client: Server,
                                                                nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    stream_text(run_in_new_cell(page, 'print("a\\rb")'), "b\n")
    counter = run_in_new_cell(page, 'import time\nfor i in range(6): time.sleep(float(0.05)); print("\\r", i, end="")')
    wait_done(counter)
    stream_text(counter, " 5")
    bar = run_in_new_cell(page, (
        "import sys, time\n"
        "for i in range(0, 101, 20):\n"
        "    sys.stderr.write('\\rLoading: %3d%%|%-10s| %d/100 [00:0%d<00:00, 9.5it/s]' % (i, '█' * (i // 10), i, i // 20))\n"
        "    sys.stderr.flush(); time.sleep(float(0.05))\n"
        "sys.stderr.write('\\n')\n"))
    wait_done(bar)
    stream_text(bar, "Loading: 100%|██████████| 100/100 [00:05<00:00, 9.5it/s]\n", "stderr")
    pty = run_in_new_cell(page, "!printf 'one\\ntwo\\nthree\\nfour\\n' | head -3")
    wait_done(pty)
    stream_text(pty, "one\ntwo\nthree\n")  # a pty ends lines with \r\n: no blank lines between them
    colours = run_in_new_cell(page, 'print("\\x1b[7mINVERSE\\x1b[27m \\x1b[1;38;5;208mhot\\x1b[0m")')
    stream_text(colours, "INVERSE hot\n")
    assert colours.locator("span.ansi-inverse", has_text="INVERSE").count() == 1
    assert colours.locator("span.ansi-bold", has_text="hot").evaluate("el => el.style.color") == "rgb(255, 135, 0)"
    # What the kernel sent is what is saved (merged per stream, as JupyterLab does), not what is shown.
    page.keyboard.press("Control+s")
    expect(page.locator(".save-state[data-state=saved]")).to_be_visible()
    cells = json.loads(file_bytes(contents_client, nb_path))["cells"]
    texts = ["".join(o["text"]) for c in cells if c["cell_type"] == "code" for o in c["outputs"] if o.get("name")]
    assert "a\rb\n" in texts and "\r 0\r 1\r 2\r 3\r 4\r 5" in texts
    assert any(t.startswith("one\r\ntwo\r\n") for t in texts)
    assert not page.errors, page.errors


# --- 3. a runaway cell cannot freeze the page -------------------------------------------------

def test_runaway_output_keeps_the_page_usable_and_the_file_small(page: object, contents_client: Server,
                                                                  nb_path: str) -> None:
    open_notebook(page, contents_client, nb_path)
    cell = run_in_new_cell(page, "while True: print(1)")
    notice = cell.locator(".output-truncated")
    expect(notice).to_contain_text("lines hidden", timeout=KERNEL_TIMEOUT_MS)
    page.locator("button.interrupt").click()
    wait_done(cell)
    expect(cell.locator(".error-output")).to_contain_text("KeyboardInterrupt")
    shown = cell.locator(".stream-output.stdout").evaluate("el => el.textContent.split('\\n').length")
    assert shown <= 2100  # at most 2,000 lines in the page, plus the notice
    with page.expect_download() as download:
        notice.locator("button", has_text="download").click()
    with open(download.value.path(), encoding="utf-8") as f:
        full = f.read()
    assert full.count("1\n") > 2000  # the whole output is still one click away…
    notice.locator("button", has_text="show").click()  # …and so is every line in the page
    expect(cell.locator(".stream-output.stdout")).not_to_contain_text("lines hidden")
    assert cell.locator(".stream-output.stdout").evaluate("el => el.textContent.split('\\n').length") > 2000
    page.keyboard.press("Control+s")
    expect(page.locator(".save-state[data-state=saved]")).to_be_visible()
    raw = file_bytes(contents_client, nb_path)
    assert len(raw) < 60_000, len(raw)  # 2,000 lines (at most 100,000 characters) kept per output
    stdout = next(o for c in json.loads(raw)["cells"] for o in c.get("outputs", []) if o.get("name") == "stdout")
    text = "".join(stdout["text"])
    assert "[output truncated:" in text and "not saved in the notebook]" in text
    assert text.startswith("1\n1\n") and text.rstrip("\n").endswith("1")
    # The page still answers: run another cell after the flood.
    stream_text(run_in_new_cell(page, "print('still here')"), "still here\n")


def jupyterlab4_notebook() -> nbformat.NotebookNode:
    """A notebook as JupyterLab 4 writes one: cell ids, cell metadata, attachments, widget state, \\r outputs."""
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    md = v4.new_markdown_cell("![plot](attachment:plot%201.png)\n\n$\\int_0^1 x\\,dx$",
                              attachments={"plot 1.png": {"image/png": png}}, metadata={"tags": ["intro"]})
    code = v4.new_code_cell("for i in trange(3): pass", execution_count=7, metadata={
        "scrolled": True, "collapsed": False, "jupyter": {"source_hidden": False},
        "execution": {"iopub.execute_input": "2024-05-01T10:00:00.000001Z", "shell.execute_reply": "2024-05-01T10:00:01Z"}},
        outputs=[
            v4.new_output("stream", name="stderr", text="  0%|          | 0/3 [00:00<?, ?it/s]\r"
                          "100%|██████████| 3/3 [00:00<00:00, 2990.24it/s]\n"),
            v4.new_output("stream", name="stdout", text=["line one\r\n", "line two\r\n"]),
            v4.new_output("display_data", data={"text/plain": "IntSlider(value=3)",
                                                "application/vnd.jupyter.widget-view+json": {
                                                    "model_id": "0123abcd", "version_major": 2, "version_minor": 0}},
                          metadata={}),
            v4.new_output("execute_result", execution_count=7, data={
                "text/plain": "\x1b[1m<b>bold</b>\x1b[0m", "application/json": {"a": [1, 2]}}, metadata={"isolated": True}),
        ])
    raw = v4.new_raw_cell("\\begin{x}\r\n", metadata={"raw_mimetype": "text/latex"})
    return v4.new_notebook(cells=[md, code, raw], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python", "version": "3.12.2", "mimetype": "text/x-python",
                          "codemirror_mode": {"name": "ipython", "version": 3}},
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2, "version_minor": 0}},
    })


def test_a_jupyterlab4_notebook_round_trips_unchanged(page: object, contents_client: Server, nb_path: str) -> None:
    before = put_notebook(contents_client, nb_path, jupyterlab4_notebook())
    open_notebook(page, contents_client, nb_path)
    expect(page.locator(".markdown-rendered img[alt=plot]")).to_have_attribute("src", re.compile("^data:image/png"))
    expect(page.locator(".stream-output.stderr")).to_have_js_property(
        "textContent", "100%|██████████| 3/3 [00:00<00:00, 2990.24it/s]\n")
    after = add_cell_and_save(page, contents_client, nb_path, before)
    old, new = json.loads(before), json.loads(after)
    kept = [c for c in new["cells"] if c["id"] in {o["id"] for o in old["cells"]}]
    assert kept == old["cells"]  # every cell as it was: source, ids, metadata, attachments, outputs
    assert new["metadata"] == old["metadata"] and new["nbformat_minor"] == old["nbformat_minor"]
    assert not page.errors, page.errors
