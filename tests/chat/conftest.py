"""A multi-user server with a project shared by its owner (alice) with an editor (bob) and a viewer (vic);
eve is signed in but not in it.  See tests/accounts/conftest.py for ``Person``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import websocket

from tests.accounts.conftest import PYTHON_ONLY, Person, make_user
from tests.conftest import Server

# These tests post many messages as one person in quick succession: their server lets a person burst
# further than the default.  The posting limit itself is tested on a server with the defaults
# (test_chat_limits.py).
ROOMY = {**PYTHON_ONLY, "SALVUS_LOCAL_CHAT_BURST": "200"}


@pytest.fixture(scope="module")
def multi() -> Any:
    """One multi-user server for a test module (a roomy posting limit)."""
    srv = Server("--multi-user", env=ROOMY)
    yield srv
    srv.stop()


@dataclass
class Team:
    srv: Server
    project: str
    alice: Person
    bob: Person
    vic: Person
    eve: Person

    def chat(self, suffix: str = "") -> str:
        """The project's chat API URL (plus a suffix)."""
        return f"/p/{self.project}/api/chat{suffix}"


@pytest.fixture(scope="module")
def team(multi: Server) -> Team:  # noqa: F811
    alice, bob, vic, eve = (make_user(multi, prefix=p) for p in ("alice", "bob", "vic", "eve"))
    project = alice.home()
    for person, role in ((bob, "editor"), (vic, "viewer")):
        r = alice.put(f"/api/projects/{project}/collaborators/{person.name}", json={"role": role})
        assert r.status_code == 200, r.text
    return Team(multi, project, alice, bob, vic, eve)


def next_event(ws: websocket.WebSocket, kind: str, timeout: float = 60.0) -> dict[str, Any]:
    """The next frame of a type from a chat websocket (others are skipped)."""
    ws.settimeout(timeout)
    while True:
        event = json.loads(ws.recv())
        if event["type"] == kind:
            return event
