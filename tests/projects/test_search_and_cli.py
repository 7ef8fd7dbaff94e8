"""Search finds computations a real kernel ran; the project CLI creates, lists, opens and clones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.projects.conftest import Client, run_cell, wait_for

ROOT = Path(__file__).resolve().parents[2]
CELL = """integrate = lambda expr, var: "1/2*x - 1/4*sin(2*x)"
print("computing antiderivative")
integrate("sin(x)^2", "x")"""


def search(api: Client, q: str, **params: str) -> list[dict]:
    r = api.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_search_finds_a_computation_of_a_real_kernel(api) -> None:
    """Cells executed over the kernel websocket of a notebook session are recorded and found by /api/search."""
    session = api.post("/api/sessions", json={"path": "work/integrals.ipynb", "type": "notebook",
                                               "kernel": {"name": "python3"}}).json()
    kc = api.kernel(session["kernel"]["id"])
    try:
        run_cell(kc, "x = 1", cell_id="cell-1")
        reply = run_cell(kc, CELL, cell_id="cell-7")
        run_cell(kc, "'integrate(secret)'", silent=True)
    finally:
        kc.close()
    results = wait_for(lambda: search(api, "antiderivative"))
    assert len(results) == 1
    hit = results[0]
    assert hit["project_id"] == "default" and hit["path"] == "work/integrals.ipynb"
    assert hit["cell_id"] == "cell-7" and hit["execution_count"] == reply["content"]["execution_count"]
    assert hit["time"].endswith("Z") and hit["status"] == "ok"
    assert "\x02antiderivative\x03" in hit["output_snippet"]
    assert search(api, "sin 2")[0]["id"] == hit["id"]  # the result's text is recorded too
    assert search(api, "integ")[0]["input_snippet"].startswith("\x02integrate\x03")
    assert search(api, "secret") == []  # silent executions are not history
    assert api.get("/api/search", params={"q": '"); drop table computations; --'}).status_code == 200
    assert api.get("/api/search", params={"q": "  "}).status_code == 400
    assert api.get("/api/history", params={"project": "default"}).json()[0]["input"] == CELL
    api.delete(f"/api/sessions/{session['id']}")


def test_search_knows_the_project_of_a_computation(api, client, project: dict) -> None:
    """A session made under /p/<id>/ records that project and the path relative to it."""
    session = client.post("/api/sessions", json={"path": "deep/nb.ipynb", "type": "notebook",
                                                  "kernel": {"name": "python3"}}).json()
    kc = client.kernel(session["kernel"]["id"])
    try:
        run_cell(kc, "print('zanzibar' + 'quux')", cell_id="c1")
    finally:
        kc.close()
    hit = wait_for(lambda: search(api, "zanzibarquux"))[0]
    assert hit["project_id"] == project["id"] and hit["path"] == "deep/nb.ipynb"
    assert search(api, "zanzibarquux", project=project["id"])[0]["id"] == hit["id"]
    assert search(api, "zanzibarquux", project="default") == []
    assert client.delete(f"/api/sessions/{session['id']}").status_code == 204


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SALVUS_LOCAL_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "salvus_local.project_cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_create_list_open_clone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = json.loads(cli(data, "create", "Algebra", "--json").stdout)
    assert created["title"] == "Algebra" and (Path(created["path"]) / ".git").is_dir()
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "notes.md").write_text("# notes")
    opened = json.loads(cli(data, "open", str(folder), "--json").stdout)
    assert opened["in_place"] == 1 and opened["path"] == str(folder.resolve()) and (folder / ".git").is_dir()
    r = cli(data, "clone", str(folder), "--title", "Copy", "--json")
    assert r.returncode == 0, r.stderr
    cloned = json.loads(r.stdout)
    assert cloned["origin"] == str(folder) and "done" in r.stderr
    listing = cli(data, "list").stdout
    for p in (created, opened, cloned):
        assert p["id"] in listing
    assert cli(data, "archive", created["id"]).returncode == 0
    assert created["id"] not in cli(data, "list").stdout and created["id"] in cli(data, "list", "--all").stdout
    bad = cli(data, "clone", str(tmp_path / "missing"))
    assert bad.returncode == 1 and "clone failed" in bad.stderr
    assert cli(data, "open", str(tmp_path / "missing")).returncode == 2
    assert "no changes" not in cli(data, "snapshot", opened["id"]).stdout
    assert "manual snapshot" in cli(data, "history", opened["id"]).stdout
