"""Attacks in a real browser (Chromium): another student's project URL, a logout link, and a page on another
port of 127.0.0.1 that plants an _xsrf cookie and posts a form to the server."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.ui.conftest import CHROMIUM_ARGS, chromium_path

from .conftest import DEFAULT_TIMEOUT, PASSWORD, make_user

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
    sign_in_here(page, name)
    return page


def sign_in_here(page, name: str) -> None:
    """Fill the login form the page shows and wait for the projects page."""
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("form.password-login button[type=submit]")
    page.wait_for_url(re.compile(r"/projects$"))


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
        # ... the login no longer matches its _xsrf (it may be a planted pair): the next page asks to sign in
        # again, with the planted cookies expired, and after that the app works
        page.goto(multi.url("/projects"))
        page.wait_for_url(re.compile(r"/login\?"))
        sign_in_here(page, person.name)
        assert fetch(page, "PUT", "/api/contents/ok.txt", {"type": "file", "format": "text", "content": "ok"}) == 201
    finally:
        evil.shutdown()
        page.context.close()


class _TossingPage(http.server.BaseHTTPRequestHandler):
    """A page on another port of 127.0.0.1 that plants the attacker's login: ``cookies`` by script, ``headers``
    as Set-Cookie (which, unlike a script, may replace an HttpOnly cookie)."""

    cookies: list[str] = []
    headers_to_set: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        script = "".join(f"document.cookie = {c!r};" for c in self.cookies)
        body = f"<!doctype html><script>{script} document.title = 'planted';</script>".encode()
        self.send_response(200)
        for header in self.headers_to_set:
            self.send_header("Set-Cookie", header)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("how", ["specific paths", "same path, session only"])
def test_a_login_planted_from_another_port_does_not_switch_accounts(chromium, multi, how):
    victim, attacker = make_user(multi, prefix="victim"), make_user(multi, prefix="mallory")
    attacker.put("/api/contents/mallory.txt", json={"type": "file", "format": "text", "content": "bait"})
    name = f"salvus-local-{multi.port}"
    session, xsrf = attacker.s.cookies.get(name), attacker.s.cookies.get("_xsrf")
    if how == "specific paths":  # the tester's x2.py: more specific paths are sent first
        _TossingPage.cookies = [f"{name}={session}; path=/p/", f"{name}={session}; path=/api/",
                                f"_xsrf={xsrf}; path=/api/"]
        _TossingPage.headers_to_set = []
    else:  # replace the victim's HttpOnly session cookie itself; the victim's _xsrf stays
        _TossingPage.cookies = []
        _TossingPage.headers_to_set = [f"{name}={session}; Path=/; HttpOnly; SameSite=Lax"]
    page = signed_in(chromium, multi, victim.name)
    assert page.evaluate("fetch('/api/me').then(r => r.json()).then(j => j.user.name)") == victim.name
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TossingPage)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        assert page.title() == "planted"
        assert sum(c["name"] == name and c["value"] == session for c in page.context.cookies()) >= 1
        seen: list[str] = []  # every answer the victim's browser got from the server from now on
        page.on("response", lambda r: seen.append(r.text()) if "/api/" in r.url and r.ok else None)
        page.goto(multi.url("/projects"))  # the victim goes back to the app: its own requests carry the tossed cookies
        page.wait_for_load_state("networkidle")
        me = page.evaluate("fetch('/api/me').then(async r => [r.status, await r.text()])")
        assert me[0] == 403 or victim.name in me[1]
        listing = page.evaluate("fetch('/api/projects').then(async r => [r.status, await r.text()])")
        assert attacker.home() not in listing[1] and attacker.name not in listing[1]
        assert fetch(page, "GET", "/api/contents/mallory.txt") in (403, 404)
        assert not any(attacker.name in text or attacker.home() in text for text in seen)
        # every copy of the planted cookies was expired by those answers: signing in again gives the victim's own
        assert not any(c["value"] == session for c in page.context.cookies())
        page.goto(multi.url("/projects"))
        page.wait_for_url(re.compile(r"/login\?"))
        sign_in_here(page, victim.name)
        assert page.evaluate("fetch('/api/me').then(r => r.json()).then(j => j.user.name)") == victim.name
        assert fetch(page, "GET", "/api/contents/mallory.txt") == 404
        assert fetch(page, "PUT", "/api/contents/mine.txt", {"type": "file", "format": "text", "content": "x"}) == 201
    finally:
        evil.shutdown()
        page.context.close()


def test_two_login_cookies_are_refused_and_expired(multi):
    victim, attacker = make_user(multi, prefix="victim"), make_user(multi, prefix="mallory")
    name = f"salvus-local-{multi.port}"
    planted = f"{name}={attacker.s.cookies.get(name)}; _xsrf={attacker.s.cookies.get('_xsrf')}"
    header = f"{planted}; {victim.cookie_header()}"  # what a browser sends: the more specific path first
    r = requests.get(multi.url("/api/projects"), headers={"Cookie": header}, timeout=DEFAULT_TIMEOUT)
    assert r.status_code == 403 and "sign in again" in r.json()["reason"]
    expired = [c for c in r.raw.headers.getlist("Set-Cookie") if "Max-Age=0" in c or "expires=Thu, 01 Jan 1970" in c]
    paths = {(c.split("=", 1)[0], part.strip()) for c in expired for part in c.split(";")
             if part.strip().lower().startswith("path=")}
    for cookie in (name, "_xsrf"):
        assert {(cookie, p) for p in ("Path=/", "Path=/api", "Path=/api/", "Path=/api/projects")} <= paths
    # a session cookie beside another login's _xsrf (another account's session, swapped in) is not honoured
    swapped = f"{name}={attacker.s.cookies.get(name)}; _xsrf={victim.s.cookies.get('_xsrf')}"
    r = requests.get(multi.url("/api/contents"), headers={"Cookie": swapped}, timeout=DEFAULT_TIMEOUT)
    assert r.status_code == 403 and "sign in again" in r.json()["reason"]
    # the real pair still works
    assert victim.get("/api/me").json()["user"]["name"] == victim.name
