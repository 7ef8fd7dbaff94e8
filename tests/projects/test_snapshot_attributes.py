"""A project's .gitattributes never changes what a snapshot stores, nor runs a command (real git, real server)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from tests.projects.conftest import wait_for

# What a collaborator's, a clone's or a synced remote's .gitattributes can say: each used to fail every
# snapshot ("BOM is required"), alter the stored bytes, or run the filter's command.
ATTRIBUTES = "* working-tree-encoding=UTF-16\n*.txt eol=crlf\n*.md ident\n*.dat filter=x\n"
FILTER = '[filter "x"]\n\tclean = touch filter-ran && cat\n\tsmudge = touch filter-ran && cat\n\trequired = true\n'
FILES = {"a.txt": "v1 héllo\r\nline two\n".encode(), "b.md": b"$Id$ kept as written\n", "c.dat": b"\x00raw\xffbytes\n"}


def stored(root: Path, path: str) -> bytes:
    """The bytes of path in the newest snapshot (cat-file applies no attribute)."""
    return subprocess.run(["git", "-c", f"safe.directory={root}", "cat-file", "blob", f"refs/salvus/snapshots:{path}"],
                          cwd=root, capture_output=True, check=True).stdout


def test_snapshots_store_raw_bytes_whatever_the_attributes_say(api, client, project: dict, root: Path) -> None:
    pid = project["id"]

    def save(path: str, data: bytes) -> None:
        r = client.put(f"/api/contents/{path}", json={"type": "file", "format": "base64",
                                                      "content": base64.b64encode(data).decode()})
        assert r.status_code in (200, 201), r.text

    save("a.txt", b"before\n")
    assert api.post(f"/api/projects/{pid}/snapshots", json={}).status_code in (200, 201)
    with open(root / ".git" / "config", "a") as f:  # a session can write its repository's config
        f.write(FILTER)
    save(".gitattributes", ATTRIBUTES.encode())
    for path, data in FILES.items():
        save(path, data)
    r = api.post(f"/api/projects/{pid}/snapshots", json={"message": "with attributes"})
    assert r.status_code in (200, 201), r.text
    for path, data in FILES.items():
        assert stored(root, path) == data, path
    # The automatic snapshot after a save works too, and a changed file is seen (the stat cache).
    save("a.txt", b"v2 \xc3\xa9\r\n")
    wait_for(lambda: stored(root, "a.txt") == b"v2 \xc3\xa9\r\n", what="the save's snapshot")
    versions = api.get(f"/api/projects/{pid}/versions?path=a.txt").json()
    assert len(versions) >= 3
    assert api.get(f"/api/projects/{pid}/diff?from={versions[1]['id']}&to={versions[0]['id']}").status_code == 200
    assert not (root / "filter-ran").exists()
