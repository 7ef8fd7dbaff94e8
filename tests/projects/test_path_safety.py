"""Paths that try to leave the project: 400 or 404, never a file outside (checklist item 10)."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salvus_local.store import paths
from salvus_local.store.errors import BadRequest, NotFound
from tests.conftest import Server
from tests.projects.conftest import Client

ATTACKS = [
    "..", "../secret.txt", "a/../../secret.txt", "%2e%2e/secret.txt", "..%2Fsecret.txt", "a%2F..%2F..%2Fsecret.txt",
    "%2Fetc%2Fpasswd", "//etc/passwd", "a%00b", "%00", ".git/config", ".git/hooks/pre-commit", "sub/.git/HEAD",
    ".salvus/trash/x", ".salvus/checkpoints/x", "../defaultX/secret.txt",
]


class Raw:
    """Answer of a raw request: requests would normalize '..' away before sending."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.text = status, body.decode("utf-8", "replace")

    def json(self) -> dict:
        return json.loads(self.text)


def raw_request(server: Server, method: str, path: str, body: dict | None = None) -> Raw:
    """Send the path bytes exactly as given."""
    conn = http.client.HTTPConnection(urlsplit(server.base_url).netloc, timeout=30)
    headers = {"Authorization": f"token {server.token}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    out = Raw(resp.status, resp.read())
    conn.close()
    return out


@pytest.fixture
def client(api: Client) -> Client:
    """These tests attack the default project, at the server's root URLs."""
    return api


@pytest.fixture
def root(api: Client, data_dir: Path) -> Path:
    """The default project's folder."""
    assert api.get("/api/contents").status_code == 200  # the default project exists
    return data_dir / "projects" / "default"


@pytest.fixture
def outside(root: Path) -> Path:
    """A sibling folder whose name extends the project's (the 'proj' vs 'projX' trap)."""
    sibling = root.parent / (root.name + "X")
    sibling.mkdir(exist_ok=True)
    (sibling / "secret.txt").write_text("secret")
    (root.parent / "secret.txt").write_text("secret")
    return sibling


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_paths_are_refused(client, server: Server, root: Path, outside: Path, attack: str) -> None:
    for method, body in (("GET", None), ("PUT", {"type": "file", "format": "text", "content": "pwned"}),
                         ("DELETE", None), ("PATCH", {"path": "moved.txt"})):
        r = raw_request(server, method, f"/api/contents/{attack}", body)
        assert r.status_code in (400, 404), (method, attack, r.status_code, r.text)
        assert "secret" not in r.text or "secret.txt" in r.json().get("message", "")
    assert (outside / "secret.txt").read_text() == "secret"
    assert (root.parent / "secret.txt").read_text() == "secret"
    r = client.patch("/api/contents/", json={"path": "x"})
    assert r.status_code in (400, 404)


@pytest.mark.parametrize("name", ["a:b.txt", "c:", "line\nbreak.txt", "tab\tand\rcr.txt", "back\\slash.txt",
                                  "sub/x:y.txt"])
def test_odd_but_legal_names_work_end_to_end(client, root: Path, name: str) -> None:
    """Names POSIX allows (colon, newline, backslash) can be saved, listed, read, renamed and deleted."""
    url = "/api/contents/" + quote(name)
    assert client.put("/api/contents/sub", json={"type": "directory"}).status_code in (200, 201)
    r = client.put(url, json={"type": "file", "format": "text", "content": "odd"})
    assert r.status_code == 201, r.text
    assert (root / name).read_text() == "odd"
    folder = name.rsplit("/", 1)[0] if "/" in name else ""
    assert name in [e["path"] for e in client.get(f"/api/contents/{folder}").json()["content"]]
    assert client.get(url).json()["content"] == "odd"
    assert client.patch(url, json={"path": name + ".moved"}).status_code == 200
    r = client.delete("/api/contents/" + quote(name + ".moved"))
    assert r.status_code == 204, r.text
    assert not (root / (name + ".moved")).exists()


@pytest.mark.parametrize("name", ["L" * 300 + ".txt", "sub/" + "é" * 200])
def test_too_long_names_are_400(client, root: Path, name: str) -> None:
    """Past the file system's limits (255 bytes a name, about 4 KB a path) the answer is a 400 saying so."""
    url = "/api/contents/" + quote(name)
    for method, body in (("GET", None), ("PUT", {"type": "file", "format": "text", "content": "x"}),
                         ("DELETE", None), ("PATCH", {"path": "moved.txt"})):
        r = client.request(method, url, json=body)
        assert r.status_code == 400, (method, r.status_code, r.text)
        assert "too long" in r.json()["message"]
    assert client.put("/api/contents/short.txt", json={"type": "file", "format": "text", "content": "x"}).ok
    for target in ("L" * 300, "/".join(["d" * 200] * 25)):  # a long name; a path longer than any URL
        r = client.patch("/api/contents/short.txt", json={"path": target})
        assert r.status_code == 400 and "too long" in r.json()["message"], r.text
    assert (root / "short.txt").read_text() == "x"


def test_copies_of_names_at_the_limit_are_shortened(client, root: Path) -> None:
    """Copying a 250-byte name makes '<shortened>-Copy1.txt' within 255 bytes, not an ENAMETOOLONG 500."""
    name = "M" * 250 + ".txt"
    assert client.put("/api/contents/" + name, json={"type": "file", "format": "text", "content": "x"}).ok
    names = set()
    for _ in range(2):
        r = client.post("/api/contents", json={"copy_from": name})
        assert r.status_code == 201, r.text
        names.add(r.json()["name"])
    assert len(names) == 2 and all(len(n.encode()) <= 255 and n.endswith(".txt") for n in names), names
    assert all((root / n).read_text() == "x" for n in names)


PROJECT_IDS = ["no-such-project", "..", "%2e%2e", "..%2Fdefault", "default%2F..", "DEFAULT", "a%00b", "-x", "x" * 70]
PROJECT_ROUTES = [("GET", "api/contents", None), ("PUT", "api/contents/x.txt", {"type": "directory"}),
                  ("GET", "api/kernels", None), ("POST", "api/kernels", {"name": "python3"}),
                  ("GET", "api/sessions", None), ("POST", "api/sessions", {"path": "a.ipynb", "type": "notebook"}),
                  ("GET", "api/terminals", None), ("POST", "api/terminals", {}), ("GET", "api/kernels/k/channels", None)]


@pytest.mark.parametrize("pid", PROJECT_IDS)
def test_unknown_or_malformed_project_ids_are_404(client, server: Server, pid: str) -> None:
    kernels, terminals = client.get("/api/kernels").json(), client.get("/api/terminals").json()
    for method, rest, body in PROJECT_ROUTES:
        r = raw_request(server, method, f"/p/{pid}/{rest}", body)
        assert r.status_code in (400, 404), (method, pid, rest, r.status_code, r.text)
        if "%2F" not in pid:  # with a decoded slash no /p/<id>/api route matches at all
            assert r.json()["message"]
    assert client.get("/api/kernels").json() == kernels and client.get("/api/terminals").json() == terminals
    assert client.get("/api/sessions").json() == []


def test_rename_target_outside_is_refused(client, root: Path, outside: Path) -> None:
    (root / "mine.txt").write_text("mine")
    for target in ("../mine.txt", "../defaultX/mine.txt", "/tmp/mine.txt", ".git/mine.txt"):
        r = client.patch("/api/contents/mine.txt", json={"path": target})
        assert r.status_code in (400, 404), target
    assert (root / "mine.txt").read_text() == "mine"


def test_symlink_leaving_the_project_is_404(client, root: Path, outside: Path) -> None:
    (root / "link").symlink_to(outside)
    (root / "filelink.txt").symlink_to(outside / "secret.txt")
    (root / "inside.txt").write_text("ok")
    (root / "goodlink.txt").symlink_to(root / "inside.txt")
    assert client.get("/api/contents/link/secret.txt").status_code == 404
    assert client.get("/api/contents/filelink.txt").status_code == 404
    r = client.put("/api/contents/link/new.txt", json={"type": "file", "format": "text", "content": "x"})
    assert r.status_code == 404 and not (outside / "new.txt").exists()
    assert client.get("/api/contents/goodlink.txt").json()["content"] == "ok"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["..", ".", "", "a", "b", "link", ".git", "X", "\x00", "/", "\\", "..a", "c:"]),
                max_size=6).map("/".join) | st.text(max_size=30))
def test_resolve_never_escapes(tmp_path_factory, api_path: str) -> None:
    base = tmp_path_factory.mktemp("prop")
    root = base / "proj"
    (root / "a" / "b").mkdir(parents=True)
    (base / "projX").mkdir()
    (root / "link").symlink_to(base / "projX")
    try:
        result = paths.resolve(root, api_path)
    except (BadRequest, NotFound):
        return
    real_root = os.path.realpath(root)
    real = os.path.realpath(result)
    assert real == real_root or real.startswith(real_root + os.sep)
    assert ".." not in Path(result).relative_to(real_root).parts
