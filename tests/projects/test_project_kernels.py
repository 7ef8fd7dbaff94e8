"""A Jupyter client attached at a project's base URL /p/<id>/ sees that project's files and kernels run there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import websocket

from tests.conftest import Server
from tests.projects.conftest import Client


def cwd_of(client: Client, kernel_id: str) -> str:
    """Ask a kernel for its working directory over the websocket."""
    kc = client.kernel(kernel_id)
    try:
        return kc.execute("import os; print(os.getcwd())").text.strip()
    finally:
        kc.close()


def test_kernel_runs_in_the_project_and_writes_there(client: Client, api: Client, project: dict, root: Path) -> None:
    r = client.post("/api/kernels", json={"name": "python3"})
    assert r.status_code == 201 and r.headers["Location"] == f"/p/{project['id']}/api/kernels/{r.json()['id']}"
    kid = r.json()["id"]
    try:
        kc = client.kernel(kid)
        assert kc.execute("import os; print(os.getcwd())").text.strip() == os.path.realpath(root)
        assert kc.execute("open('x.txt', 'w').write('from the kernel')").reply["content"]["status"] == "ok"
        kc.close()
        assert (root / "x.txt").read_text() == "from the kernel"
        assert client.get("/api/contents/x.txt").json()["content"] == "from the kernel"
        assert api.get("/api/contents/x.txt").status_code == 404  # not the default project's file
        assert [k["id"] for k in client.get("/api/kernels").json()] == [kid]
        assert kid in [k["id"] for k in api.get("/api/kernels").json()]  # the server-wide list has them all
        assert client.get(f"/api/kernels/{kid}").json()["id"] == kid
        assert client.post(f"/api/kernels/{kid}/interrupt").status_code == 204
        assert client.post(f"/api/kernels/{kid}/restart").status_code == 200
        assert cwd_of(client, kid) == os.path.realpath(root)  # a restart stays in the project
    finally:
        assert client.delete(f"/api/kernels/{kid}").status_code == 204
    assert client.get(f"/api/kernels/{kid}").status_code == 404 and client.get("/api/kernels").json() == []


def test_kernel_path_is_relative_to_the_project(client: Client, root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    kid = client.post("/api/kernels", json={"name": "python3", "path": "sub/deeper"}).json()["id"]
    try:
        assert cwd_of(client, kid) == os.path.realpath(root / "sub" / "deeper")
    finally:
        client.delete(f"/api/kernels/{kid}")


@pytest.mark.parametrize("body,status,fragment", [
    ({"name": "python3", "path": "../"}, 400, "Invalid path"),
    ({"name": "python3", "path": "/etc"}, 400, "Invalid path"),
    ({"name": "python3", "path": "escape"}, 400, "Invalid path"),
    ({"name": "python3", "path": 5}, 400, "must be a string"),
    ({"name": "no-such-kernel"}, 404, "No such kernel"),
])
def test_bad_kernel_requests_start_nothing(client: Client, api: Client, root: Path, body: dict, status: int,
                                           fragment: str) -> None:
    (root / "escape").symlink_to(root.parent)
    before = api.get("/api/kernels").json()
    r = client.post("/api/kernels", json=body)
    assert r.status_code == status and fragment in r.json()["message"]
    assert api.get("/api/kernels").json() == before


def test_other_projects_and_unknown_projects_are_404(server: Server, client: Client, api: Client) -> None:
    other = api.post("/api/projects", json={"title": "Other"}).json()
    kid = client.post("/api/kernels", json={"name": "python3"}).json()["id"]
    try:
        theirs = Client(server, f"/p/{other['id']}")
        assert theirs.get("/api/kernels").json() == []
        for method, path in (("GET", ""), ("POST", "/interrupt"), ("POST", "/restart"), ("DELETE", "")):
            r = theirs.request(method, f"/api/kernels/{kid}{path}")
            assert r.status_code == 404 and r.json()["message"], (method, path)
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            server.ws(f"/p/{other['id']}/api/kernels/{kid}/channels")
        assert refused.value.status_code == 404
        for method, path in (("GET", "/api/kernels"), ("POST", "/api/kernels"), ("GET", f"/api/kernels/{kid}"),
                             ("GET", "/api/sessions"), ("POST", "/api/sessions")):
            r = api.request(method, f"/p/no-such-project{path}", json={"name": "python3"})
            assert r.status_code == 404 and "No such project" in r.json()["message"], (method, path)
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            server.ws(f"/p/no-such-project/api/kernels/{kid}/channels")
        assert refused.value.status_code == 404
        assert client.get(f"/api/kernels/{kid}").json()["execution_state"] in ("idle", "busy")  # untouched
    finally:
        client.delete(f"/api/kernels/{kid}")


def test_notebook_session_runs_in_its_folder(client: Client, api: Client, project: dict, root: Path) -> None:
    """A notebook at /p/<id>/api/contents/a/b.ipynb with a session at path a/b.ipynb runs in <project>/a."""
    assert client.put("/api/contents/a", json={"type": "directory"}).status_code == 201
    assert client.put("/api/contents/a/b.ipynb").status_code == 201
    r = client.post("/api/sessions", json={"path": "a/b.ipynb", "type": "notebook", "name": "b.ipynb",
                                           "kernel": {"name": "python3"}})
    assert r.status_code == 201 and r.headers["Location"] == f"/p/{project['id']}/api/sessions/{r.json()['id']}"
    session = r.json()
    kc = client.kernel(session["kernel"]["id"])
    try:
        assert kc.execute("import os; print(os.getcwd())").text.strip() == os.path.realpath(root / "a")
        assert kc.execute("open('x.txt', 'w').write('next to the notebook')").reply["content"]["status"] == "ok"
    finally:
        kc.close()
    assert client.get("/api/contents/a/x.txt").json()["content"] == "next to the notebook"
    assert [s["id"] for s in client.get("/api/sessions").json()] == [session["id"]]
    assert client.post("/api/sessions", json={"path": "a/b.ipynb", "type": "notebook"}).json()["id"] == session["id"]
    assert session["id"] not in [s["id"] for s in api.get("/api/sessions").json()]  # /api is the default project
    other = api.post("/api/projects", json={"title": "Other"}).json()
    assert api.get(f"/p/{other['id']}/api/sessions/{session['id']}").status_code == 404
    assert api.delete(f"/p/{other['id']}/api/sessions/{session['id']}").status_code == 404
    r = api.post(f"/p/{other['id']}/api/sessions", json={"path": "a/b.ipynb", "type": "notebook",
                                                         "kernel": {"id": session["kernel"]["id"]}})
    assert r.status_code == 400 and "No such kernel" in r.json()["message"]  # a kernel of another project
    r = client.patch(f"/api/sessions/{session['id']}", json={"path": "../b.ipynb"})
    assert r.status_code == 400 and client.get(f"/api/sessions/{session['id']}").json()["path"] == "a/b.ipynb"
    assert client.patch(f"/api/sessions/{session['id']}", json={"path": "c.ipynb"}).json()["path"] == "c.ipynb"
    assert client.delete(f"/api/sessions/{session['id']}").status_code == 204
    assert client.get("/api/sessions").json() == [] and client.get("/api/kernels").json() == []
