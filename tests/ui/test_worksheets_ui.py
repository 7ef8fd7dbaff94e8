"""Opening an old worksheet from the file browser imports it and opens the notebook."""

from __future__ import annotations

import base64
import re

from playwright.sync_api import expect

from tests.conftest import Server
from tests.worksheets.samples import sagews_text, sws_bytes

from .conftest import signin
from .workspace_helpers import mkdir, unique


def put_bytes(client: Server, path: str, data: bytes) -> None:
    r = client.put(f"/api/contents/{path}", json={"type": "file", "format": "base64",
                                                  "content": base64.b64encode(data).decode()})
    assert r.status_code in (200, 201), r.text


def test_open_sws_imports_and_shows_cells(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("ws")
    mkdir(client, folder)
    put_bytes(client, f"{folder}/Old course.sws", sws_bytes())
    signin(page, client, f"/files/{folder}/")
    page.locator(".file-link", has_text="Old course.sws").click()
    page.wait_for_url(re.compile(r"/notebooks/.*Old%20course\.ipynb$"))
    cells = page.locator(".cell")
    expect(cells.first.locator(".markdown-rendered h1")).to_have_text("Intégrales — a worksheet")
    # The data/ image is an attachment, shown inline; the cell:// plot is an image output.
    expect(cells.first.locator(".markdown-rendered img")).to_have_attribute("src", re.compile(r"^data:image/png"))
    page.wait_for_function("() => [...document.querySelectorAll('.markdown-rendered img')].every(i => i.complete && i.naturalWidth > 0)")
    expect(page.locator(".output-area img.image-output")).to_have_count(1)
    expect(page.locator(".output-area")).to_contain_text(["4"])
    expect(page.locator(".output-area").filter(has_text="Grüße, 世界")).to_have_count(1)
    assert client.get(f"/api/contents/{folder}/Old course.sws").status_code == 200  # the original stays
    assert not page.errors


def test_damaged_worksheet_says_why(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("ws")
    mkdir(client, folder)
    put_bytes(client, f"{folder}/cut.sagews", sagews_text().encode()[:-40])
    signin(page, client, f"/files/{folder}/")
    page.locator(".file-link", has_text="cut.sagews").click()
    expect(page.locator(".toast")).to_contain_text("truncated")
    listing = client.get(f"/api/contents/{folder}").json()["content"]
    assert [m["name"] for m in listing] == ["cut.sagews"]
