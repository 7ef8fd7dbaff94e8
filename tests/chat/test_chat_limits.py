"""Chat's spam guards on a real server with the default settings: a per-person posting rate (token bucket:
10 at once, then 1 a second → 429 with Retry-After) and at most 10 people mentioned per message (→ 400)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from salvus_local.chat.limits import BURST, MAX_MENTIONS
from tests.accounts.conftest import PYTHON_ONLY, Person, make_user
from tests.conftest import Server, wait_for


@pytest.fixture(scope="module")
def limited() -> Any:
    """A multi-user server with the default chat limits."""
    srv = Server("--multi-user", env=PYTHON_ONLY)
    yield srv
    srv.stop()


def share(owner: Person, *people: Person) -> str:
    """The owner's home project, with each person added as an editor."""
    project = owner.home()
    for person in people:
        r = owner.put(f"/api/projects/{project}/collaborators/{person.name}", json={"role": "editor"})
        assert r.status_code == 200, r.text
    return project


def test_a_burst_then_429_with_retry_after(limited: Server) -> None:
    alice, bob = make_user(limited, prefix="alice"), make_user(limited, prefix="bob")
    project = share(alice, bob)
    url = f"/p/{project}/api/chat"
    # The bucket may refill during a slow run, so send well past the burst: the first BURST always pass,
    # and at least one of the rest must be refused.
    answers = [alice.post(url, json={"body": f"spam {n} @{bob.name}"}) for n in range(BURST + 5)]
    codes = [r.status_code for r in answers]
    assert codes[:BURST] == [201] * BURST, codes
    assert 429 in codes and set(codes) <= {201, 429}, codes
    refused = next(r for r in answers if r.status_code == 429)
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 2 and refused.json()["retry_after"] == wait
    assert re.search(rf"too fast .*try again in {wait} s", refused.json()["message"]), refused.json()

    # Nothing refused was stored or notified: bob's counts are exactly the accepted posts.
    accepted = codes.count(201)
    assert len(bob.get(url, params={"limit": 200}).json()["messages"]) == accepted
    notes = bob.get("/api/notifications").json()
    assert notes["total"] == accepted and notes["unread_mentions"] == accepted

    # Edits take from the same bucket (an edit can mention people again), while it is empty.
    mid = answers[0].json()["id"]
    assert 429 in {alice.patch(f"{url}/{mid}", json={"body": f"edited @{bob.name}"}).status_code
                   for _ in range(3)}
    # The limit is per person: bob still posts at once.
    assert bob.post(url, json={"body": "stop it"}).status_code == 201
    # A refused post took no token, so once the bucket refills alice posts again.
    wait_for(lambda: alice.post(url, json={"body": "sorry"}).status_code == 201, timeout=30, what="a refill")


def test_too_many_mentions_is_a_400_naming_the_limit(limited: Server) -> None:
    alice = make_user(limited, prefix="alice")
    others = [make_user(limited, prefix="m") for _ in range(MAX_MENTIONS + 1)]
    project = share(alice, *others)
    url = f"/p/{project}/api/chat"
    everyone = " ".join(f"@{p.name}" for p in others)
    r = alice.post(url, json={"body": f"look {everyone}"})
    assert r.status_code == 400
    assert f"at most {MAX_MENTIONS} people" in r.json()["message"] and f"mentions {MAX_MENTIONS + 1}" in r.json()["message"]
    assert alice.get(url).json()["messages"] == []
    assert all(p.get("/api/notifications").json()["unread_mentions"] == 0 for p in others)
    # Names of people who are not members notify nobody and do not count; the same person twice counts once.
    strangers = " ".join(f"@nobody{n}" for n in range(30))
    ten = " ".join(f"@{p.name}" for p in others[:MAX_MENTIONS])
    r = alice.post(url, json={"body": f"{ten} @{others[0].name} {strangers}"})
    assert r.status_code == 201, r.text
    assert sorted(r.json()["mentions"]) == sorted(p.name for p in others[:MAX_MENTIONS])
    # An edit may not add more either.
    r = alice.patch(f"{url}/{r.json()['id']}", json={"body": everyone})
    assert r.status_code == 400 and f"at most {MAX_MENTIONS} people" in r.json()["message"]
