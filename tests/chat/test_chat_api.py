"""Chat over REST and its websocket against a real multi-user server (issue 10, section 2)."""

from __future__ import annotations

import uuid

import pytest
import websocket

from salvus_local.chat import MAX_BODY
from tests.accounts.conftest import ws_status

from .conftest import Team, next_event


def word() -> str:
    return f"w{uuid.uuid4().hex[:10]}"


def test_post_list_and_page_back(team: Team) -> None:
    path = f"notes/{word()}.ipynb"
    ids = []
    for n in range(7):
        r = team.alice.post(team.chat(), json={"body": f"message {n}", "path": path})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    first = r.json()
    assert first["path"] == path and first["author"]["name"] == team.alice.name and first["edited"] is None

    page = team.bob.get(team.chat(), params={"path": path, "limit": 3}).json()
    assert [m["body"] for m in page["messages"]] == ["message 4", "message 5", "message 6"] and page["more"]
    older = team.bob.get(team.chat(), params={"path": path, "limit": 3, "before": ids[4]}).json()
    assert [m["id"] for m in older["messages"]] == ids[1:4] and older["more"]
    oldest = team.bob.get(team.chat(), params={"path": path, "limit": 3, "before": ids[1]}).json()
    assert [m["id"] for m in oldest["messages"]] == ids[:1] and not oldest["more"]
    # The project's own chat and other files' chats are separate.
    assert all(m["path"] is None for m in team.bob.get(team.chat()).json()["messages"])
    assert team.bob.get(team.chat(), params={"path": "other.ipynb"}).json()["messages"] == []
    # The unprefixed URL is the signed-in person's home project: alice's is this one.
    assert [m["id"] for m in team.alice.get("/api/chat", params={"path": path}).json()["messages"]] == ids


def test_outsiders_are_refused_and_viewers_may_talk(team: Team) -> None:
    eve = team.eve
    assert eve.get(team.chat()).status_code == 404
    assert eve.post(team.chat(), json={"body": "hi"}).status_code == 404
    assert eve.post(team.chat("/read"), json={}).status_code == 404
    assert eve.get(team.chat("/members")).status_code == 404
    assert eve.ws_refused(team.chat("/ws")) == 404
    anonymous = team.srv.request("GET", team.chat(), auth=False)
    assert anonymous.status_code in (401, 403)
    # A viewer reads and posts: chat changes none of the project's files.
    r = team.vic.post(team.chat(), json={"body": "a question from the back row"})
    assert r.status_code == 201, r.text
    assert team.vic.ws_refused(team.chat("/ws")) == 0
    # Only the author edits; the owner may delete anyone's message, others may not.
    mid = r.json()["id"]
    assert team.bob.patch(team.chat(f"/{mid}"), json={"body": "x"}).status_code == 403
    assert team.bob.delete(team.chat(f"/{mid}")).status_code == 403
    assert team.vic.patch(team.chat(f"/{mid}"), json={"body": "edited question"}).json()["edited"]
    assert team.alice.delete(team.chat(f"/{mid}")).status_code == 204
    assert team.vic.delete(team.chat(f"/{mid}")).status_code == 404
    # A message of this project cannot be reached through another project's URL.
    mid = team.bob.post(team.chat(), json={"body": "mine"}).json()["id"]
    assert team.bob.patch(f"/p/{team.bob.home()}/api/chat/{mid}", json={"body": "x"}).status_code == 404
    assert team.srv.get(f"/p/nosuchproject/api/chat").status_code == 404


def test_mentions_notify_and_reading_clears_unread(team: Team) -> None:
    path = f"{word()}.md"
    before = team.bob.get("/api/notifications").json()
    r = team.alice.post(team.chat(), json={"body": f"@{team.bob.name} look at $x^2$, and @nobody", "path": path})
    mid = r.json()["id"]
    assert r.json()["mentions"] == [team.bob.name]
    team.alice.post(team.chat(), json={"body": "and this too", "path": path})

    notes = team.bob.get("/api/notifications").json()
    chat = next(c for c in notes["unread"] if c["project_id"] == team.project and c["path"] == path)
    assert chat["count"] == 2 and chat["mentions"] == 1
    assert notes["total"] == before["total"] + 2
    assert notes["mentions"][0]["id"] == mid and notes["mentions"][0]["unread"]
    assert notes["unread_mentions"] == before["unread_mentions"] + 1
    # The author's own messages are never unread for her; vic was not mentioned.
    assert not any(c["path"] == path for c in team.alice.get("/api/notifications").json()["unread"])
    vic = next(c for c in team.vic.get(team.chat("/unread")).json()["chats"] if c["path"] == path)
    assert vic == {"path": path, "count": 2, "mentions": 0}

    # Reading up to the mention leaves one unread; reading all leaves none.
    r = team.bob.post(team.chat("/read"), json={"path": path, "up_to": mid})
    assert r.status_code == 200 and r.json()["read_up_to"] == mid
    assert next(c for c in r.json()["chats"] if c["path"] == path)["count"] == 1
    r = team.bob.post(team.chat("/read"), json={"path": path})
    assert not any(c["path"] == path for c in r.json()["chats"])
    after = team.bob.get("/api/notifications").json()
    assert after["total"] == before["total"] and after["unread_mentions"] == before["unread_mentions"]
    assert not after["mentions"][0]["unread"]
    # A marker never moves back.
    assert team.bob.post(team.chat("/read"), json={"path": path, "up_to": 1}).json()["read_up_to"] > mid


def test_websocket_delivers_to_another_user(team: Team) -> None:
    ws = team.bob.ws(team.chat("/ws"))
    try:
        hello = next_event(ws, "hello")
        assert hello["me"]["name"] == team.bob.name
        assert {m["name"] for m in hello["members"]} == {team.alice.name, team.bob.name, team.vic.name}
        path = f"{word()}.ipynb"
        r = team.alice.post(team.chat(), json={"body": f"live @{team.bob.name}", "path": path})
        message = next_event(ws, "message")["message"]
        assert message == r.json()
        unread = next_event(ws, "unread")
        assert next(c for c in unread["chats"] if c["path"] == path) == {"path": path, "count": 1, "mentions": 1}
        team.alice.patch(team.chat(f"/{message['id']}"), json={"body": "live, edited"})
        assert next_event(ws, "edited")["message"]["body"] == "live, edited"
        team.alice.delete(team.chat(f"/{message['id']}"))
        assert next_event(ws, "deleted") == {"type": "deleted", "id": message["id"], "path": path}
        # A mention in another project reaches bob's socket too.
        other = team.bob.home()
        team.bob.put(f"/api/projects/{other}/collaborators/{team.alice.name}", json={"role": "editor"})
        team.alice.post(f"/p/{other}/api/chat", json={"body": f"over here @{team.bob.name}"})
        assert next_event(ws, "mention")["message"]["project_id"] == other
        ws.send('{"type": "ping"}')
        next_event(ws, "pong")
    finally:
        ws.close()


def test_bad_input_is_a_clear_4xx_and_stores_nothing(team: Team) -> None:
    path = f"{word()}.ipynb"
    r = team.alice.post(team.chat(), json={"body": "x" * (MAX_BODY + 1), "path": path})
    assert r.status_code == 413 and "at most" in r.json()["message"]
    for body, status in (({"body": "   "}, 400), ({"body": 5}, 400), ({}, 400), ({"body": "x", "path": "../x"}, 400),
                         ({"body": "x", "path": "a\0b"}, 400)):
        r = team.alice.post(team.chat(), json={"path": path, **body})
        assert r.status_code == status and r.json()["message"], (body, r.text)
    assert team.alice.post(team.chat("/read"), json={"up_to": -1}).status_code == 400
    assert team.alice.get(team.chat(), params={"before": "abc"}).status_code == 400
    assert team.alice.patch(team.chat("/999999999"), json={"body": "x"}).status_code == 404
    assert team.alice.get(team.chat(), params={"path": path}).json()["messages"] == []
    # The websocket URL fetched without an upgrade: a JSON 400, no 5xx.
    r = team.alice.get(team.chat("/ws"))
    assert r.status_code == 400 and r.json()["message"]


def test_markup_is_stored_as_text_and_served_as_json(team: Team) -> None:
    """The server never renders markdown: bodies go back verbatim as JSON; the client sanitizes (tests/ui)."""
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>[x](javascript:alert(3))'
    r = team.alice.post(team.chat(), json={"body": evil})
    assert r.headers["Content-Type"].startswith("application/json") and r.json()["body"] == evil


def test_search_finds_a_chat_message(team: Team) -> None:
    needle, path = word(), f"{word()}.ipynb"
    mid = team.alice.post(team.chat(), json={"body": f"the {needle} is in cell 3", "path": path}).json()["id"]
    results = team.bob.get("/api/search", params={"q": needle, "project": team.project}).json()["results"]
    assert [(r["kind"], r["id"], r["path"], r["author"]) for r in results] == [("chat", mid, path, team.alice.name)]
    assert f"\x02{needle}\x03" in results[0]["snippet"]
    assert team.eve.get("/api/search", params={"q": needle, "project": team.project}).status_code == 404
    # Edits and deletes reach the index.
    team.alice.patch(team.chat(f"/{mid}"), json={"body": "nothing to see"})
    assert team.bob.get("/api/search", params={"q": needle, "project": team.project}).json()["results"] == []


@pytest.mark.parametrize("prefix", ["", "/p/default"])
def test_single_user_chat_is_yours(server, prefix: str) -> None:
    r = server.post(f"{prefix}/api/chat", json={"body": "note to self @you", "path": "a.ipynb"})
    assert r.status_code == 201, r.text
    assert r.json()["author"] == {"name": "you", "display_name": "You"} and r.json()["mentions"] == []
    assert server.get(f"{prefix}/api/chat/members").json()["members"] == [{"name": "you", "display_name": "You"}]
    assert server.delete(f"{prefix}/api/chat/{r.json()['id']}").status_code == 204


def test_a_collaborator_taken_off_gets_no_more_events(multi) -> None:
    from tests.accounts.conftest import make_user

    owner, guest = make_user(multi, prefix="own"), make_user(multi, prefix="gst")
    project = owner.home()
    owner.put(f"/api/projects/{project}/collaborators/{guest.name}", json={"role": "viewer"})
    ws = guest.ws(f"/p/{project}/api/chat/ws")
    try:
        next_event(ws, "hello")
        owner.post(f"/p/{project}/api/chat", json={"body": "still here"})
        assert next_event(ws, "message")["message"]["body"] == "still here"
        assert owner.delete(f"/api/projects/{project}/collaborators/{guest.name}").status_code == 204
        owner.post(f"/p/{project}/api/chat", json={"body": "secret plans"})
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            while True:
                assert "secret plans" not in ws.recv()
    finally:
        ws.close()
    assert guest.get(f"/p/{project}/api/chat").status_code == 404
