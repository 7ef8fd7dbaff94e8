"""Publishing over HTTP against a real server: publish, read without login, unpublish, copy, export."""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.conftest import Server

NB = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_markdown_cell("# Title\n\nSome math: $x^2$"),
    nbformat.v4.new_code_cell("1+1", execution_count=1, outputs=[nbformat.v4.new_output(
        "execute_result", execution_count=1,
        data={"text/plain": "2", "text/html": "<img src=x onerror=alert(1)><b>2</b>"})]),
])


def put(server: Server, path: str, content: object, kind: str = "notebook", fmt: str = "json") -> None:
    parts = path.split("/")[:-1]
    for i in range(len(parts)):  # make the folders first, as a client would
        server.put("/api/contents/" + "/".join(parts[: i + 1]), json={"type": "directory"})
    r = server.put(f"/api/contents/{path}", json={"type": kind, "format": fmt, "content": content})
    assert r.status_code in (200, 201), r.text


def publish(server: Server, path: str) -> dict:
    r = server.post("/api/shares", json={"path": path})
    assert r.status_code == 201, r.text
    return r.json()


def test_publish_read_without_login_and_unpublish(server: Server) -> None:
    put(server, "pub/shared.ipynb", json.loads(nbformat.writes(NB)), "notebook")
    share = publish(server, "pub/shared.ipynb")
    assert share["url"] == f"/share/{share['slug']}/" and share["kind"] == "file"
    assert publish(server, "pub/shared.ipynb")["slug"] == share["slug"]  # idempotent
    page = server.get(share["url"], auth=False)
    assert page.status_code == 200 and 'data-page="share"' in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    data = server.get(f"/api/shares/{share['slug']}/contents/", auth=False).json()
    assert data["item"]["type"] == "notebook" and data["item"]["path"] == "shared.ipynb"
    assert data["item"]["content"]["cells"][1]["outputs"][0]["data"]["text/plain"] == "2"
    listed = server.get("/api/shares", params={"path": "pub/shared.ipynb"}).json()
    assert [s["slug"] for s in listed] == [share["slug"]]
    assert server.delete(f"/api/shares/{share['slug']}").status_code == 204
    assert server.get(share["url"], auth=False).status_code == 404
    assert server.get(f"/api/shares/{share['slug']}/contents/", auth=False).status_code == 404


def test_folder_share_sees_only_its_folder(server: Server) -> None:
    put(server, "folder1/inner/a.txt", "hello", "file", "text")
    put(server, "outside.txt", "secret", "file", "text")
    share = publish(server, "folder1")
    slug = share["slug"]
    listing = server.get(f"/api/shares/{slug}/contents/", auth=False).json()["item"]
    assert [e["name"] for e in listing["content"]] == ["inner"]
    assert server.get(f"/api/shares/{slug}/contents/inner/a.txt", auth=False).json()["item"]["content"] == "hello"
    for bad in ("../outside.txt", "inner/../../outside.txt", "%2e%2e/outside.txt", "inner//a.txt"):
        r = server.get(f"/api/shares/{slug}/contents/{bad}", auth=False)
        assert r.status_code in (400, 403, 404), (bad, r.status_code)  # 403: the client folded the dots away
        assert "secret" not in r.text
    r = server.get(f"/api/shares/{slug}/raw/inner/a.txt", auth=False)
    assert r.status_code == 200 and r.content == b"hello"
    assert r.headers["Content-Security-Policy"].startswith("sandbox") and r.headers["X-Content-Type-Options"] == "nosniff"


def test_share_management_needs_the_token(server: Server) -> None:
    put(server, "guarded.txt", "x", "file", "text")
    assert server.post("/api/shares", json={"path": "guarded.txt"}, auth=False).status_code == 403
    slug = publish(server, "guarded.txt")["slug"]
    assert server.delete(f"/api/shares/{slug}", auth=False).status_code == 403
    assert server.post(f"/api/shares/{slug}/copy", json={}, auth=False).status_code == 403
    assert server.get("/api/shares", auth=False).status_code == 403


@pytest.mark.parametrize("body, words", [
    ({}, "'path'"),
    ({"path": 5}, "'path'"),
    ({"path": "no/such.ipynb"}, "no/such.ipynb"),
    ({"path": "../etc/passwd"}, ""),
    ({"path": "x", "project": 3}, "'project'"),
    ({"path": "x", "project": "nope"}, "nope"),
])
def test_bad_publish_requests(server: Server, body: dict, words: str) -> None:
    r = server.post("/api/shares", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert words in r.json()["message"]


def test_copy_into_a_project(server: Server) -> None:
    put(server, "tocopy.ipynb", json.loads(nbformat.writes(NB)), "notebook")
    slug = publish(server, "tocopy.ipynb")["slug"]
    project = server.post("/api/projects", json={"title": "Copies"}).json()
    r = server.post(f"/api/shares/{slug}/copy", json={"project": project["id"]})
    assert r.status_code == 201, r.text
    copied = server.get(f"/p/{project['id']}/api/contents/{r.json()['path']}").json()
    assert copied["content"]["cells"][1]["source"] == "1+1"
    second = server.post(f"/api/shares/{slug}/copy", json={"project": project["id"]}).json()
    assert second["path"] != r.json()["path"]  # never overwrites


def test_export_html_and_pdf(server: Server) -> None:
    put(server, "exp.ipynb", json.loads(nbformat.writes(NB)), "notebook")
    r = server.get("/api/export", params={"path": "exp.ipynb", "to": "html"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "attachment" in r.headers["Content-Disposition"]
    assert "<b>2</b>" in r.text and "<img src=x onerror" not in r.text  # untrusted output: sanitized (escaped)
    r = server.get("/api/export", params={"path": "exp.ipynb", "to": "pdf"})
    if r.status_code == 501:
        assert "Chromium" in r.json()["message"] and "LaTeX" in r.json()["message"]
    else:
        assert r.status_code == 200 and r.content.startswith(b"%PDF-")
        assert r.headers["X-Salvus-Export-Engine"] in ("chromium", "latex")
    assert server.get("/api/export", params={"path": "exp.ipynb", "to": "doc"}).status_code == 400
    assert "'path'" in server.get("/api/export", params={"path": "a.txt"}).json()["message"]


def test_hidden_files_of_a_published_project_stay_private(server: Server) -> None:
    project = server.post("/api/projects", json={"title": "Whole"}).json()
    put_p = lambda path, text: server.put(f"/p/{project['id']}/api/contents/{path}",  # noqa: E731
                                          json={"type": "file", "format": "text", "content": text})
    assert put_p("visible.txt", "hi").status_code in (200, 201)
    r = server.post("/api/shares", json={"project": project["id"], "path": ""})
    assert r.status_code == 201, r.text
    slug = r.json()["slug"]
    names = [e["name"] for e in server.get(f"/api/shares/{slug}/contents/", auth=False).json()["item"]["content"]]
    assert "visible.txt" in names and not [n for n in names if n.startswith(".")]
    for hidden in (".git/config", ".git/HEAD", ".salvus/project.json", "sub/.hidden"):
        assert server.get(f"/api/shares/{slug}/contents/{hidden}", auth=False).status_code == 404
        assert server.get(f"/api/shares/{slug}/raw/{hidden}", auth=False).status_code == 404


def test_links_cannot_leave_the_shared_folder(server: Server) -> None:
    project = server.post("/api/projects", json={"title": "Links"}).json()
    root = __import__("pathlib").Path(server.get(f"/api/projects/{project['id']}").json()["path"])
    (root / "pub").mkdir()
    (root / "secret.txt").write_text("secret")
    (root / "pub" / "ok.txt").write_text("fine")
    (root / "pub" / "leak.txt").symlink_to("../secret.txt")
    (root / "pub" / "git").symlink_to("../.git")
    slug = server.post("/api/shares", json={"project": project["id"], "path": "pub"}).json()["slug"]
    assert server.get(f"/api/shares/{slug}/contents/ok.txt", auth=False).json()["item"]["content"] == "fine"
    for bad in ("leak.txt", "git/config", "git"):
        for kind in ("contents", "raw"):
            r = server.get(f"/api/shares/{slug}/{kind}/{bad}", auth=False)
            assert r.status_code == 404 and "secret" not in r.text, (bad, kind, r.status_code)


@pytest.mark.parametrize("name", ["gadget.js", "gadget.mjs", "gadget.cjs", "page.html", "pic.svg"])
def test_raw_bytes_never_run_as_a_script_of_our_origin(server: Server, name: str) -> None:
    # A published .js served as JavaScript is a same-origin script any HTML injection (an
    # <iframe srcdoc> in a trusted notebook) could load past `script-src 'self'`.
    put(server, f"gadgets/{name}", "top.pwned = 1", "file", "text")
    slug = publish(server, f"gadgets/{name}")["slug"]
    r = server.get(f"/api/shares/{slug}/raw/", auth=False)
    assert r.status_code == 200 and r.content == b"top.pwned = 1"
    mime = r.headers["Content-Type"].split(";")[0].strip().lower()
    assert "javascript" not in mime and "ecmascript" not in mime, mime
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", [".hidden.txt", "..dots.txt", ".secret/inner.txt"])
def test_publishing_a_hidden_file_says_it_never_would_be_served(server: Server, path: str) -> None:
    # It was a 201 with a link that always answered 404.
    put(server, path, "x", "file", "text")
    r = server.post("/api/shares", json={"path": path})
    assert r.status_code == 400 and "hidden" in r.json()["message"], r.text
    assert server.get("/api/shares", params={"path": path}).json() == []
