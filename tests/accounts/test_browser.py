"""Attacks in a real browser (Chromium): another student's project URL, a logout link, and a page on another
port of 127.0.0.1 that plants an _xsrf cookie and posts a form to the server."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator

import pytest

from tests.ui.conftest import CHROMIUM_ARGS, chromium_path

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def signed_in(chromium, multi, name: str) -> object:
    """A new browser context signed in as name through the login form."""
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(multi.url("/login", next="/projects"))
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("form.password-login button[type=submit]")
    page.wait_for_url(re.compile(r"/projects$"))
    return page


def fetch(page, method: str, path: str, body: object = None) -> int:
    """Call the API from the page as its scripts do (cookie + X-XSRFToken read at call time)."""
    return page.evaluate("""async ([method, path, body]) => {
        const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
        const r = await fetch(path, {method, headers: {"Content-Type": "application/json",
            "X-XSRFToken": decodeURIComponent(xsrf)}, body: body == null ? undefined : JSON.stringify(body)});
        return r.status; }""", [method, path, body])


def test_another_students_project_url_shows_nothing(chromium, multi):
    alice, bob = make_user(multi, prefix="alice"), make_user(multi, prefix="bob")
    alice.put("/api/contents/diary.txt", json={"type": "file", "format": "text", "content": "dear diary"})
    home = alice.home()
    kid = alice.post("/api/kernels", json={"name": "python3"}).json()["id"]
    try:
        page = signed_in(chromium, multi, bob.name)
        response = page.goto(multi.url(f"/p/{home}/files/"))
        assert response.status == 404 and "dear diary" not in page.content()
        assert page.goto(multi.url(f"/p/{home}/edit/diary.txt")).status == 404
        assert fetch(page, "GET", f"/p/{home}/api/contents/diary.txt") == 404
        opened = page.evaluate("""(url) => new Promise(done => {
            const ws = new WebSocket(url);
            ws.onopen = () => { ws.close(); done(true); };
            ws.onerror = () => done(false); })""", multi.base_url.replace("http", "ws") + f"/api/kernels/{kid}/channels")
        assert opened is False
        assert alice.get(f"/api/kernels/{kid}").json()["connections"] == 0
        page.context.close()
    finally:
        alice.delete(f"/api/kernels/{kid}")


def test_a_logout_link_does_not_sign_out(chromium, multi):
    person = make_user(multi)
    app = signed_in(chromium, multi, person.name)
    page = app.context.new_page()  # another site's page in the same browser (about:blank: no app script)
    page.set_content(f'<img src="{multi.url("/logout")}"><a id="go" href="{multi.url("/logout")}">x</a>')
    page.click("#go")
    page.wait_for_url(re.compile(r"/logout$"))
    assert fetch(page, "GET", "/api/me") == 200  # following the link only shows the question
    page.click("form.logout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/login$"))
    assert fetch(page, "GET", "/api/me") == 403
    page.context.close()


class _EvilPage(http.server.BaseHTTPRequestHandler):
    """A page on another port of 127.0.0.1: plants an _xsrf cookie and auto-posts a form to the server."""

    target = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = f"""<!doctype html><body>
<script>document.cookie = "_xsrf=planted; path=/";</script>
<form id="f" method="post" action="{self.target}" enctype="application/x-www-form-urlencoded">
<input name="_xsrf" value="planted"><input name="type" value="file"></form>
<form id="g" method="post" action="{self.target}" enctype="text/plain">
<input name='{{"type": "file", "format": "text", "content": "pwned", "x": "' value='"}}'></form>
</body>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_page_on_another_port_cannot_write(chromium, multi):
    person = make_user(multi)
    page = signed_in(chromium, multi, person.name)
    _EvilPage.target = multi.url("/api/contents/pwned.txt")
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EvilPage)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        for form in ("#f", "#g"):
            page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
            # the planted cookie replaced the real one for 127.0.0.1 (cookies ignore ports) ...
            assert any(c["name"] == "_xsrf" and c["value"] == "planted" for c in page.context.cookies())
            with page.expect_navigation():
                page.evaluate(f"document.querySelector('{form}').submit()")
            assert page.evaluate("document.body.innerText").count("Forbidden") + \
                page.evaluate("document.body.innerText").count("JSON") >= 1
        assert person.get("/api/contents/pwned.txt").status_code == 404
        # ... and the server hands the real one back on the next answer: the app keeps working
        page.goto(multi.url("/projects"))
        assert fetch(page, "PUT", "/api/contents/ok.txt", {"type": "file", "format": "text", "content": "ok"}) == 201
    finally:
        evil.shutdown()
        page.context.close()
