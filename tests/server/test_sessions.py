"""/api/sessions with jupyter_server's shapes: create/reuse, patch, delete, and clear errors."""

from __future__ import annotations

import pytest


@pytest.fixture
def session(server):
    """A notebook session on a python3 kernel, deleted afterwards."""
    r = server.post("/api/sessions", json={"path": "nb/a.ipynb", "type": "notebook", "name": "a.ipynb",
                                           "kernel": {"name": "python3"}})
    assert r.status_code == 201, r.text
    yield r.json()
    server.delete(f"/api/sessions/{r.json()['id']}")


def test_create_shape(server, session):
    assert set(session) >= {"id", "path", "name", "type", "kernel", "notebook"}
    assert session["path"] == "nb/a.ipynb" and session["type"] == "notebook"
    assert session["notebook"] == {"path": "nb/a.ipynb", "name": "a.ipynb"}
    assert session["kernel"]["name"] == "python3"
    assert server.get(f"/api/sessions/{session['id']}").json() == {
        **session, "kernel": server.get(f"/api/kernels/{session['kernel']['id']}").json()}
    assert session["id"] in [s["id"] for s in server.get("/api/sessions").json()]


def test_location_header(server):
    r = server.post("/api/sessions", json={"path": "loc.ipynb", "type": "notebook"})
    try:
        assert r.status_code == 201 and r.headers["Location"] == f"/api/sessions/{r.json()['id']}"
    finally:
        server.delete(f"/api/sessions/{r.json()['id']}")


def test_same_path_reuses_session(server, session):
    r = server.post("/api/sessions", json={"path": "nb/a.ipynb", "type": "notebook"})
    assert r.status_code == 201
    assert r.json()["id"] == session["id"] and r.json()["kernel"]["id"] == session["kernel"]["id"]


def test_patch_path_and_name(server, session):
    r = server.patch(f"/api/sessions/{session['id']}", json={"path": "nb/b.ipynb", "name": "b.ipynb"})
    assert r.status_code == 200
    assert r.json()["path"] == "nb/b.ipynb" and r.json()["name"] == "b.ipynb"
    assert r.json()["kernel"]["id"] == session["kernel"]["id"]


def test_patch_kernel_by_name_replaces_kernel(server, session):
    old = session["kernel"]["id"]
    r = server.patch(f"/api/sessions/{session['id']}", json={"kernel": {"name": "python3"}})
    assert r.status_code == 200
    new = r.json()["kernel"]["id"]
    assert new != old
    assert server.get(f"/api/kernels/{old}").status_code == 404


def test_patch_kernel_by_id(server, session):
    other = server.start_kernel()
    r = server.patch(f"/api/sessions/{session['id']}", json={"kernel": {"id": other}})
    assert r.status_code == 200 and r.json()["kernel"]["id"] == other
    r = server.patch(f"/api/sessions/{session['id']}", json={"kernel": {"id": "nope"}})
    assert r.status_code == 400 and r.json()["message"] == "No such kernel: nope"


def test_delete_shuts_kernel_down(server):
    s = server.post("/api/sessions", json={"path": "del.ipynb", "type": "notebook"}).json()
    r = server.delete(f"/api/sessions/{s['id']}")
    assert r.status_code == 204
    assert server.get(f"/api/kernels/{s['kernel']['id']}").status_code == 404
    assert server.get(f"/api/sessions/{s['id']}").status_code == 404


def test_session_of_a_deleted_kernel_disappears(server):
    s = server.post("/api/sessions", json={"path": "gone.ipynb", "type": "notebook"}).json()
    server.delete(f"/api/kernels/{s['kernel']['id']}")
    assert s["id"] not in [x["id"] for x in server.get("/api/sessions").json()]


@pytest.mark.parametrize("body,status,fix", [
    ({"type": "notebook"}, 400, "Missing field in JSON data: path"),
    ({"path": "x.ipynb"}, 400, "Missing field in JSON data: type"),
    ({"path": 3, "type": "notebook"}, 400, "'path' must be a string"),
    ({"path": "../x.ipynb", "type": "notebook"}, 400, "Invalid path"),
    ({"path": "x.ipynb", "type": "notebook", "kernel": "python3"}, 400, "'kernel' must be an object"),
    ({"path": "x.ipynb", "type": "notebook", "kernel": {"name": "cobol"}}, 501, "'cobol' kernel is not available"),
])
def test_create_errors(server, body, status, fix):
    before = server.get("/api/kernels").json()
    r = server.post("/api/sessions", json=body)
    assert r.status_code == status and fix in r.json()["message"]
    assert server.get("/api/kernels").json() == before


def test_empty_and_malformed_bodies(server):
    assert server.post("/api/sessions").status_code == 400
    assert "No JSON data" in server.post("/api/sessions").json()["message"]
    assert server.post("/api/sessions", data="{").status_code == 400


def test_unknown_session_404(server):
    for method in ("GET", "PATCH", "DELETE"):
        r = server.request(method, "/api/sessions/nope", json={"name": "x"})
        assert r.status_code == 404 and "Session not found" in r.json()["message"]
