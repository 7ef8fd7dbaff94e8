"""Attacks on accounts: XSRF (logout, planted cookies from another port, form bodies), open redirects,
cookie flags, login throttling, and API tokens (scopes, expiry, revocation, hash at rest, never logged)."""

from __future__ import annotations

import hashlib
import socket
import sqlite3
import time
from typing import Any

import pytest
import requests
import requests.adapters

from tests.conftest import DEFAULT_TIMEOUT

from .conftest import PASSWORD, PYTHON_ONLY, Person, make_user, unique, ws_status

EVIL_NEXT = ["//evil", "///evil", "\\\\evil", "/\\evil", "https:///x", "http://evil", "https://evil.com/",
             "javascript:alert(1)", "evil", "/\r\nSet-Cookie:x=1"]


def test_logout_needs_post_with_xsrf(multi):
    person = make_user(multi)
    cookie = person.s.cookies.get(f"salvus-local-{multi.port}")
    form = person.get("/logout")
    assert form.status_code == 200 and 'action="/logout"' in form.text and 'name="_xsrf"' in form.text
    assert person.get("/api/contents").status_code == 200  # GET changed nothing
    no_xsrf = person.s.post(multi.url("/logout"), allow_redirects=False, timeout=DEFAULT_TIMEOUT)
    assert no_xsrf.status_code == 403
    planted = person.s.post(multi.url("/logout"), data={"_xsrf": "planted"}, cookies={"_xsrf": "planted"},
                            allow_redirects=False, timeout=DEFAULT_TIMEOUT)
    assert planted.status_code == 403
    # the login no longer matched its _xsrf: the answer expired both cookies, so this browser signs in again
    assert person.get("/api/contents").status_code == 403
    assert person.login().status_code == 302
    cookie = person.s.cookies.get(f"salvus-local-{multi.port}")
    assert person.get("/api/contents").status_code == 200
    ok = person.s.post(multi.url("/logout"), data={"_xsrf": person.s.cookies["_xsrf"]}, allow_redirects=False,
                       timeout=DEFAULT_TIMEOUT)
    assert ok.status_code == 302 and ok.headers["Location"] == "/login"
    # the session is revoked server-side: the old cookie, replayed, no longer works
    replay = requests.get(multi.url("/api/contents"), cookies={f"salvus-local-{multi.port}": cookie},
                          timeout=DEFAULT_TIMEOUT)
    assert replay.status_code == 403


def test_single_user_logout_needs_post_with_xsrf(server):
    browser = server.browser()
    assert browser.get(server.url("/logout"), allow_redirects=False).status_code == 200
    assert browser.get(server.url("/api/kernels")).status_code == 200
    del browser.headers["X-XSRFToken"]
    assert browser.post(server.url("/logout"), allow_redirects=False).status_code == 403
    assert browser.get(server.url("/api/kernels")).status_code == 200


def _planting_attacks(url, session, path, good_xsrf):
    """What a page on another port of 127.0.0.1 can make the browser send: a planted _xsrf cookie with the
    same value in a header or a form field, or a form post (which carries no custom header); each a callable."""
    body = {"type": "file", "format": "text", "content": "pwned"}
    cookies = {"_xsrf": "planted-by-port-9999"}
    return [
        lambda: session.put(url(path), json=body, cookies=cookies, headers={"X-XSRFToken": "planted-by-port-9999"},
                            timeout=DEFAULT_TIMEOUT),
        lambda: session.post(url(path), data={"_xsrf": "planted-by-port-9999", "type": "file"}, cookies=cookies,
                             headers={"X-XSRFToken": ""}, timeout=DEFAULT_TIMEOUT),
        lambda: session.post(url(path), data={"_xsrf": good_xsrf, "type": "file"}, headers={"X-XSRFToken": ""},
                             timeout=DEFAULT_TIMEOUT),
        lambda: session.post(url(path), data=b'{"type": "file"}',
                             headers={"Content-Type": "text/plain", "X-XSRFToken": good_xsrf}, timeout=DEFAULT_TIMEOUT),
        lambda: session.put(url(path), json=body, headers={"Origin": "http://127.0.0.1:9999", "X-XSRFToken": good_xsrf},
                            timeout=DEFAULT_TIMEOUT),
    ]


def test_planted_xsrf_cookie_and_form_bodies_refused_multi_user(multi):
    person = make_user(multi)
    for attack in range(5):
        # a planted _xsrf beside the login ends it (the pair no longer matches): sign in again before each
        assert person.login().status_code == 302
        r = _planting_attacks(multi.url, person.s, "/api/contents/pwned.txt", person.s.cookies["_xsrf"])[attack]()
        assert r.status_code in (403, 415), r.text
    assert person.login().status_code == 302
    assert person.get("/api/contents/pwned.txt").status_code == 404
    r = person.put("/api/contents/fine.txt", json={"type": "file", "format": "text", "content": "ok"})
    assert r.status_code == 201  # the real value in the header works


def test_planted_xsrf_cookie_and_form_bodies_refused_single_user(server):
    browser = server.browser()
    good = browser.headers.pop("X-XSRFToken")
    for attack in _planting_attacks(server.url, browser, "/api/contents/pwned-single.txt", good):
        r = attack()
        assert r.status_code in (403, 415), r.text
    assert server.get("/api/contents/pwned-single.txt").status_code == 404


def test_form_bodies_refused_with_cookies_not_with_a_token(multi):
    """A browser's cookies are what a cross-site form borrows; a request carrying the token itself is not forged."""
    person = make_user(multi)
    r = person.post("/api/kernels", data={"name": "python3"})
    assert r.status_code == 415 and "application/json" in r.json()["reason"]
    r = multi.post("/api/sessions", data={"path": "x"})  # curl -d: past the check, then a 400 on the body
    assert r.status_code == 400 and "JSON" in r.json()["message"]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_next_only_redirects_locally(multi, target):
    person = make_user(multi)
    r = Person(multi, person.name).login(next_=target)
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_login_next_keeps_local_paths(multi):
    person = make_user(multi)
    r = Person(multi, person.name).login(next_="/notebooks/a.ipynb?x=1")
    assert r.headers["Location"] == "/notebooks/a.ipynb?x=1"


def test_login_cookie_flags_and_session_not_stored_in_clear(multi):
    person = make_user(multi)
    header = next(c for c in person.last_login.raw.headers.getlist("Set-Cookie")
                  if c.startswith(f"salvus-local-{multi.port}="))
    flags = {part.strip().lower() for part in header.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= flags and "secure" not in flags
    value = header.split(";", 1)[0].split("=", 1)[1]
    session_id = value.split(".")[0]
    db = sqlite3.connect(multi.data_dir / "salvus.db")
    rows = db.execute("select id_hash from login_sessions").fetchall()
    db.close()
    assert rows and all(session_id not in r[0] and value not in r[0] for r in rows)
    forged = requests.get(multi.url("/api/contents"), cookies={f"salvus-local-{multi.port}": value[:-2] + "xx"},
                          timeout=DEFAULT_TIMEOUT)
    assert forged.status_code == 403


def _fail_until_throttled(person: Person, attempts: int = 20) -> requests.Response:
    """Fail to log in until told to wait."""
    for _ in range(attempts):
        r = person.login(password="wrong password!")
        if r.status_code == 429:
            return r
        assert r.status_code == 403
    raise AssertionError("never throttled")


def test_login_throttled_per_account_with_backoff(multi):
    target = make_user(multi)
    bystander = make_user(multi)
    r = _fail_until_throttled(Person(multi, target.name))
    assert "Too many attempts, try again in" in r.text and 1 <= int(r.headers["Retry-After"]) <= 5
    # while throttled even the right password is not tried (no oracle), but nothing is locked for good, and
    # hammering does not make the wait longer
    for _ in range(10):
        early = Person(multi, target.name).login()
        assert early.status_code == 429 and int(early.headers["Retry-After"]) <= 5
    assert target.get("/api/contents").status_code == 200  # sessions already open stay
    assert Person(multi, bystander.name).login().status_code == 302  # other accounts are unaffected


class _FromAddress(requests.adapters.HTTPAdapter):
    """Connect from another loopback address (127.0.0.2): another person on this machine."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = ("127.0.0.2", 0)
        super().init_poolmanager(*args, **kwargs)


def test_failures_elsewhere_on_this_machine_do_not_throttle_the_console(start_server):
    srv = start_server("--multi-user", env=PYTHON_ONLY)
    teacher = make_user(srv, role="teacher", prefix="teach")
    student = Person(srv, teacher.name, "wrong password!")
    student.s.mount("http://", _FromAddress())
    assert _fail_until_throttled(student).status_code == 429
    # the teacher at 127.0.0.1 signs in at once, and so does the student with their own account
    assert Person(srv, teacher.name).login().status_code == 302
    other = make_user(srv)
    mine = Person(srv, other.name)
    mine.s.mount("http://", _FromAddress())
    assert mine.login().status_code == 302


def test_console_token_url_never_throttled(multi):
    admin = multi.get("/api/me").json()["user"]["name"]
    _fail_until_throttled(Person(multi, admin))
    s = requests.Session()
    r = s.get(multi.url("/", token=multi.token), allow_redirects=False, timeout=DEFAULT_TIMEOUT)
    assert r.status_code == 302
    assert s.get(multi.url("/api/me"), timeout=DEFAULT_TIMEOUT).json()["user"]["name"] == admin


def _lan_ip() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def test_network_failures_do_not_throttle_the_console(start_server):
    ip = _lan_ip()
    if ip is None:
        pytest.skip("this machine has no non-loopback address to attack from")
    srv = start_server("--lan", env=PYTHON_ONLY)
    teacher = make_user(srv, role="teacher", prefix="teach")
    attacker = Person(srv, teacher.name, "wrong password!")
    attacker.srv = type("Remote", (), {"url": staticmethod(lambda path, **q: f"http://{ip}:{srv.port}{path}")})()
    r = _fail_until_throttled(attacker)
    assert r.status_code == 429
    # the same account at the machine's own console: still signs in
    assert Person(srv, teacher.name).login().status_code == 302
    # the attacking address is slowed down for other accounts too
    other = make_user(srv)
    victim = Person(srv, other.name)
    victim.srv = attacker.srv
    assert victim.login().status_code == 429


def test_api_tokens_scopes_expiry_revocation(multi):
    person = make_user(multi)
    r = person.post("/api/tokens", json={"scope": "api", "note": "laptop"})
    assert r.status_code == 201
    api_token, token_id = r.json()["token"], r.json()["id"]
    assert r.json()["prefix"] == api_token[:8]
    assert person.get("/api/tokens").json()["tokens"][0]["prefix"] == api_token[:8]
    assert "token" not in person.get("/api/tokens").json()["tokens"][0]
    bearer = {"Authorization": f"Bearer {api_token}"}
    assert requests.get(multi.url("/api/me"), headers=bearer, timeout=DEFAULT_TIMEOUT).json()["user"]["name"] == person.name
    assert requests.get(multi.url("/api/contents"), headers={"Authorization": f"token {api_token}"},
                        timeout=DEFAULT_TIMEOUT).status_code == 200
    assert requests.get(multi.url(f"/api/contents?token={api_token}"), timeout=DEFAULT_TIMEOUT).status_code == 200
    # in a page URL it becomes a login cookie and leaves the address bar
    browser = requests.Session()
    page = browser.get(multi.url("/projects", token=api_token), allow_redirects=False, timeout=DEFAULT_TIMEOUT)
    assert page.status_code == 302 and page.headers["Location"] == "/projects" and api_token not in str(page.headers)
    assert browser.get(multi.url("/api/me"), timeout=DEFAULT_TIMEOUT).json()["user"]["name"] == person.name
    kernel = requests.post(multi.url("/api/kernels"), json={"name": "python3"}, headers=bearer, timeout=DEFAULT_TIMEOUT)
    assert kernel.status_code == 201  # token requests need no XSRF
    kid = kernel.json()["id"]
    assert ws_status(lambda: __import__("websocket").create_connection(
        multi.base_url.replace("http", "ws", 1) + f"/api/kernels/{kid}/channels", header=[f"Authorization: token {api_token}"],
        timeout=DEFAULT_TIMEOUT)) == 0
    # a sync token reaches only git and the listing
    sync = person.post("/api/tokens", json={"scope": "sync", "expires_days": 30}).json()["token"]
    assert requests.get(multi.url("/api/projects"), headers={"Authorization": f"token {sync}"},
                        timeout=DEFAULT_TIMEOUT).status_code == 200
    refused = requests.get(multi.url("/api/contents"), headers={"Authorization": f"token {sync}"}, timeout=DEFAULT_TIMEOUT)
    assert refused.status_code == 403 and "scope is sync" in refused.json()["message"]
    # bad requests say what to fix
    assert person.post("/api/tokens", json={"scope": "root"}).status_code == 400
    assert person.post("/api/tokens", json={"expires_days": -1}).status_code == 400
    # expiry: a token past its date stops working (the clock is moved in the database)
    expiring = person.post("/api/tokens", json={"expires_days": 1}).json()
    db = sqlite3.connect(multi.data_dir / "salvus.db")
    db.execute("update api_tokens set expires = ? where id = ?", (time.time() - 1, expiring["id"]))
    db.commit()
    stored = [r[0] for r in db.execute("select hash from api_tokens")]
    dump = "\n".join(db.iterdump())
    db.close()
    assert requests.get(multi.url("/api/me"), headers={"Authorization": f"token {expiring['token']}"},
                        timeout=DEFAULT_TIMEOUT).status_code == 403
    # at rest: only SHA-256 hashes, never the value
    assert hashlib.sha256(api_token.encode()).hexdigest() in stored
    assert api_token not in dump and sync not in dump
    # revocation
    assert person.delete(f"/api/tokens/{token_id}").status_code == 204
    assert requests.get(multi.url("/api/me"), headers=bearer, timeout=DEFAULT_TIMEOUT).status_code == 403
    assert person.delete(f"/api/tokens/{token_id}").status_code == 404
    other = make_user(multi)
    assert other.delete(f"/api/tokens/{expiring['id']}").status_code == 404  # not theirs
    multi.delete(f"/api/kernels/{kid}")
    # never in the server's log, not even when wrong or on a failing request
    requests.get(multi.url(f"/api/nope?token={api_token}"), timeout=DEFAULT_TIMEOUT)
    requests.get(multi.url(f"/api/me?token={api_token}x"), timeout=DEFAULT_TIMEOUT)
    log = multi.log()
    assert api_token not in log and sync not in log and expiring["token"] not in log and multi.token not in log


def test_requests_with_an_api_token_update_last_seen(multi):
    person = make_user(multi)
    api_token = person.post("/api/tokens", json={"scope": "api", "note": "script"}).json()["token"]

    def last_seen() -> float:
        rows = multi.get("/api/users").json()["users"]
        value = next(u["last_seen"] for u in rows if u["name"] == person.name)
        return 0.0 if value is None else float(value)

    before = time.time()
    r = requests.get(multi.url("/api/contents"), headers={"Authorization": f"token {api_token}"},
                     timeout=DEFAULT_TIMEOUT)
    assert r.status_code == 200
    assert last_seen() >= before - 1  # written by that request (a cookie login alone leaves it older)
