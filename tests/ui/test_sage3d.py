"""Sage 3D graphics in the browser, offline: Sage's three.js viewer runs in a sandboxed frame.

Sage writes its viewer as a page in ``<iframe srcdoc>`` that loads
``/nbextensions/threejs-sage/r122/three.min.js``; the client shows it in an
``<iframe sandbox="allow-scripts">`` at /sandbox/frame.html, and the server serves three.js.
Nothing here may reach the network: every request outside the test server is refused.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import KERNEL_TIMEOUT_MS, new_notebook_path, open_notebook, run_in_new_cell, signin, wait_done


@pytest.fixture
def nb_path(contents_client: Server) -> str:
    path = new_notebook_path()
    yield path
    contents_client.delete(f"/api/contents/{path}")


def offline(page: object, client: Server) -> list[str]:
    """Refuse every request that does not go to the test server; return the refused URLs."""
    refused: list[str] = []

    def route(r: object) -> None:
        if r.request.url.startswith(client.base_url) or r.request.url.startswith(("data:", "blob:", "about:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return refused


def drag_changes_pixels(page: object, frame_el: object) -> None:
    """The 3D canvas appears, and its pixels change when the scene is dragged (rotated)."""
    frame = page.frame_locator(".sandbox-frame").first
    canvas = frame.locator("canvas").first
    expect(canvas).to_be_visible(timeout=KERNEL_TIMEOUT_MS)
    before = canvas.screenshot()
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(cx + 12 * step, cy + 5 * step)
    page.mouse.up()
    page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
    after = canvas.screenshot()
    assert before != after, "the 3D view did not change after a drag"


def test_sphere_renders_as_webgl_offline_and_rotates(page: object, contents_client: Server, nb_path: str) -> None:
    refused = offline(page, contents_client)
    open_notebook(page, contents_client, nb_path)
    cell = run_in_new_cell(page, "var('y'); show(sphere(color='red') + plot3d(sin(x*y), (x,-2,2), (y,-2,2)))")
    wait_done(cell)
    frame_el = cell.locator("iframe.sandbox-frame")
    expect(frame_el).to_have_attribute("sandbox", "allow-scripts")
    drag_changes_pixels(page, frame_el)
    # The frame is an opaque origin: its scripts cannot read the app's cookies.
    origin = page.frame_locator(".sandbox-frame").first.locator("body").evaluate("() => self.origin")
    assert origin == "null"
    assert refused == []
    assert page.errors == []


@pytest.mark.parametrize("code", [
    "var('y z'); implicit_plot3d(x^2+y^2+z^2-4, (x,-3,3), (y,-3,3), (z,-3,3))",
    "var('u v'); parametric_plot3d((cos(u), sin(u)+cos(v), sin(v)), (u,0,2*pi), (v,0,2*pi))",
])
def test_other_3d_plots(page: object, contents_client: Server, nb_path: str, code: str) -> None:
    refused = offline(page, contents_client)
    open_notebook(page, contents_client, nb_path)
    cell = run_in_new_cell(page, code)
    wait_done(cell)
    drag_changes_pixels(page, cell.locator("iframe.sandbox-frame"))
    assert refused == []


def test_3d_on_the_starter_page(page: object, client: Server) -> None:
    refused = offline(page, client)
    signin(page, client, "/")
    page.wait_for_selector(".kernel-status[data-status=idle]", timeout=KERNEL_TIMEOUT_MS)
    page.locator(".scratch-input .cm-content").click()
    page.keyboard.insert_text("show(sphere())")
    page.keyboard.press("Shift+Enter")
    drag_changes_pixels(page, page.locator("iframe.sandbox-frame").first)
    assert refused == []


def test_sandbox_frame_and_threejs_are_served(client: Server) -> None:
    r = client.get("/nbextensions/threejs-sage/r122/three.min.js", auth=False)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript") and "THREE" in r.text[:3000]
    assert client.get("/nbextensions/threejs-sage/../x/three.min.js", auth=False).status_code == 404
    frame = client.get("/sandbox/frame.html", auth=False)
    assert frame.status_code == 200
    csp = frame.headers["Content-Security-Policy"]
    assert "sandbox allow-scripts" in csp and "default-src 'none'" in csp and "allow-same-origin" not in csp
