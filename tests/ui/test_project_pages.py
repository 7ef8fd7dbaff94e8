"""The project pages over plain HTTP: every route renders its page with the project's data, escaped."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Server

PAGES = [
    ("/projects", "projects", "default", ""),
    ("/files/", "files", "default", ""),
    ("/files/a/b", "files", "default", "a/b"),
    ("/edit/a/b.py", "edit", "default", "a/b.py"),
    ("/terminals/", "terminal", "default", ""),
    ("/terminals/3", "terminal", "default", ""),
    ("/p/proj-1/files/x", "files", "proj-1", "x"),
    ("/p/proj-1/edit/x.tex", "edit", "proj-1", "x.tex"),
    ("/p/proj-1/terminals/2", "terminal", "proj-1", ""),
    ("/p/proj-1/notebooks/n.ipynb", "notebook", "proj-1", "n.ipynb"),
]


@pytest.mark.parametrize(("url", "page", "project", "path"), PAGES)
def test_route_renders_its_page(client: Server, url: str, page: str, project: str, path: str) -> None:
    r = client.get(url)
    assert r.status_code == 200, url
    body = re.search(r"<body ([^>]*)>", r.text).group(1)
    assert f'data-page="{page}"' in body and f'data-project="{project}"' in body and f'data-path="{path}"' in body
    assert 'data-root="/"' in body
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "no-store" in r.headers["Cache-Control"]


def test_pages_need_auth(client: Server) -> None:
    for url in ("/projects", "/files/", "/edit/a.py", "/terminals/1", "/p/x/files/"):
        r = client.get(url, auth=False)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), url


def test_hostile_names_are_escaped(client: Server) -> None:
    r = client.get('/p/"><script>alert(1)<%2Fscript>/terminals/"><img src=x onerror=alert(2)>')
    assert r.status_code in (200, 404)
    assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
    r = client.get('/edit/"><script>alert(1)</script>.py')
    assert r.status_code == 200 and "<script>alert(1)</script>" not in r.text


def test_every_page_is_built(client: Server) -> None:
    html = {url: client.get(url).text for url in ("/projects", "/files/", "/edit/x.py", "/terminals/")}
    for url, text in html.items():
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', text):
            assert client.get(asset, auth=False).status_code == 200, (url, asset)
