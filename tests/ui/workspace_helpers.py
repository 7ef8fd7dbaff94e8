"""Helpers for the project-page tests: unique folders in the default project, files on disk."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote

from tests.conftest import Server


def unique(prefix: str = "ui") -> str:
    """A file or folder name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def project_root(client: Server, project: str = "default") -> Path:
    """The folder of a project on disk (as the server reports it)."""
    return Path(client.get(f"/api/projects/{project}").json()["path"])


def put_text(client: Server, path: str, text: str) -> dict:
    """Save a text file through the Contents API."""
    r = client.put(f"/api/contents/{quote(path)}", json={"type": "file", "format": "text", "content": text})
    assert r.status_code in (200, 201), r.text
    return r.json()


def get_text(client: Server, path: str) -> str:
    """Read a text file through the Contents API."""
    r = client.get(f"/api/contents/{quote(path)}?type=file&format=text")
    assert r.status_code == 200, r.text
    return r.json()["content"]


def mkdir(client: Server, path: str) -> None:
    """Create a folder through the Contents API."""
    r = client.put(f"/api/contents/{quote(path)}", json={"type": "directory"})
    assert r.status_code in (200, 201), r.text


def write_outside(client: Server, path: str, text: str) -> None:
    """Change a file the way another program would: straight on disk, not through the server."""
    target = project_root(client) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
