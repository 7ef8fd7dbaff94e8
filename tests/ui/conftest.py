"""Browser fixtures: Debian's Chromium driven by Playwright against the real ``salvus-local``.

``client`` is the shared ``server`` fixture (tests/conftest.py) once it serves the notebook
client; ``page`` is a fresh browser context (own cookies and localStorage) already signed in
through the token URL, the way a user opens the printed link.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import Server

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Sage's first plot or import in a fresh kernel can take a while on a 2-core CI machine.
KERNEL_TIMEOUT_MS = 120_000
# What expect() waits for by default (Playwright's is 5 s): a page answer that needs the server, on a
# loaded 2-core machine. A check that holds returns at once; only a real failure waits this long.
EXPECT_TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    """Return Debian's chromium binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole run."""
    sync_api = pytest.importorskip("playwright.sync_api")
    path = chromium_path()
    if not path:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def client(server: Server) -> Server:
    """The shared server, once it serves the client pages (else skip, saying what is missing)."""
    r = server.get("/")
    if r.status_code == 503 and "make setup" in r.text:
        pytest.skip("the notebook client is not built: run `make setup` (npm run build in static/)")
    if r.status_code == 404:
        pytest.skip("create_app does not register salvus_local.server.pages yet")
    assert r.status_code == 200 and 'data-page="starter"' in r.text, r.text[:500]
    return server


@pytest.fixture(scope="session")
def contents_client(client: Server) -> Server:
    """The client server, once it also has the Jupyter Contents API (else skip)."""
    if client.get("/api/contents").status_code == 404:
        pytest.skip("create_app does not register salvus_local.server.contents yet")
    return client


@pytest.fixture
def page(browser: object, client: Server) -> Iterator[object]:
    """A fresh browser context (own cookies, localStorage); records page errors and dialogs.

    At teardown the kernel the page used is shut down: the server is shared by the whole run.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    kernel_ids: set[str] = set()
    page.on("websocket", lambda ws: kernel_ids.update(re.findall(r"/api/kernels/([^/?]+)/channels", ws.url)))
    yield page
    context.close()
    for session in client.get("/api/sessions").json():
        if session.get("kernel", {}).get("id") in kernel_ids:
            client.delete(f"/api/sessions/{session['id']}")
    for kernel_id in kernel_ids:
        client.delete(f"/api/kernels/{kernel_id}")


def signin(page: object, client: Server, path: str = "/") -> None:
    """Open a page through the token URL, as a user opens the printed link."""
    page.goto(client.url(path, token=client.token))


def new_notebook_path() -> str:
    """A notebook name no other test uses."""
    return f"ui-{uuid.uuid4().hex[:10]}.ipynb"


def open_notebook(page: object, client: Server, path: str) -> None:
    """Open (creating) a notebook through the token URL and wait until its kernel is idle."""
    signin(page, client, f"/notebooks/{path}")
    wait_idle(page)


def wait_idle(page: object) -> None:
    """Wait until the kernel status badge says idle."""
    page.wait_for_selector(".kernel-status[data-status=idle]", timeout=KERNEL_TIMEOUT_MS)


def run_in_new_cell(page: object, code: str) -> object:
    """Type code into the last cell (in edit mode) and press Shift+Enter; return that cell."""
    cells = page.locator(".cell")
    cell = cells.nth(cells.count() - 1)  # pinned: Shift+Enter adds a new last cell
    cell.locator(".cm-content").click()
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    return cell


def wait_done(cell: object) -> None:
    """Wait until a cell shows an execution count (its execution finished)."""
    cell.locator(".prompt").filter(has_text=re.compile(r"\[\d+\]")).wait_for(timeout=KERNEL_TIMEOUT_MS)
