"""embed.js in real Chromium: a page served from another port gets live cells, with interacts; others are refused."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import Server, free_port

from .conftest import KERNEL_TIMEOUT_MS

PYTHON_ONLY = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python"}
SHOTS = os.environ.get("SALVUS_SCREENSHOTS")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>A course page</title>
<style>body {{ font-family: Georgia, serif; max-width: 760px; margin: 2em auto; padding: 0 12px; }}</style>
</head><body>
<h1>Lecture notes</h1>
<p>Try it:</p>
<div class="salvus-cell" data-kernel="python">print(6*7)
'abc'.upper()</div>
<p>An interact:</p>
<div class="salvus-cell" data-kernel="python">from ipywidgets import interact
@interact(n=(1, 10))
def square(n=3):
    print(n, "squared is", n * n)</div>
<script src="http://127.0.0.1:{port}/embed.js"></script>
</body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture(scope="module", params=["single-user", "root-multi-user"])
def site(request, tmp_path_factory) -> Iterator[tuple[Server, str, str]]:
    """A salvus-local allowing one origin; a page on that origin and the same page on a port it does not allow.

    Also a root multi-user server, where every session runs as a uid of its own (finding 10: embedding
    with isolation on)."""
    if request.param == "root-multi-user" and os.geteuid() != 0:
        pytest.skip("a uid per session needs a root server")
    allowed, other = free_port(), free_port()
    mode = ("--multi-user",) if request.param == "root-multi-user" else ()
    srv = Server(*mode, "--embed-origins", f"http://127.0.0.1:{allowed}", env=PYTHON_ONLY)
    folder = tmp_path_factory.mktemp("site")
    (folder / "index.html").write_text(PAGE.format(port=srv.port))
    servers = [_serve(folder, allowed), _serve(folder, other)]
    yield srv, f"http://127.0.0.1:{allowed}/index.html", f"http://127.0.0.1:{other}/index.html"
    for httpd in servers:
        httpd.shutdown()
    srv.stop()


def test_embedded_cells_run_and_interacts_work(browser: object, site: tuple[Server, str, str]) -> None:
    srv, url, _ = site
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    cells = page.locator(".salvus-embed")
    expect(cells).to_have_count(2)
    first = cells.nth(0)
    # Editable: change the code before running it.
    first.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("\nprint('edited')")
    first.locator("button.salvus-run").click()
    expect(first.locator(".output-area")).to_contain_text("42", timeout=KERNEL_TIMEOUT_MS)
    expect(first.locator(".output-area")).to_contain_text("edited")
    second = cells.nth(1)
    second.locator("button.salvus-run").click()
    expect(second.locator(".output-area").first).to_contain_text("3 squared is 9", timeout=KERNEL_TIMEOUT_MS)
    slider = second.locator("input[type=range]")
    slider.focus()
    page.keyboard.press("ArrowRight")
    expect(second.locator(".output-area").first).to_contain_text("4 squared is 16", timeout=KERNEL_TIMEOUT_MS)
    # Both cells share one anonymous session of the page, which the server lists as a kernel.
    if "--multi-user" not in srv.proc.args:
        assert len([k for k in srv.get("/api/kernels").json()]) == 1
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/embed-desktop.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=f"{SHOTS}/embed-phone.png", full_page=True)
    assert not errors
    page.close()


def test_a_page_on_another_origin_cannot_run(browser: object, site: tuple[Server, str, str]) -> None:
    _, _, url = site
    page = browser.new_page()
    page.goto(url)
    cell = page.locator(".salvus-embed").first
    cell.locator("button.salvus-run").click()
    expect(cell.locator(".salvus-status")).to_contain_text("Cannot run")
    expect(cell.locator(".output-area")).to_be_empty()
    page.close()
