"""The Jupyter Server REST subset: shapes, status codes and clear 4xx errors."""

from __future__ import annotations

import pytest

from salvus_local import __version__


def test_api_version(server):
    assert server.get("/api").json() == {"version": __version__}


def test_status_shape(server):
    body = server.get("/api/status").json()
    # jupyter_server's four fields, plus how user code is isolated (read by the client's warning banner).
    assert set(body) == {"started", "last_activity", "connections", "kernels", "isolation"}
    assert body["started"].endswith("Z") and isinstance(body["kernels"], int)
    assert set(body["isolation"]) >= {"mode", "ok", "shared_uid"}


def test_kernelspecs_under_a_project_base_url(server):
    pid = server.post("/api/projects", json={"title": "specs"}).json()["id"]
    assert server.get(f"/p/{pid}/api/kernelspecs").json() == server.get("/api/kernelspecs").json()
    assert server.get("/p/no-such-project/api/kernelspecs").status_code == 404


def test_kernelspecs_shape(server):
    body = server.get("/api/kernelspecs").json()
    assert body["default"] in body["kernelspecs"]
    assert "python3" in body["kernelspecs"]
    for name, spec in body["kernelspecs"].items():
        assert spec["name"] == name and spec["resources"] == {}
        assert set(spec["spec"]) >= {"argv", "display_name", "language", "interrupt_mode", "env", "metadata"}
        assert spec["spec"]["interrupt_mode"] == "signal"
    assert server.get("/api/kernelspecs/python3").json() == body["kernelspecs"]["python3"]


def test_unknown_kernelspec_404(server):
    r = server.get("/api/kernelspecs/cobol")
    assert r.status_code == 404 and r.json()["message"] == "Kernel spec cobol not found"


def test_unknown_api_route_is_json_404(server):
    r = server.get("/api/no/such/thing")
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/json"
    assert set(r.json()) == {"message", "reason"}
    r = server.request("PUT", "/api/kernels")
    assert r.status_code == 405 and "PUT" in r.json()["message"]


@pytest.mark.parametrize("method,path", [("GET", "/api/kernels/{id}"), ("DELETE", "/api/kernels/{id}"),
                                         ("POST", "/api/kernels/{id}/interrupt"),
                                         ("POST", "/api/kernels/{id}/restart")])
def test_unknown_kernel_404(server, method, path):
    kernel_id = "00000000-0000-0000-0000-000000000000"
    r = server.request(method, path.format(id=kernel_id))
    assert r.status_code == 404
    assert r.json() == {"message": f"Kernel does not exist: {kernel_id}", "reason": None}


def test_unknown_kernel_websocket_404(server):
    import websocket

    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        server.ws("/api/kernels/nope/channels")
    assert info.value.status_code == 404


@pytest.mark.parametrize("body,fix", [
    ("{", "Malformed JSON"), ('{"name": }', "Malformed JSON"), ("[1, 2]", "must be a JSON object"),
    ('"python3"', "must be a JSON object"), (b"\xff\xfe", "UTF-8"), ('{"name": 3}', "'name' must be a string"),
    ('{"path": ["a"]}', "'path' must be a string"),
])
def test_malformed_body_400(server, body, fix):
    before = server.get("/api/kernels").json()
    r = server.post("/api/kernels", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and fix in r.json()["message"]
    assert server.get("/api/kernels").json() == before  # nothing started


@pytest.mark.parametrize("path", ["..", "../x", "a/../../b", "/etc", "/", "a\x00b", "..\\x"])
def test_bad_kernel_path_400(server, path):
    before = server.get("/api/kernels").json()
    r = server.post("/api/kernels", json={"name": "python3", "path": path})
    if path == "/":  # the root of the project dir itself, as Jupyter's "/" means
        assert r.status_code == 201
        server.delete(f"/api/kernels/{r.json()['id']}")
        return
    assert r.status_code == 400 and "Invalid path" in r.json()["message"]
    assert server.get("/api/kernels").json() == before


def test_symlink_out_of_project_refused(server):
    root = server.data_dir / "projects" / "default"
    (root / "escape").symlink_to("/etc")
    try:
        r = server.post("/api/kernels", json={"name": "python3", "path": "escape"})
        assert r.status_code == 400
    finally:
        (root / "escape").unlink()


def test_unknown_kernel_name(server):
    r = server.post("/api/kernels", json={"name": "cobol"})
    assert r.status_code == 404 and "No such kernel named cobol" in r.json()["message"]


def test_kernel_lifecycle(server):
    r = server.post("/api/kernels", json={"name": "python3"})
    assert r.status_code == 201
    model = r.json()
    assert r.headers["Location"] == f"/api/kernels/{model['id']}"
    assert set(model) == {"id", "name", "last_activity", "execution_state", "connections"}
    assert model["name"] == "python3" and model["execution_state"] == "idle"  # ready when POST answers
    assert model["id"] in [k["id"] for k in server.get("/api/kernels").json()]
    assert server.get(f"/api/kernels/{model['id']}").json()["id"] == model["id"]
    assert server.get("/api/status").json()["kernels"] >= 1
    r = server.delete(f"/api/kernels/{model['id']}")
    assert r.status_code == 204 and r.content == b""
    assert server.get(f"/api/kernels/{model['id']}").status_code == 404
    assert model["id"] not in [k["id"] for k in server.get("/api/kernels").json()]


def test_default_kernel_and_cwd(server):
    sub = server.data_dir / "projects" / "default" / "sub dir"
    sub.mkdir(exist_ok=True)
    kernel_id = server.post("/api/kernels", json={"path": "sub dir/notebook.ipynb"}).json()["id"]
    try:
        default = server.get("/api/kernelspecs").json()["default"]
        assert server.get(f"/api/kernels/{kernel_id}").json()["name"] == default
        kc = server.kernel_client(kernel_id)
        out = kc.execute("import os; print(os.getcwd())")
        assert out.text.strip() == str(sub)
        kc.close()
    finally:
        server.delete(f"/api/kernels/{kernel_id}")


def test_api_answers_are_not_cached(server):
    for path in ("/api", "/api/kernels", "/api/contents"):
        assert server.get(path).headers["Cache-Control"] == "no-store"
