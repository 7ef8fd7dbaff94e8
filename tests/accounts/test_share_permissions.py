"""Publishing and the compute API in multi-user mode: roles are checked, anyone reads a public share, copy works."""

from __future__ import annotations

from .conftest import make_user


def test_shares_and_execute_respect_project_roles(multi):
    alice, bob = make_user(multi, prefix="alice"), make_user(multi, prefix="bob")
    assert alice.put("/api/contents/pub.txt", json={"type": "file", "format": "text",
                                                    "content": "alice's words"}).status_code in (200, 201)
    home = alice.home()
    # Bob can neither publish, list, export nor unpublish in alice's project.
    assert bob.post("/api/shares", json={"project": home, "path": "pub.txt"}).status_code == 404
    share = alice.post("/api/shares", json={"path": "pub.txt"})  # default: alice's home project
    assert share.status_code == 201, share.text
    share = share.json()
    assert share["project_id"] == home
    assert bob.get("/api/shares", params={"project": home}).status_code == 404
    assert bob.delete(f"/api/shares/{share['slug']}").status_code == 404
    assert bob.get("/api/export", params={"project": home, "path": "x.ipynb"}).status_code == 404
    # Anyone reads the public share, signed in or not.
    assert multi.get(f"/api/shares/{share['slug']}/contents/", auth=False).json()["item"]["content"] == "alice's words"
    assert bob.get(share["url"]).status_code == 200
    # Bob copies it into his own home project, not into alice's.
    assert bob.post(f"/api/shares/{share['slug']}/copy", json={"project": home}).status_code == 404
    copied = bob.post(f"/api/shares/{share['slug']}/copy", json={})
    assert copied.status_code == 201, copied.text
    assert bob.get(f"/api/contents/{copied.json()['path']}").json()["content"] == "alice's words"
    # The compute API: fresh sessions for any signed-in user; another user's kernel is out of reach.
    kernel = alice.post("/api/kernels", json={"name": "python3"}).json()["id"]
    try:
        out = bob.post("/api/v1/execute", json={"code": "2+2"}).json()
        assert out["result"]["text/plain"] == "4"
        assert bob.post("/api/v1/execute", json={"code": "1", "session": kernel}).status_code == 404
        assert alice.post("/api/v1/execute", json={"code": "3*3", "session": kernel}).json()["result"]["text/plain"] == "9"
    finally:
        alice.delete(f"/api/kernels/{kernel}")
    assert alice.delete(f"/api/shares/{share['slug']}").status_code == 204
