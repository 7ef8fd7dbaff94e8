"""The pages blueprint over plain HTTP: auth, security headers, caching, bad paths."""

from __future__ import annotations

import re

from tests.conftest import Server


def test_pages_need_auth(client: Server) -> None:
    r = client.get("/", auth=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    r = client.get("/notebooks/a.ipynb", auth=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_page_has_strict_csp_and_no_inline_script(client: Server) -> None:
    r = client.get("/")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r.headers["Cache-Control"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)


def test_hashed_assets_are_cached_for_a_year(client: Server) -> None:
    html = client.get("/").text
    js = re.search(r'src="(/static/[^"]+\.js)"', html).group(1)
    css = re.search(r'href="(/static/[^"]+\.css)"', html).group(1)
    for url in (js, css):
        r = client.get(url, auth=False)  # assets are public: they carry no secrets
        assert r.status_code == 200
        assert "immutable" in r.headers["Cache-Control"] and "max-age=31536000" in r.headers["Cache-Control"]
    assert client.get("/static/favicon.svg").headers["Cache-Control"] == "no-cache"


def test_bad_static_paths_are_404(client: Server) -> None:
    for path in ("/static/nope.js", "/static/../pages/__init__.py", "/static/%2e%2e/server/auth.py",
                 "/static/..%2f..%2fconfig.py"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "Traceback" not in r.text


def test_notebook_path_is_escaped_in_the_page(client: Server) -> None:
    r = client.get('/notebooks/"><script>alert(1)</script>.ipynb')
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_jupyter_home_urls_lead_home(client: Server) -> None:
    for path in ("/tree", "/tree/sub", "/lab"):
        r = client.get(path, allow_redirects=True)
        assert r.status_code == 200 and 'data-page="starter"' in r.text, path
