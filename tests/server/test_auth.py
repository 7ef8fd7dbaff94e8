"""Auth as a browser and an attacker see it: token, cookie, XSRF, Host, Origin, login redirects, 500s."""

from __future__ import annotations

import os
import stat

import pytest
import requests
import websocket

from salvus_local.config import Config
from salvus_local.server import create_app

ENDPOINTS = [
    ("GET", "/api/kernels"), ("POST", "/api/kernels"), ("GET", "/api/kernels/x"), ("DELETE", "/api/kernels/x"),
    ("POST", "/api/kernels/x/interrupt"), ("POST", "/api/kernels/x/restart"), ("GET", "/api/sessions"),
    ("POST", "/api/sessions"), ("GET", "/api/sessions/x"), ("PATCH", "/api/sessions/x"),
    ("DELETE", "/api/sessions/x"), ("GET", "/api/kernelspecs"), ("GET", "/api/kernelspecs/python3"),
    ("GET", "/api/status"), ("GET", "/api"), ("GET", "/api/nonexistent"), ("PUT", "/api/contents/x"),
]
EVIL_NEXT = ["//evil", "///evil", "\\\\evil", "/\\evil", "https:///x", "http://evil", "https://evil.com/",
             "javascript:alert(1)", "evil", "/%0d%0aSet-Cookie:x=1".replace("%0d%0a", "\r\n")]


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_every_endpoint_refuses_without_token(server, method, path):
    r = server.request(method, path, auth=False, json={})
    assert r.status_code == 403
    assert r.json()["message"] == "Forbidden"


@pytest.mark.parametrize("method,path", ENDPOINTS[:4])
def test_wrong_token_refused(server, method, path):
    for headers in ({"Authorization": "token nope"}, {"Authorization": f"token {server.token}x"}):
        assert server.request(method, path, auth=False, headers=headers).status_code == 403
    assert server.request(method, path + "?token=nope", auth=False).status_code == 403


def test_token_as_header_or_query(server):
    assert server.get("/api/kernels").status_code == 200
    assert server.get("/api/kernels", auth=False, headers={"Authorization": f"Bearer {server.token}"}).ok
    assert server.get(f"/api/kernels?token={server.token}", auth=False).status_code == 200


def test_websocket_refused_before_upgrade_without_token(server):
    kernel_id = server.start_kernel()
    try:
        for header in ([], ["Authorization: token wrong"]):
            with pytest.raises(websocket.WebSocketBadStatusException) as info:
                server.ws(f"/api/kernels/{kernel_id}/channels", auth=False, header=header)
            assert info.value.status_code == 403
        # the kernel is unaffected and still has no connection
        assert server.get(f"/api/kernels/{kernel_id}").json()["connections"] == 0
    finally:
        server.delete(f"/api/kernels/{kernel_id}")


def test_page_token_sets_cookie_and_redirects_without_token(server):
    r = requests.get(server.url("/tree/sub", token=server.token, x="1"), allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == "/tree/sub?x=1"
    cookie = next(c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("salvus-local-"))
    name = cookie.split("=", 1)[0]
    assert name == f"salvus-local-{server.port}"
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain HTTP on localhost
    assert server.token not in cookie


def test_cookie_authenticates_and_needs_xsrf_for_writes(server):
    browser = server.browser()
    assert browser.get(server.url("/api/kernels")).status_code == 200
    xsrf = browser.headers.pop("X-XSRFToken")
    # a cookie-authenticated write without the XSRF header is refused, and nothing is started
    before = len(server.get("/api/kernels").json())
    r = browser.post(server.url("/api/kernels"), json={"name": "python3"})
    assert r.status_code == 403 and "XSRF" in r.json()["reason"]
    r = browser.post(server.url("/api/kernels"), json={}, headers={"X-XSRFToken": "forged"})
    assert r.status_code == 403
    assert len(server.get("/api/kernels").json()) == before
    # with the header it goes through
    r = browser.post(server.url("/api/kernels"), json={"name": "python3"}, headers={"X-XSRFToken": xsrf})
    assert r.status_code == 201
    assert browser.delete(server.url(f"/api/kernels/{r.json()['id']}"), headers={"X-XSRFToken": xsrf}).status_code == 204


def test_xsrf_cookie_is_readable_by_scripts(server):
    r = requests.get(server.url("/login"), allow_redirects=False)
    cookie = r.raw.headers.getlist("Set-Cookie")[0]
    assert cookie.startswith("_xsrf=") and "httponly" not in cookie.lower()


def test_token_requests_need_no_xsrf(server):
    r = server.post("/api/sessions", data="{")
    assert r.status_code == 400  # got past auth to the body check


@pytest.mark.parametrize("host", ["evil.com", "evil.com:80", "127.0.0.1.evil.com", "localhost.evil.com", "[::2]"])
def test_foreign_host_refused(server, host):
    r = server.get("/api/kernels", headers={"Host": host})
    assert r.status_code == 403 and "Host" in r.json()["reason"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_loopback_hosts_accepted(server, host):
    assert server.get("/api/kernels", headers={"Host": f"{host}:{server.port}"}).status_code == 200


def test_websocket_origin(server):
    kernel_id = server.start_kernel()
    path = f"/api/kernels/{kernel_id}/channels"
    try:
        for origin in ["http://evil.com", f"http://127.0.0.1.evil.com:{server.port}", "null",
                       f"http://127.0.0.1:{server.port + 1}", f"https://127.0.0.1:{server.port}"]:
            with pytest.raises(websocket.WebSocketBadStatusException) as info:
                server.ws(path, origin=origin)
            assert info.value.status_code == 403, origin
        server.ws(path, origin=f"http://127.0.0.1:{server.port}").close()  # our own origin
        server.ws(path, suppress_origin=True).close()  # a non-browser client sends none
    finally:
        server.delete(f"/api/kernels/{kernel_id}")


def test_allow_host_and_allow_origins(start_server):
    srv = start_server("--allow-host", "notebook.lan",
                       env={"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python",
                            "SALVUS_LOCAL_ALLOW_ORIGINS": "https://allowed.example.com"})
    assert srv.get("/api/kernels", headers={"Host": "notebook.lan"}).status_code == 200
    assert srv.get("/api/kernels", headers={"Host": "other.lan"}).status_code == 403
    kernel_id = srv.start_kernel()
    path = f"/api/kernels/{kernel_id}/channels"
    srv.ws(path, origin="https://allowed.example.com").close()
    for origin in ["https://allowed.example.com.evil.com", "http://allowed.example.com", "https://evil.com"]:
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            srv.ws(path, origin=origin)
        assert info.value.status_code == 403, origin


def test_unauthenticated_page_gets_login(server):
    r = requests.get(server.url("/tree/x"), allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=%2Ftree%2Fx"
    page = requests.get(server.url("/login", next="/tree/x"))
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert 'name="token"' in page.text and 'value="/tree/x"' in page.text


def test_login_form(server):
    s = requests.Session()
    s.get(server.url("/login"))
    xsrf = s.cookies["_xsrf"]
    bad = s.post(server.url("/login"), data={"token": "wrong", "_xsrf": xsrf, "next": "/x"}, allow_redirects=False)
    assert bad.status_code == 403 and "not valid" in bad.text
    assert f"salvus-local-{server.port}" not in s.cookies
    no_xsrf = s.post(server.url("/login"), data={"token": server.token, "next": "/x"}, allow_redirects=False)
    assert no_xsrf.status_code == 403
    ok = s.post(server.url("/login"), data={"token": server.token, "_xsrf": xsrf, "next": "/tree?a=1"},
                allow_redirects=False)
    assert ok.status_code == 302 and ok.headers["Location"] == "/tree?a=1"
    assert s.get(server.url("/api/kernels")).status_code == 200


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_next_only_redirects_locally(server, target):
    browser = server.browser()
    r = browser.get(server.url("/login"), params={"next": target}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    xsrf = browser.cookies["_xsrf"]
    r = browser.post(server.url("/login"), data={"token": server.token, "_xsrf": xsrf, "next": target},
                     allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_login_next_keeps_local_paths(server):
    r = server.browser().get(server.url("/login"), params={"next": "/notebooks/a.ipynb?x=1"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/notebooks/a.ipynb?x=1"


def test_new_token_invalidates_cookie(start_server, free_port_value, tmp_path):
    data_dir = tmp_path / "data"  # shared by both servers: same cookie secret, same port
    env = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python"}
    first = start_server(token="first-token", port=free_port_value, data_dir=data_dir, env=env)
    browser = first.browser()
    assert browser.get(first.url("/api/kernels")).status_code == 200
    first.stop()
    second = start_server(token="second-token", port=free_port_value, data_dir=data_dir, env=env)
    assert browser.get(second.url("/api/kernels")).status_code == 403


def test_secret_files_are_private(server):
    assert stat.S_IMODE(os.stat(server.data_dir / "secret").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(server.data_dir / "run" / "server.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(server.data_dir / "run").st_mode) == 0o700


def test_token_never_logged(server):
    server.get("/api/kernels", auth=False, params={"token": server.token})
    server.get("/api/nope", auth=False, params={"token": server.token})
    server.get("/api/kernels", auth=False, params={"token": "wrong-" + server.token})
    assert server.token not in server.log()


def test_500_has_no_traceback(tmp_path, caplog):
    """An unexpected error answers a bare JSON 500; the traceback goes to the server log only."""
    app = create_app(Config(data_dir=str(tmp_path), token="t"))

    @app.get("/api/explode")
    def explode():
        raise RuntimeError(f"secret detail in {tmp_path}")

    r = app.test_client().get("/api/explode", headers={"Authorization": "token t"})
    assert r.status_code == 500
    assert r.get_json() == {"message": "Internal server error", "reason": None}
    body = r.get_data(as_text=True)
    assert "Traceback" not in body and str(tmp_path) not in body and "secret" not in body
    assert "secret detail" in caplog.text  # logged server-side


@pytest.fixture
def free_port_value():
    from tests.conftest import free_port

    return free_port()
