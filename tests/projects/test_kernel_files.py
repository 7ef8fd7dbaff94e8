"""Files a kernel writes (as uid 65534 when the server is root) work with snapshots, contents, restore, terminals.

And git run by the server for snapshots never runs the project's own git config as root: a kernel
can write ``.git/config``, so a filter or hook named there must run as the kernel's uid.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import KernelClient, Server
from tests.projects.conftest import Client, read_until, wait_for

AS_ROOT = os.geteuid() == 0


@pytest.fixture
def kernel(client: Client) -> Iterator[KernelClient]:
    """A python kernel started at the project's base URL, over its websocket."""
    kid = client.post("/api/kernels", json={"name": "python3"}).json()["id"]
    kc = client.kernel(kid)
    yield kc
    kc.close()
    client.delete(f"/api/kernels/{kid}")


def run(kc: KernelClient, code: str) -> str:
    """Run code in the kernel; return its stdout, failing on an error."""
    ex = kc.execute(code)
    assert ex.reply["content"]["status"] == "ok", ex.reply["content"]
    return ex.text


def newest(api: Client, pid: str, path: str) -> dict:
    """Snapshot the project now and return the newest version of path with its content."""
    assert api.post(f"/api/projects/{pid}/snapshots", json={"message": "test"}).status_code == 200
    version = api.get(f"/api/projects/{pid}/versions", params={"path": path}).json()[0]
    return {**version, **api.get(f"/api/projects/{pid}/versions/{version['id']}", params={"path": path}).json()}


def root_owned(folder: Path) -> list[str]:
    """Paths below folder that belong to root."""
    return [str(p.relative_to(folder)) for p in [folder, *folder.rglob("*")] if p.lstat().st_uid == 0]


def test_kernel_files_snapshot_restore_edit(server: Server, client: Client, api: Client, project: dict,
                                            root: Path, kernel: KernelClient) -> None:
    pid = project["id"]
    run(kernel, "import os\nos.makedirs('made/by', exist_ok=True)\nopen('made/by/k.txt', 'w').write('v1\\n')\n"
                "os.chmod('made', 0o700)")  # a folder private to the kernel's uid
    if AS_ROOT:
        assert (root / "made/by/k.txt").stat().st_uid == root.stat().st_uid != 0  # the project's own uid
    first = newest(api, pid, "made/by/k.txt")
    assert first["content"] == "v1\n"
    run(kernel, "open('made/by/k.txt', 'w').write('v2\\n')")
    assert newest(api, pid, "made/by/k.txt")["content"] == "v2\n"

    r = api.post(f"/api/projects/{pid}/versions/{first['id']}/restore", json={"path": "made/by/k.txt"})
    assert r.status_code == 200 and (root / "made/by/k.txt").read_text() == "v1\n"
    assert run(kernel, "f = open('made/by/k.txt', 'a+'); f.write('v3\\n'); f.close(); print(open('made/by/k.txt').read())") \
        == "v1\nv3\n\n"  # the restored file is still the kernel's to change
    assert client.get("/api/contents/made/by/k.txt").json()["content"] == "v1\nv3\n"

    assert client.put("/api/contents/made/by/api.txt", json={"type": "file", "format": "text",
                                                            "content": "saved by the API"}).status_code == 201
    assert client.put("/api/contents/fromapi", json={"type": "directory"}).status_code == 201
    run(kernel, "open('made/by/api.txt', 'a').write(' and the kernel')\nopen('fromapi/k.txt', 'w').write('ok')")
    assert client.get("/api/contents/made/by/api.txt").json()["content"] == "saved by the API and the kernel"
    assert (root / "fromapi/k.txt").read_text() == "ok"
    assert client.delete("/api/contents/made/by/api.txt").status_code == 204  # into the trash and back
    item = api.get(f"/api/projects/{pid}/trash").json()[0]
    assert api.post(f"/api/projects/{pid}/trash/{item['id']}/restore").status_code == 200
    run(kernel, "open('made/by/api.txt', 'a').write('!')")

    # A terminal (the kernel's uid too) edits those files and commits with git after our snapshots.
    name = client.post("/api/terminals").json()["name"]
    ws = server.ws(f"/p/{pid}/terminals/websocket/{name}")
    commands = ("cat made/by/k.txt; echo t >> made/by/api.txt && git add -A && "
                "git -c user.name=U -c user.email=u@x commit -qm mine && echo COMMIT-$((40+2))\r")
    ws.send(json.dumps(["stdin", commands]))
    read_until(ws, "COMMIT-42")
    ws.close()
    client.delete(f"/api/terminals/{name}")
    assert (root / "made/by/api.txt").read_text() == "saved by the API and the kernel!t\n"
    assert newest(api, pid, "made/by/api.txt")["content"] == "saved by the API and the kernel!t\n"
    if AS_ROOT:  # nothing the server made in the work tree or the repository is root's
        assert root_owned(root / ".git") == [] and [p for p in root_owned(root) if not p.startswith(".salvus")] == []


@pytest.mark.skipif(not AS_ROOT, reason="only a server running as root runs kernels as another uid")
def test_snapshot_runs_no_command_from_the_repo_config(api: Client, project: dict, root: Path,
                                                       kernel: KernelClient) -> None:
    """A clean filter a session writes into the project's own .git/config never runs: snapshots store raw bytes
    (store/rawstage.py: hash-object --no-filters). It used to run, as the project's uid; as root it would be an escape."""
    spy = '[filter "spy"]\n\tclean = "sh -c \'id -u > ran-as; cat\'"\n'  # quoted: ';' starts a git comment
    run(kernel, f"open('.git/config', 'a').write({spy!r})\n"
                "open('.gitattributes', 'w').write('*.txt filter=spy\\n')\nopen('a.txt', 'w').write('x')")
    assert api.post(f"/api/projects/{project['id']}/snapshots", json={}).status_code == 200
    stored = subprocess.run(["git", "-c", f"safe.directory={root}", "cat-file", "blob", "refs/salvus/snapshots:a.txt"],
                            cwd=root, capture_output=True, check=True).stdout
    assert stored == b"x"  # the snapshot answered 200 after it was taken: the filter had its chance and did not run
    assert not (root / "ran-as").exists()
