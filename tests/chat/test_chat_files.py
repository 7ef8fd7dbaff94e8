"""A file's chat follows the file when it is renamed or moved (Contents API), folders included; a deleted file
goes to the project's trash and its chat stays under its path, so restoring the file brings the chat back."""

from __future__ import annotations

import uuid

from .conftest import Team

NOTEBOOK = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}


def bodies(team: Team, path: str) -> list[str]:
    return [m["body"] for m in team.bob.get(team.chat(), params={"path": path}).json()["messages"]]


def test_the_chat_follows_a_renamed_file_and_folder(team: Team) -> None:
    folder = f"d{uuid.uuid4().hex[:6]}"
    contents = f"/p/{team.project}/api/contents"
    assert team.alice.put(f"{contents}/{folder}", json={"type": "directory"}).status_code in (200, 201)
    for name in ("a.ipynb", "a.ipynb_x.ipynb"):
        assert team.alice.put(f"{contents}/{folder}/{name}", json=NOTEBOOK).status_code in (200, 201)
    assert team.alice.post(team.chat(), json={"body": "about a", "path": f"{folder}/a.ipynb"}).status_code == 201
    assert team.alice.post(team.chat(), json={"body": "about its neighbour",
                                              "path": f"{folder}/a.ipynb_x.ipynb"}).status_code == 201
    unread = {c["path"] for c in team.bob.get(team.chat("/unread")).json()["chats"]}
    assert f"{folder}/a.ipynb" in unread

    r = team.alice.patch(f"{contents}/{folder}/a.ipynb", json={"path": f"{folder}/b.ipynb"})
    assert r.status_code == 200, r.text
    assert bodies(team, f"{folder}/b.ipynb") == ["about a"] and bodies(team, f"{folder}/a.ipynb") == []
    assert bodies(team, f"{folder}/a.ipynb_x.ipynb") == ["about its neighbour"]  # a name that only starts alike stays
    unread = {c["path"] for c in team.bob.get(team.chat("/unread")).json()["chats"]}
    assert f"{folder}/b.ipynb" in unread and f"{folder}/a.ipynb" not in unread  # unread counts follow too

    # Moving the folder moves every chat below it; bob's read marker moves with it.
    team.bob.post(team.chat("/read"), json={"path": f"{folder}/b.ipynb"})
    assert team.alice.patch(f"{contents}/{folder}", json={"path": f"{folder}-moved"}).status_code == 200
    assert bodies(team, f"{folder}-moved/b.ipynb") == ["about a"]
    assert bodies(team, f"{folder}-moved/a.ipynb_x.ipynb") == ["about its neighbour"]
    unread = {c["path"] for c in team.bob.get(team.chat("/unread")).json()["chats"]}
    assert f"{folder}-moved/b.ipynb" not in unread and f"{folder}-moved/a.ipynb_x.ipynb" in unread

    # A failed rename (target exists) moves nothing.
    assert team.alice.put(f"{contents}/{folder}-moved/c.ipynb", json=NOTEBOOK).status_code in (200, 201)
    assert team.alice.patch(f"{contents}/{folder}-moved/b.ipynb",
                            json={"path": f"{folder}-moved/c.ipynb"}).status_code == 409
    assert bodies(team, f"{folder}-moved/b.ipynb") == ["about a"] and bodies(team, f"{folder}-moved/c.ipynb") == []

    # Deleting puts the file in the trash; its chat is kept under its path (a restore brings it back).
    assert team.alice.delete(f"{contents}/{folder}-moved/b.ipynb").status_code == 204
    assert bodies(team, f"{folder}-moved/b.ipynb") == ["about a"]
