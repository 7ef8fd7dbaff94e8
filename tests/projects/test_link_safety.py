"""A root server never follows a link a session planted inside a project (issue 7, item 1).

Table: every path the server manages inside a project (its .salvus stores, the old checkpoint and
snapshot-lock places in .git, the project's own files, temp and upload names) is replaced by a
symlink to a root-only FILE or FOLDER outside the project, as a session (uid 65534) can.  Then every
server operation runs: save, checkpoint create/list/restore/delete, manual and automatic snapshot,
history restore, trash and restore, copy, rename, chunked upload, delete, listing, project rename.
Afterwards nothing outside the project was read (its content appears in no response, no project
file, no git object, no server state), written, or changed owner or mode; and no answer was a 500.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.projects.conftest import Client, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the attack needs a root server and sessions as another uid")

# Paths a session could replace with links, grouped so that each group can be planted at once.
GROUPS: dict[str, list[str]] = {
    "salvus-folder": [".salvus"],
    "salvus-stores": [".salvus/checkpoints", ".salvus/trash", ".salvus/project.json", ".salvus/.gitignore"],
    "legacy-checkpoint": [".salvus/checkpoints/f2.txt/checkpoint", ".salvus/checkpoints/n.ipynb/checkpoint"],
    "git-private": [".git/salvus"],
    "git-locks": [".git/salvus/lock", ".git/salvus/index", ".git/salvus/index.lock",
                  ".git/refs/salvus/snapshots.lock"],
    "project-files": ["f2.txt", "sub", "n.ipynb", ".~salvus-1-planted.tmp"],
    "upload-parts": ["upload.bin", "up/.~salvus-{pid}-upload-{tag}.tmp"],
}


class Canary:
    """A root-only file and a root-only folder outside the project, and their fingerprints."""

    def __init__(self, base: Path) -> None:
        self.secret = f"CANARY-{uuid.uuid4().hex}"
        self.file = base / "canary.txt"
        self.dir = base / "canary-dir"
        self.dir.mkdir(mode=0o700)
        self.file.write_text(self.secret)
        (self.dir / "inner.txt").write_text(self.secret)
        for p in (self.file, self.dir / "inner.txt"):
            os.chmod(p, 0o600)
        os.chmod(self.dir, 0o700)
        self.before = self.fingerprint()

    def fingerprint(self) -> dict[str, Any]:
        out = {}
        for p in (self.file, self.dir, *sorted(self.dir.iterdir())):
            st = os.lstat(p)
            out[str(p)] = (st.st_uid, st.st_gid, st.st_mode, st.st_mtime_ns,
                           p.read_bytes() if p.is_file() else sorted(x.name for x in p.iterdir()))
        return out

    def target(self, kind: str) -> Path:
        return self.file if kind == "file" else self.dir


def plant(root: Path, rel: str, target: Path) -> None:
    """Replace root/rel by a symlink to target, owned by the session uid (as a cell would leave it)."""
    path = root / rel
    st = root.stat()
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    for p in [parent, *parent.parents]:
        if p == root or root not in p.parents:
            break
        os.lchown(p, st.st_uid, st.st_gid)
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        subprocess.run(["rm", "-rf", str(path)], check=True)
    os.symlink(target, path)
    os.lchown(path, st.st_uid, st.st_gid)


def scan_for(secret: bytes, *folders: Path) -> list[str]:
    """Regular files under folders (links not followed) whose bytes contain secret."""
    hits = []
    for folder in folders:
        for base, _dirs, files in os.walk(folder):
            for name in files:
                p = os.path.join(base, name)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                with open(p, "rb") as f:
                    if secret in f.read():
                        hits.append(p)
    return hits


def git_objects_contain(root: Path, secret: bytes) -> bool:
    """True when any object in the project's repository holds secret (blobs are compressed on disk)."""
    out = subprocess.run(["git", "-c", f"safe.directory={root}", "-C", str(root), "cat-file",
                          "--batch-all-objects", "--batch"], capture_output=True, check=False).stdout
    return secret in out


class Recorder:
    """Runs requests, keeping every response for the leak and 500 checks."""

    def __init__(self, client: Client, api: Client, project_id: str) -> None:
        self.client, self.api, self.pid = client, api, project_id
        self.responses: list[tuple[str, int, bytes]] = []

    def __call__(self, who: Client, method: str, url: str, **kw: Any) -> Any:
        r = who.request(method, url, **kw)
        self.responses.append((f"{method} {url}", r.status_code, r.content))
        return r


def run_every_operation(call: Recorder, data_dir: Path) -> None:
    """Every server operation that touches the project's files or the server's state of it."""
    c, a, pid = call.client, call.api, call.pid
    text = {"type": "file", "format": "text", "content": "hello"}
    nb = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}
    call(c, "PUT", "/api/contents/f2.txt", json=text)
    call(c, "PUT", "/api/contents/n.ipynb", json=nb)
    call(c, "PUT", "/api/contents/sub/x.txt", json=text)
    call(c, "GET", "/api/contents")
    call(c, "GET", "/api/contents/f2.txt")
    call(c, "GET", "/api/contents/sub")
    call(c, "POST", "/api/contents", json={"type": "file", "ext": ".txt"})
    for path in ("f2.txt", "n.ipynb"):
        call(c, "POST", f"/api/contents/{path}/checkpoints")
        call(c, "GET", f"/api/contents/{path}/checkpoints")
        call(c, "POST", f"/api/contents/{path}/checkpoints/checkpoint")
    call(c, "DELETE", "/api/contents/n.ipynb/checkpoints/checkpoint")
    call(a, "POST", f"/api/projects/{pid}/snapshots", json={"message": "manual"})
    # An automatic snapshot: a save requests one; wait until the worker reports it.
    since = call(a, "GET", f"/api/projects/{pid}/events", params={"timeout": 0}).json()["last"]
    call(c, "PUT", "/api/contents/auto.txt", json={**text, "content": "auto"})

    def snapshot_seen() -> bool:
        events = call(a, "GET", f"/api/projects/{pid}/events", params={"since": since, "timeout": 5}).json()
        return any(e["type"] == "snapshot" for e in events["events"])

    wait_for(snapshot_seen, timeout=60, what="an automatic snapshot")
    versions = call(a, "GET", f"/api/projects/{pid}/versions", params={"path": "auto.txt"}).json()
    if isinstance(versions, list) and versions:
        call(a, "POST", f"/api/projects/{pid}/versions/{versions[-1]['id']}/restore", json={"path": "auto.txt"})
        call(a, "POST", f"/api/projects/{pid}/versions/{versions[-1]['id']}/restore", json={"path": "f2.txt"})
    call(c, "DELETE", "/api/contents/auto.txt")
    trash = call(a, "GET", f"/api/projects/{pid}/trash").json()
    for item in trash if isinstance(trash, list) else []:
        call(a, "POST", f"/api/projects/{pid}/trash/{item['id']}/restore", json={})
    call(c, "POST", "/api/contents", json={"copy_from": "f2.txt"})
    call(c, "PATCH", "/api/contents/f2.txt", json={"path": "f3.txt"})
    call(c, "PATCH", "/api/contents/f3.txt", json={"path": "f2.txt"})
    call(c, "PUT", "/api/contents/up", json={"type": "directory"})
    for chunk, part in ((1, b"part one "), (2, b"part two "), (-1, b"end")):
        for name in ("upload.bin", "up/big.bin"):
            call(c, "PUT", f"/api/contents/{name}", json={"type": "file", "format": "base64", "chunk": chunk,
                                                         "content": base64.b64encode(part).decode()})
    call(c, "DELETE", "/api/contents/f2.txt")
    call(c, "DELETE", "/api/contents/sub")
    call(a, "PATCH", f"/api/projects/{pid}", json={"title": "Renamed"})
    call(a, "GET", f"/api/projects/{pid}")
    call(a, "POST", f"/api/projects/{pid}/snapshots", json={"message": "after all"})


@pytest.mark.parametrize("kind", ["file", "folder"])
@pytest.mark.parametrize("group", list(GROUPS))
def test_planted_links_are_never_followed(group: str, kind: str, server, api: Client, client: Client,
                                          project: dict, root: Path, tmp_path: Path) -> None:
    canary = Canary(tmp_path)
    # Put the project into a state where every store exists, then replace each path with a link.
    call = Recorder(client, api, project["id"])
    call(client, "PUT", "/api/contents/seed.txt", json={"type": "file", "format": "text", "content": "seed"})
    call(api, "POST", f"/api/projects/{project['id']}/snapshots", json={})
    worker = max((p for p in _server_family(server) if _name(p) not in ("python", None)), key=lambda p: p.pid,
                 default=None)
    for rel in GROUPS[group]:
        tag = hashlib.sha1(b"big.bin").hexdigest()[:16]
        rel = rel.format(pid=worker.pid if worker else 0, tag=tag)
        plant(root, rel, canary.target("file" if kind == "file" else "dir"))
    run_every_operation(call, server.data_dir)

    assert canary.fingerprint() == canary.before, "something outside the project was written or changed owner"
    secret = canary.secret.encode()
    leaked = [what for what, _status, body in call.responses if secret in body]
    assert not leaked, f"root-only content came back in: {leaked}"
    assert not scan_for(secret, root, server.data_dir / "state"), "root-only content was copied in"
    assert not git_objects_contain(root, secret), "root-only content was snapshotted"
    errors = [(what, status) for what, status, _body in call.responses if status >= 500]
    assert not errors, errors


def _name(process) -> str | None:
    """A process's name, or None when it ended meanwhile (git and other short-lived children come and go)."""
    import psutil

    try:
        return process.name()
    except psutil.NoSuchProcess:
        return None


def _server_family(server) -> list:
    import psutil

    return psutil.Process(server.proc.pid).children(recursive=True)


def test_a_cell_cannot_make_root_chown_a_file(server, api: Client, client: Client, project: dict, root: Path,
                                               tmp_path: Path) -> None:
    """The reported attack, from a real kernel: the snapshot lock replaced by a link to a root-only file."""
    canary = Canary(tmp_path)
    r = client.post("/api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    kc = client.kernel(r.json()["id"])
    try:
        code = (f"import os\nos.makedirs('.git/salvus', exist_ok=True)\n"
                f"for n in ('lock', 'index'):\n"
                f"    p = os.path.join('.git/salvus', n)\n"
                f"    os.path.lexists(p) and os.unlink(p)\n"
                f"    os.symlink({str(canary.file)!r}, p)\n"
                f"os.makedirs('.salvus', exist_ok=True)\n"
                f"import shutil; shutil.rmtree('.salvus/checkpoints', ignore_errors=True)\n"
                f"os.symlink({str(canary.dir)!r}, '.salvus/checkpoints')\n"
                f"open('changed.txt', 'w').write('x')\nprint(os.getuid())")
        ex = kc.execute(code)
        assert ex.reply["content"]["status"] == "ok", ex.reply
        assert ex.text.strip() != "0"  # the session really is another uid
    finally:
        kc.close()
        client.delete(f"/api/kernels/{r.json()['id']}")
    call = Recorder(client, api, project["id"])
    run_every_operation(call, server.data_dir)
    assert canary.fingerprint() == canary.before
    assert not [w for w, _s, body in call.responses if canary.secret.encode() in body]


def test_legacy_checkpoints_move_to_the_state_folder(server, client: Client, root: Path, project: dict) -> None:
    """Checkpoints an older version kept in .salvus/checkpoints are moved out on first use (not lost)."""
    assert client.put("/api/contents/a.txt", json={"type": "file", "format": "text", "content": "now"}).status_code == 201
    legacy = root / ".salvus" / "checkpoints" / "a.txt"
    legacy.mkdir(parents=True)
    (legacy / "checkpoint").write_text("then")
    st = root.stat()
    for p in (legacy.parent, legacy, legacy / "checkpoint"):
        os.lchown(p, st.st_uid, st.st_gid)
    assert [c["id"] for c in client.get("/api/contents/a.txt/checkpoints").json()] == ["checkpoint"]
    assert not (root / ".salvus" / "checkpoints").exists()
    assert client.post("/api/contents/a.txt/checkpoints/checkpoint").status_code == 204
    assert (root / "a.txt").read_text() == "then"
    stored = server.data_dir / "state" / project["id"] / "checkpoints" / "a.txt" / "checkpoint"
    assert stored.read_text() == "then" and stored.stat().st_uid == 0
    assert oct(stored.parent.parent.stat().st_mode & 0o777) == "0o700"


def test_snapshots_go_on_after_a_cell_deletes_the_history(server, api: Client, client: Client, project: dict,
                                                          root: Path) -> None:
    """A session can `rm -rf .git` (the history is the session's to lose), but snapshots must start over, not fail."""
    pid = project["id"]
    assert client.put("/api/contents/a.txt", json={"type": "file", "format": "text", "content": "one"}).status_code == 201
    assert api.post(f"/api/projects/{pid}/snapshots", json={"message": "before"}).status_code in (200, 201)
    r = client.post("/api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    kc = client.kernel(r.json()["id"])
    try:
        ex = kc.execute("import shutil, os\nshutil.rmtree('.git')\nopen('a.txt', 'w').write('two')\n"
                        "print(os.path.exists('.git'), os.getuid())")
        assert ex.reply["content"]["status"] == "ok", ex.reply
        assert ex.text.split()[0] == "False" and ex.text.split()[1] != "0"
    finally:
        kc.close()
        client.delete(f"/api/kernels/{r.json()['id']}")
    for message in ("after", "again"):
        assert client.put("/api/contents/a.txt", json={"type": "file", "format": "text",
                                                       "content": message}).status_code in (200, 201)
        r = api.post(f"/api/projects/{pid}/snapshots", json={"message": message})
        assert r.status_code in (200, 201), r.text
    versions = api.get(f"/api/projects/{pid}/versions", params={"path": "a.txt"}).json()
    # Only versions of the new history (automatic snapshots may have taken some of the saves);
    # the oldest, the new repository's first commit, says what happened.
    assert versions and "History inside the folder was deleted" in versions[-1]["message"], versions
    assert sum("History inside the folder was deleted" in v["message"] for v in versions) == 1, versions
    # The new repository is the owner's (sessions keep using git), and the automatic snapshots work too.
    assert (root / ".git").stat().st_uid == root.stat().st_uid
    since = api.get(f"/api/projects/{pid}/events", params={"timeout": 0}).json()["last"]
    client.put("/api/contents/b.txt", json={"type": "file", "format": "text", "content": "auto"})

    def snapshot_seen() -> bool:
        events = api.get(f"/api/projects/{pid}/events", params={"since": since, "timeout": 5}).json()
        return any(e["type"] == "snapshot" for e in events["events"])

    wait_for(snapshot_seen, timeout=60, what="an automatic snapshot after the history was deleted")
