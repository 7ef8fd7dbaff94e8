"""Search finds a recorded computation; the project CLI creates, lists, opens and clones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from salvus_local.server.history.recorder import Recorder
from salvus_local.store.db import Store

ROOT = Path(__file__).resolve().parents[2]


def msg(msg_type: str, content: dict, parent: str | None = None, metadata: dict | None = None) -> dict:
    return {"header": {"msg_id": str(uuid.uuid4()), "msg_type": msg_type}, "parent_header": {"msg_id": parent} if parent else {},
            "metadata": metadata or {}, "content": content}


def test_search_finds_a_recorded_computation(client, data_dir: Path) -> None:
    """The Recorder is fed the Jupyter messages a kernel exchange produces; the server searches them."""
    store = Store.for_data_dir(data_dir)  # a second writer beside the server, as the CLI would be
    recorder = Recorder(store, lambda kernel_id: ("default", "work/integrals.ipynb"))
    request = msg("execute_request", {"code": "integrate(sin(x)^2, x)", "silent": False, "store_history": True},
                  metadata={"cellId": "cell-7"})
    recorder("k1", request, "in")
    parent = request["header"]["msg_id"]
    recorder("k1", msg("stream", {"name": "stdout", "text": "computing antiderivative\n"}, parent), "out")
    recorder("k1", msg("execute_result", {"data": {"text/plain": "1/2*x - 1/4*sin(2*x)"}, "execution_count": 3}, parent), "out")
    recorder("k1", msg("execute_reply", {"status": "ok", "execution_count": 3}, parent), "out")
    silent = msg("execute_request", {"code": "integrate(secret)", "silent": True})
    recorder("k1", silent, "in")
    recorder("k1", msg("execute_reply", {"status": "ok"}, silent["header"]["msg_id"]), "out")

    results = client.get("/api/search", params={"q": "antiderivative"}).json()["results"]
    assert len(results) == 1
    hit = results[0]
    assert hit["project_id"] == "default" and hit["path"] == "work/integrals.ipynb"
    assert hit["cell_id"] == "cell-7" and hit["execution_count"] == 3 and hit["time"].endswith("Z")
    assert "[antiderivative]" in hit["output_snippet"]
    assert client.get("/api/search", params={"q": "integ"}).json()["results"][0]["input_snippet"].startswith("[integrate]")
    assert client.get("/api/search", params={"q": "secret"}).json()["results"] == []
    assert client.get("/api/search", params={"q": '"); drop table computations; --'}).status_code == 200
    assert client.get("/api/search", params={"q": "  "}).status_code == 400
    assert client.get("/api/history", params={"project": "default"}).json()[0]["input"] == "integrate(sin(x)^2, x)"


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
