"""Roles in rooms (multi-user): viewers watch but cannot change; outsiders never get a handshake."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts.conftest import PYTHON_ONLY, make_user, ws_status
from tests.collab.conftest import client, notebook, put_notebook, room_url, sources
from tests.collab.yclient import YClient
from tests.conftest import Server, wait_for


@pytest.fixture(scope="module")
def multi() -> Any:
    """A multi-user server: collaboration is on by default (auto)."""
    srv = Server("--multi-user", env=PYTHON_ONLY)
    yield srv
    srv.stop()


def test_status_is_on_in_multi_user_mode_and_names_the_account(multi) -> None:
    alice = make_user(multi, prefix="alice")
    body = alice.get("/api/collab/status").json()
    assert body["enabled"] is True and body["user"]["name"] == alice.name


def test_viewers_see_everything_but_their_edits_are_dropped(multi, clients) -> None:
    alice, viewer, editor = (make_user(multi, prefix=p) for p in ("owner", "viewer", "editor"))
    home = alice.home()
    assert alice.put(f"/api/projects/{home}/collaborators/{viewer.name}", json={"role": "viewer"}).status_code == 200
    assert alice.put(f"/api/projects/{home}/collaborators/{editor.name}", json={"role": "editor"}).status_code == 200
    r = alice.put(f"/p/{home}/api/contents/shared.ipynb", json={"type": "notebook", "content": notebook("v = 1")})
    assert r.status_code in (200, 201), r.text
    a = client(multi, "shared.ipynb", "a", headers=[f"Cookie: {alice.cookie_header()}"], project=home)
    v = client(multi, "shared.ipynb", "v", headers=[f"Cookie: {viewer.cookie_header()}"], project=home)
    e = client(multi, "shared.ipynb", "e", headers=[f"Cookie: {editor.cookie_header()}"], project=home)
    clients.extend([a, v, e])
    assert sources(v.notebook()) == ["v = 1"]
    v.insert(0, 0, "# viewer was here\n")   # dropped by the server
    e.insert(0, 5, "0")                     # an editor writes
    wait_for(lambda: sources(a.notebook()) == ["v = 10"], 60, "the editor's edit at the owner")
    wait_for(lambda: sources(v.notebook()) == ["# viewer was here\nv = 10"], 60, "the viewer still gets updates")
    content = alice.get(f"/p/{home}/api/contents/shared.ipynb").json()["content"]
    wait_for(lambda: alice.get(f"/p/{home}/api/contents/shared.ipynb").json()["content"]["cells"][0]["source"]
             == "v = 10", 20, "the editor's edit saved")
    assert "viewer" not in str(content)
    # The viewer's presence is relayed, under the viewer's own account name whatever it claims.
    wait_for(lambda: any(s.get("user", {}).get("name") == viewer.name for s in a.awareness.values()), 60,
             "the viewer in the owner's awareness")


def test_outsiders_and_anonymous_are_refused_before_the_upgrade(multi) -> None:
    alice, stranger = make_user(multi, prefix="alice"), make_user(multi, prefix="stranger")
    home = alice.home()
    url = room_url(multi, "x.ipynb", home)
    assert ws_status(lambda: YClient(url, [f"Cookie: {stranger.cookie_header()}"]).connect()) == 404
    assert ws_status(lambda: YClient(url, []).connect()) in (401, 403)


def test_collaboration_can_be_turned_off(start_server) -> None:
    srv = start_server("--multi-user", "--collaboration", "off", env=PYTHON_ONLY)
    assert srv.get("/api/collab/status").json()["enabled"] is False
    put_notebook(srv, "off.ipynb", notebook("1"))
    assert ws_status(lambda: YClient(room_url(srv, "off.ipynb"), [f"Authorization: token {srv.token}"])
                     .connect()) == 404
