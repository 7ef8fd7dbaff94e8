"""File names in URLs (issue 8, item 6): every path in a URL, redirect or link is encoded exactly once,
and opening a URL never creates a file.

Names carry spaces, ``#``, ``?``, ``%``, ``&``, ``+``, unicode and emoji. A property test drives them
through the token redirect, the login redirect and the notebook, edit and files pages over HTTP;
Chromium then opens some of them as a user would and must show that notebook, not an empty one.
"""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import parse_qs, quote, unquote, urlsplit

import nbformat
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import signin, wait_idle

PIECES = ["a", "Z", "0", " ", "#", "?", "%", "%20", "%2F", "%%", "&", "+", "=", ";", ",", "'", "(", ")", "[", "!",
          "@", "$", "~", "-", "_", ".", "é", "ß", "日本", "🙂", "👩‍🔬", "\u00a0"]
names = st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map(lambda parts: "n" + "".join(parts))
DATA_PATH = re.compile(r'data-path="([^"]*)"')


def url_path(name: str) -> str:
    """A file name as one URL path segment (encoded once)."""
    return quote(name, safe="")


def put_marked_notebook(client: Server, path: str, marker: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"marker {marker}")])
    r = client.put(f"/api/contents/{url_path(path)}", json={"type": "notebook", "content": nb})
    assert r.status_code in (200, 201), r.text


def listing(client: Server) -> set[str]:
    r = client.get("/api/contents")
    assert r.status_code == 200, r.text
    return {item["name"] for item in r.json()["content"]}


def shown_path(body: str) -> str:
    match = DATA_PATH.search(body)
    assert match, body[:300]
    return html.unescape(match.group(1))


def check_page(client: Server, page: str, name: str) -> None:
    """Token URL → one redirect to the same path encoded once → the page for exactly that name."""
    browser = requests.Session()
    r = browser.get(client.url(f"/{page}/{url_path(name)}", token=client.token), allow_redirects=False, timeout=30)
    assert r.status_code == 302, (r.status_code, r.text[:200])
    target = urlsplit(r.headers["Location"])
    assert not target.fragment and not target.query, r.headers["Location"]
    assert unquote(target.path) == f"/{page}/{name}", r.headers["Location"]
    r = browser.get(client.base_url + r.headers["Location"], allow_redirects=False, timeout=30)
    assert r.status_code == 200 and shown_path(r.text) == name


def check_login_redirect(client: Server, page: str, name: str) -> None:
    """Without a cookie: /login?next=<the path, encoded once>, and signing in goes back to it."""
    browser = requests.Session()
    r = browser.get(f"{client.base_url}/{page}/{url_path(name)}?x=1&y=a%26b", allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.status_code
    login = urlsplit(r.headers["Location"])
    assert login.path == "/login"
    nxt = parse_qs(login.query)["next"][0]
    assert unquote(urlsplit(nxt).path) == f"/{page}/{name}" and parse_qs(urlsplit(nxt).query) == {"x": ["1"], "y": ["a&b"]}
    browser.get(f"{client.base_url}/login", timeout=30)  # the form sets the _xsrf cookie
    r = browser.post(f"{client.base_url}/login", data={"token": client.token, "next": nxt,
                                                       "_xsrf": browser.cookies.get("_xsrf")},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 302 and r.headers["Location"] == nxt
    r = browser.get(client.base_url + nxt, allow_redirects=False, timeout=30)
    assert r.status_code == 200 and shown_path(r.text) == name


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stem=names)
def test_any_name_survives_every_page_and_redirect(contents_client: Server, stem: str) -> None:
    notebook, folder, text = f"{stem}.ipynb", f"{stem} dir", f"{stem}.txt"
    put_marked_notebook(contents_client, notebook, stem)
    assert contents_client.put(f"/api/contents/{url_path(folder)}", json={"type": "directory"}).status_code in (200, 201)
    r = contents_client.put(f"/api/contents/{url_path(text)}", json={"type": "file", "format": "text", "content": stem})
    assert r.status_code in (200, 201), r.text
    try:
        before = listing(contents_client)
        for page, name in [("notebooks", notebook), ("edit", text), ("files", folder)]:
            check_page(contents_client, page, name)
            check_login_redirect(contents_client, page, name)
        assert listing(contents_client) == before  # no page or redirect made a file
    finally:
        for name in (notebook, folder, text):
            contents_client.delete(f"/api/contents/{url_path(name)}")


@pytest.mark.parametrize("name", ["x #1.ipynb", "x %20.ipynb", "a&b=c+d?.ipynb", "Grafik ü 🙂 100%.ipynb"])
def test_browser_opens_exactly_that_notebook_by_its_token_url(page: object, contents_client: Server, name: str) -> None:
    marker = uuid.uuid4().hex[:8]
    put_marked_notebook(contents_client, name, marker)
    try:
        before = listing(contents_client)
        page.goto(contents_client.url(f"/notebooks/{url_path(name)}", token=contents_client.token))
        expect(page.locator(".markdown-rendered")).to_contain_text(f"marker {marker}")
        expect(page.locator(".nb-title")).to_have_text(name)
        wait_idle(page)
        assert unquote(urlsplit(page.url).path) == f"/notebooks/{name}" and not urlsplit(page.url).fragment
        assert listing(contents_client) == before
        # The file browser links to it, encoded once: following the link opens the same notebook.
        signin(page, contents_client, "/files/")
        page.locator("a.file-link", has_text=name).click()
        expect(page.locator(".markdown-rendered")).to_contain_text(f"marker {marker}")
        assert not page.errors, page.errors
    finally:
        contents_client.delete(f"/api/contents/{url_path(name)}")


def test_opening_a_missing_notebook_creates_no_file(page: object, contents_client: Server) -> None:
    name = f"missing {uuid.uuid4().hex[:6]} %20.ipynb"
    signin(page, contents_client, f"/notebooks/{url_path(name)}")
    expect(page.locator(".banner")).to_contain_text("is created on disk when you change something")
    wait_idle(page)
    assert contents_client.get(f"/api/contents/{url_path(name)}").status_code == 404
    assert name not in listing(contents_client)
    # A change saves it, under exactly that name.
    page.locator(".cell .cm-content").first.click()
    page.keyboard.insert_text("1 + 1")
    page.keyboard.press("Control+s")
    expect(page.locator(".save-state[data-state=saved]")).to_be_visible()
    expect(page.locator(".banner")).to_be_hidden()
    try:
        assert contents_client.get(f"/api/contents/{url_path(name)}").status_code == 200
    finally:
        contents_client.delete(f"/api/contents/{url_path(name)}")


def test_multi_user_redirects_keep_the_name_encoded_once() -> None:
    """Multi-user mode's own page redirects (here: a password that must change first) encode the path once too."""
    from tests.accounts.conftest import PYTHON_ONLY, Person, make_user

    srv = Server("--multi-user", env=PYTHON_ONLY)
    try:
        student = make_user(srv)
        teacher = make_user(srv, role="teacher", prefix="teach")
        otp = teacher.post(f"/api/users/{student.name}/reset-password").json()["one_time_password"]
        fresh = Person(srv, student.name, otp)
        fresh.login()
        for name in ["x #1.ipynb", "x %20.ipynb", "ü&🙂?.ipynb"]:
            r = fresh.get(f"/notebooks/{url_path(name)}?a=b%26c")
            assert r.status_code == 302, r.status_code
            where = urlsplit(r.headers["Location"])
            assert where.path == "/change-password"
            nxt = parse_qs(where.query)["next"][0]
            assert unquote(urlsplit(nxt).path) == f"/notebooks/{name}" and not urlsplit(nxt).fragment, nxt
            assert parse_qs(urlsplit(nxt).query) == {"a": ["b&c"]}
    finally:
        srv.stop()
