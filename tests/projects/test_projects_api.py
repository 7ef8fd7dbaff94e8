"""Projects REST API, snapshots on save, external-edit events, history and restore (real git, real server)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.projects.conftest import SERVER_ARGS, Client, wait_for


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    """An existing git repository with one commit and a staged change."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "work")
    (repo / "a.txt").write_text("committed\n")
    git(repo, "add", "a.txt")
    git(repo, "-c", "user.name=U", "-c", "user.email=u@x", "commit", "-qm", "init")
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    return repo


def test_project_lifecycle(start_server) -> None:
    client = Client(start_server(*SERVER_ARGS))  # a fresh server: only the default project exists
    assert [p["id"] for p in client.get("/api/projects").json()] == ["default"]
    r = client.post("/api/projects", json={"title": "My Thesis"})
    assert r.status_code == 201
    p = r.json()
    assert p["title"] == "My Thesis" and p["url"] == f"/p/{p['id']}/" and (Path(p["path"]) / ".git").is_dir()
    assert '"title": "My Thesis"' in (Path(p["path"]) / ".salvus/project.json").read_text()
    assert client.patch(f"/api/projects/{p['id']}", json={"title": "Renamed"}).json()["title"] == "Renamed"
    assert client.patch(f"/api/projects/{p['id']}", json={"archived": True}).json()["archived"] is True
    assert p["id"] not in [x["id"] for x in client.get("/api/projects").json()]
    assert p["id"] in [x["id"] for x in client.get("/api/projects?archived=1").json()]
    assert client.delete(f"/api/projects/{p['id']}").status_code == 204
    assert client.get(f"/api/projects/{p['id']}").status_code == 404
    assert not Path(p["path"]).exists()
    assert [x["id"] for x in client.get("/api/projects?deleted=1").json()] == [p["id"]]
    restored = client.post(f"/api/projects/{p['id']}/restore").json()
    assert restored["deleted"] is None and Path(p["path"]).is_dir()


@pytest.mark.parametrize("body,status", [
    ({}, 400), ({"title": ""}, 400), ({"title": 5}, 400), ({"open": "/no/such/folder"}, 404),
    ({"title": "x" * 300}, 400),
])
def test_create_errors(api, body: dict, status: int) -> None:
    r = api.post("/api/projects", json=body)
    assert r.status_code == status and r.json()["message"]
    assert api.delete("/api/projects/default").status_code == 400
    assert api.get("/api/projects/nope-123").status_code == 404


def test_open_existing_repo_in_place_and_snapshot_leaves_user_state(api, user_repo: Path) -> None:
    head, branch = git(user_repo, "rev-parse", "HEAD"), git(user_repo, "symbolic-ref", "HEAD")
    index_before = git(user_repo, "ls-files", "--stage")
    p = api.post("/api/projects", json={"open": str(user_repo)}).json()
    assert p["in_place"] is True and p["path"] == str(user_repo.resolve())
    # the same folder twice is the same project
    assert api.post("/api/projects", json={"open": str(user_repo)}).json()["id"] == p["id"]
    r = api.put(f"/p/{p['id']}/api/contents/a.txt", json={"type": "file", "format": "text", "content": "saved\n"})
    assert r.status_code == 200
    versions = wait_for(lambda: [v for v in api.get(f"/api/projects/{p['id']}/versions?path=a.txt").json()
                                 if v["message"].startswith("saved a.txt")])
    assert versions
    assert git(user_repo, "rev-parse", "HEAD") == head
    assert git(user_repo, "symbolic-ref", "HEAD") == branch
    assert git(user_repo, "ls-files", "--stage") == index_before
    assert git(user_repo, "status", "--porcelain").splitlines()[:2] == [" M a.txt", "A  staged.txt"]
    snap = git(user_repo, "rev-parse", "refs/salvus/snapshots").strip()
    assert git(user_repo, "show", f"{snap}:a.txt") == "saved\n"
    assert git(user_repo, "show", f"{snap}:staged.txt") == "staged\n"
    subprocess.run(["git", "fsck", "--strict"], cwd=user_repo, check=True, capture_output=True)
    # deleting an in-place project only forgets it
    assert api.delete(f"/api/projects/{p['id']}").status_code == 204
    assert (user_repo / "a.txt").read_text() == "saved\n"


def test_history_diff_restore(client, api, project: dict, root: Path) -> None:
    pid = project["id"]

    def save(text: str, n: int) -> None:
        """Save through the API; every save becomes a version (wait for the snapshot worker)."""
        client.put("/api/contents/h.txt", json={"type": "file", "format": "text", "content": text})
        wait_for(lambda: len(api.get(f"/api/projects/{pid}/versions?path=h.txt").json()) == n)

    save("one\n", 1)
    save("two\n", 2)
    save("", 3)  # blanked by accident
    versions = api.get(f"/api/projects/{pid}/versions?path=h.txt").json()
    assert [v["message"] for v in versions] == ["saved h.txt"] * 3
    old = versions[2]["id"]
    got = api.get(f"/api/projects/{pid}/versions/{old}?path=h.txt").json()
    assert got["content"] == "one\n" and got["format"] == "text"
    d = api.get(f"/api/projects/{pid}/diff?path=h.txt&from={old}&to={versions[1]['id']}").json()["diff"]
    assert "-one" in d and "+two" in d
    r = api.post(f"/api/projects/{pid}/versions/{old}/restore", json={"path": "h.txt"})
    assert r.status_code == 200 and (root / "h.txt").read_text() == "one\n"
    after = api.get(f"/api/projects/{pid}/versions?path=h.txt").json()
    assert len(after) == len(versions) + 1 and after[0]["id"] == r.json()["version"]
    assert api.get(f"/api/projects/{pid}/versions/zzzz?path=h.txt").status_code == 400
    assert api.get(f"/api/projects/{pid}/versions/{'0' * 40}?path=h.txt").status_code == 404
    assert api.get(f"/api/projects/{pid}/versions/{old}?path=nope.txt").status_code == 404
    assert api.get(f"/api/projects/{pid}/versions/{old}?path=../x").status_code == 400


def test_external_edit_is_an_event(client, api, project: dict, root: Path) -> None:
    pid = project["id"]
    client.put("/api/contents/e.txt", json={"type": "file", "format": "text", "content": "ours"})
    first = api.get(f"/api/projects/{pid}/events?since=0&timeout=0").json()
    (root / "e.txt").write_text("theirs")
    found = wait_for(lambda: [e for e in api.get(f"/api/projects/{pid}/events?since={first['last']}&timeout=5")
                              .json()["events"] if e.get("path") == "e.txt" and e["external"]])
    assert found[0]["type"] in ("modified", "created")
    own = [e for e in api.get(f"/api/projects/{pid}/events?since=0&timeout=0").json()["events"]
           if e.get("path") == "e.txt" and e["seq"] <= first["last"] and e["type"] != "snapshot"]
    assert all(not e["external"] for e in own)
    assert api.get(f"/api/projects/{pid}/events?since=x").status_code == 400


def test_clone_job_with_progress(api, user_repo: Path) -> None:
    r = api.post("/api/projects", json={"clone": str(user_repo), "title": "Cloned"})
    assert r.status_code == 202
    job = wait_for(lambda: (j := api.get(f"/api/projects/jobs/{r.json()['id']}").json())["state"] != "running" and j)
    assert job["state"] == "done", job
    project = job["result"]
    assert (Path(project["path"]) / "a.txt").read_text() == "committed\n"
    bad = api.post("/api/projects", json={"clone": str(user_repo / "nope")}).json()
    job = wait_for(lambda: (j := api.get(f"/api/projects/jobs/{bad['id']}").json())["state"] != "running" and j)
    assert job["state"] == "error" and "clone failed" in job["error"]["message"]
    assert api.get("/api/projects/jobs/nope").status_code == 404
