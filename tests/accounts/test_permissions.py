"""Project permissions in multi-user mode: cross-project refusals (page, REST, raw websockets) and viewer limits."""

from __future__ import annotations

import pytest

from .conftest import make_user, ws_status


@pytest.fixture(scope="module")
def alice_setup(multi):
    """alice with a file, a running kernel and a terminal in her home project; bob, a stranger."""
    alice, bob = make_user(multi, prefix="alice"), make_user(multi, prefix="bob")
    assert alice.put("/api/contents/secret.txt", json={"type": "file", "format": "text",
                                                       "content": "alice's secret"}).status_code in (200, 201)
    home = alice.home()
    kernel = alice.post("/api/kernels", json={"name": "python3"})
    assert kernel.status_code == 201, kernel.text
    term = alice.post("/api/terminals", json={})
    assert term.status_code == 200, term.text
    yield {"alice": alice, "bob": bob, "home": home, "kernel": kernel.json()["id"], "term": term.json()["name"]}
    alice.delete(f"/api/kernels/{kernel.json()['id']}")
    alice.delete(f"/api/terminals/{term.json()['name']}")


def test_default_urls_are_the_users_home(alice_setup):
    alice, bob, home = alice_setup["alice"], alice_setup["bob"], alice_setup["home"]
    assert alice.get("/api/contents/secret.txt").json()["content"] == "alice's secret"
    assert alice.get(f"/p/{home}/api/contents/secret.txt").status_code == 200
    assert bob.get("/api/contents/secret.txt").status_code == 404  # bob's home has no such file
    assert home not in [p["id"] for p in bob.get("/api/projects").json()]
    assert alice_setup["kernel"] not in [k["id"] for k in bob.get("/api/kernels").json()]
    assert alice_setup["kernel"] in [k["id"] for k in alice.get("/api/kernels").json()]


def test_stranger_learns_nothing_by_rest(alice_setup):
    bob, home, kid = alice_setup["bob"], alice_setup["home"], alice_setup["kernel"]
    missing = bob.get("/p/no-such-project-abc/api/contents").json()
    for method, path in [
        ("GET", f"/p/{home}/api/contents"), ("GET", f"/p/{home}/api/contents/secret.txt"),
        ("PUT", f"/p/{home}/api/contents/x.txt"), ("GET", f"/p/{home}/api/kernels"),
        ("POST", f"/p/{home}/api/kernels"), ("GET", f"/p/{home}/api/sessions"),
        ("GET", f"/p/{home}/api/terminals"), ("POST", f"/p/{home}/api/terminals"),
        ("GET", f"/api/projects/{home}"), ("PATCH", f"/api/projects/{home}"), ("DELETE", f"/api/projects/{home}"),
        ("GET", f"/api/projects/{home}/versions"), ("GET", f"/api/projects/{home}/collaborators"),
        ("GET", f"/api/kernels/{kid}"), ("DELETE", f"/api/kernels/{kid}"), ("POST", f"/api/kernels/{kid}/restart"),
        ("GET", f"/p/{home}/api/kernels/{kid}"), ("GET", f"/api/search?q=secret&project={home}"),
    ]:
        r = bob.request(method, path, json={"type": "file", "format": "text", "content": "x"})
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        if path.startswith("/api/kernels/"):  # a kernel URL names no project: answered as a missing kernel
            assert r.json()["message"] == f"Kernel does not exist: {kid}" and home not in r.text, (method, path)
        else:
            assert r.json()["message"] == missing["message"].replace("no-such-project-abc", home), (method, path)
        assert "secret" not in r.text or "q=secret" in path and "alice's" not in r.text
    # nothing changed: the kernel still runs and the file is alice's
    assert alice_setup["alice"].get(f"/api/kernels/{kid}").status_code == 200
    assert alice_setup["alice"].get("/api/contents/x.txt").status_code == 404


def test_stranger_learns_nothing_by_page(alice_setup):
    bob, home = alice_setup["bob"], alice_setup["home"]
    for page in ["/", "/notebooks/secret.txt", "/files/", "/terminals/"]:
        r = bob.get(f"/p/{home}{page}")
        assert r.status_code == 404, (page, r.status_code)
        assert r.text == bob.get(f"/p/no-such-xyz{page}").text.replace("no-such-xyz", home)  # as if it did not exist


def test_stranger_websockets_refused_before_upgrade(alice_setup):
    bob, home, kid, term = alice_setup["bob"], alice_setup["home"], alice_setup["kernel"], alice_setup["term"]
    assert ws_status(lambda: bob.ws(f"/api/kernels/{kid}/channels")) == 404
    assert ws_status(lambda: bob.ws(f"/p/{home}/api/kernels/{kid}/channels")) == 404
    assert ws_status(lambda: bob.ws(f"/p/{home}/terminals/websocket/{term}")) == 404
    assert ws_status(lambda: bob.ws(f"/terminals/websocket/{term}")) == 404  # bob's home has no such terminal
    assert alice_setup["alice"].get(f"/api/kernels/{kid}").json()["connections"] == 0
    # alice herself gets in, by both URLs
    assert ws_status(lambda: alice_setup["alice"].ws(f"/api/kernels/{kid}/channels")) == 0
    assert ws_status(lambda: alice_setup["alice"].ws(f"/p/{home}/api/kernels/{kid}/channels")) == 0


def test_viewer_reads_but_cannot_write_run_or_open_terminals(multi, alice_setup):
    alice, home, kid, term = alice_setup["alice"], alice_setup["home"], alice_setup["kernel"], alice_setup["term"]
    viewer = make_user(multi, prefix="viewer")
    r = alice.put(f"/api/projects/{home}/collaborators/{viewer.name}", json={"role": "viewer"})
    assert r.status_code == 200 and {"name": viewer.name, "display_name": viewer.name, "role": "viewer"} in \
        r.json()["collaborators"]
    shared = {p["id"]: p for p in viewer.get("/api/projects").json()}
    assert shared[home]["role"] == "viewer" and shared[home]["owner"] == alice.name
    assert viewer.get(f"/p/{home}/api/contents/secret.txt").json()["content"] == "alice's secret"
    assert viewer.get(f"/p/{home}/api/kernels").status_code == 200
    assert viewer.get(f"/p/{home}/notebooks/a.ipynb").status_code in (200, 503)  # the page (503: client not built)
    for method, path, body in [
        ("PUT", f"/p/{home}/api/contents/secret.txt", {"type": "file", "format": "text", "content": "gone"}),
        ("DELETE", f"/p/{home}/api/contents/secret.txt", None),
        ("POST", f"/p/{home}/api/kernels", {"name": "python3"}),
        ("POST", f"/p/{home}/api/sessions", {"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}}),
        ("DELETE", f"/p/{home}/api/kernels/{kid}", None),
        ("POST", f"/p/{home}/api/terminals", {}),
        ("PUT", f"/api/projects/{home}/collaborators/{viewer.name}", {"role": "editor"}),
    ]:
        r = viewer.request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "viewer" in r.json()["message"] or "owner" in r.json()["message"], r.text
    assert ws_status(lambda: viewer.ws(f"/p/{home}/api/kernels/{kid}/channels")) == 403
    assert ws_status(lambda: viewer.ws(f"/api/kernels/{kid}/channels")) == 403
    assert ws_status(lambda: viewer.ws(f"/p/{home}/terminals/websocket/{term}")) == 403
    assert alice.get("/api/contents/secret.txt").json()["content"] == "alice's secret"
    assert alice.get(f"/api/kernels/{kid}").status_code == 200


def test_editor_writes_owner_alone_manages(multi, alice_setup):
    alice, home = alice_setup["alice"], alice_setup["home"]
    editor = make_user(multi, prefix="editor")
    assert alice.put(f"/api/projects/{home}/collaborators/{editor.name}", json={"role": "editor"}).status_code == 200
    r = editor.put(f"/p/{home}/api/contents/from-editor.txt", json={"type": "file", "format": "text", "content": "hi"})
    assert r.status_code in (200, 201), r.text
    assert alice.get("/api/contents/from-editor.txt").json()["content"] == "hi"
    assert editor.patch(f"/api/projects/{home}", json={"title": "mine now"}).status_code == 403
    assert editor.delete(f"/api/projects/{home}").status_code == 403
    assert editor.put(f"/api/projects/{home}/collaborators/{editor.name}", json={"role": "viewer"}).status_code == 403
    assert alice.delete(f"/api/projects/{home}/collaborators/{editor.name}").status_code == 204
    assert editor.get(f"/p/{home}/api/contents").status_code == 404
    assert alice.put(f"/api/projects/{home}/collaborators/{editor.name}", json={"role": "boss"}).status_code == 400


def test_admin_sees_everything(multi, alice_setup):
    home, kid = alice_setup["home"], alice_setup["kernel"]
    assert multi.get(f"/p/{home}/api/contents/secret.txt").status_code == 200
    assert kid in [k["id"] for k in multi.get("/api/kernels").json()]
    assert home in [p["id"] for p in multi.get("/api/projects").json()]
    activity = {u["name"]: u for u in multi.get("/api/admin/activity").json()["users"]}
    sessions = activity[alice_setup["alice"].name]["sessions"]
    assert [s["kernel_id"] for s in sessions] == [kid] and sessions[0]["project_id"] == home
    assert sessions[0]["rss_mb"] > 0
    assert sessions[0]["path"] == ""  # relative to the project (its top folder): no server path leaves
    assert str(multi.data_dir) not in multi.get("/api/admin/activity").text


def test_someone_elses_kernel_is_like_a_missing_one(alice_setup):
    bob, kid, home = alice_setup["bob"], alice_setup["kernel"], alice_setup["home"]
    missing = "00000000-0000-4000-8000-000000000000"
    for suffix in ("", "/interrupt"):
        method = bob.get if not suffix else bob.post
        theirs, nothing = method(f"/api/kernels/{kid}{suffix}"), method(f"/api/kernels/{missing}{suffix}")
        assert theirs.status_code == nothing.status_code == 404
        assert home not in theirs.text
        assert theirs.json() == {**nothing.json(), "message": nothing.json()["message"].replace(missing, kid)}


def test_students_cannot_use_staff_routes(alice_setup):
    bob = alice_setup["bob"]
    for method, path in [("GET", "/api/users"), ("POST", "/api/users"), ("GET", "/api/admin/activity"),
                         ("GET", "/api/join"), ("PATCH", "/api/users/admin"), ("POST", "/api/users/import")]:
        r = bob.request(method, path, json={})
        assert r.status_code == 403, (method, path, r.text)


def test_students_cannot_open_server_folders_or_clone_local_paths(multi, alice_setup, tmp_path):
    bob = alice_setup["bob"]
    assert bob.post("/api/projects", json={"open": str(multi.data_dir)}).status_code == 403
    assert bob.post("/api/projects", json={"title": "x", "path": str(tmp_path / "p")}).status_code == 403
    r = bob.post("/api/projects", json={"clone": str(multi.data_dir / "projects" / alice_setup["home"])})
    assert r.status_code == 403 and "network URL" in r.json()["message"]
    r = bob.post("/api/projects", json={"title": "Bob's thesis"})
    assert r.status_code == 201 and r.json()["owner"] == bob.name and r.json()["role"] == "owner"


def test_session_limit_per_user(start_server):
    from .conftest import PYTHON_ONLY

    srv = start_server("--multi-user", "--max-kernels-per-user", "1", env=PYTHON_ONLY)
    carol = make_user(srv, prefix="carol")
    first = carol.post("/api/kernels", json={"name": "python3"})
    assert first.status_code == 201
    second = carol.post("/api/kernels", json={"name": "python3"})
    assert second.status_code == 429 and "stop one" in second.json()["message"]
    assert carol.delete(f"/api/kernels/{first.json()['id']}").status_code == 204
    assert carol.post("/api/kernels", json={"name": "python3"}).status_code == 201


def test_every_default_project_route_is_the_home_project(multi, alice_setup):
    """Routes that exist per project (including ones added later, like worksheet import) act on the home project:
    a .sagews in the admin's default project is invisible to a student's /api/worksheets/import."""
    assert multi.put("/api/contents/admin.sagews", json={"type": "file", "format": "text",
                                                         "content": "print 1\n"}).status_code in (200, 201)
    bob = alice_setup["bob"]
    r = bob.post("/api/worksheets/import", json={"path": "admin.sagews"})
    assert r.status_code == 404 and "No such worksheet" in r.json()["message"]
    assert bob.put("/api/contents/mine.sagews", json={"type": "file", "format": "text",
                                                      "content": "print 2\n"}).status_code == 201
    assert bob.post("/api/worksheets/import", json={"path": "mine.sagews"}).status_code == 201
    assert bob.get("/api/contents/mine.ipynb").status_code == 200
    assert multi.get("/api/contents/mine.ipynb").status_code == 404  # not in the default project


def test_a_home_project_cannot_be_deleted_and_shows_no_delete(multi):
    carol = make_user(multi, prefix="carol")
    home = carol.home()
    other = carol.post("/api/projects", json={"title": "scratch"}).json()["id"]
    listed = {p["id"]: p for p in carol.get("/api/projects").json()}
    assert listed[home]["home"] is True and listed[other]["home"] is False  # the client hides Delete on home
    r = carol.delete(f"/api/projects/{home}")
    assert r.status_code == 409 and "home project" in r.json()["message"], r.text
    assert multi.delete(f"/api/projects/{home}").status_code == 409  # an admin neither
    assert carol.get(f"/api/projects/{home}").status_code == 200  # still there
    assert carol.delete(f"/api/projects/{other}").status_code == 204  # other projects still can be
