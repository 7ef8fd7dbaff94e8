"""salvus.db: named migrations, pragmas, and 20 concurrent writers without 'database is locked'."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from salvus_local.store.db import Store

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from salvus_local.store.db import Store
from salvus_local.store import history
store = Store.for_data_dir(sys.argv[1])
for i in range(int(sys.argv[3])):
    history.record(store, project_id="p", path=f"w{sys.argv[2]}.ipynb", cell_id=str(i), kernel_id="k",
                   execution_count=i, input=f"x = {i}", output=str(i), status="ok")
"""


def test_migrations_and_pragmas(tmp_path: Path) -> None:
    store = Store.for_data_dir(tmp_path)
    names = [r["name"] for r in store.query("select name from _sqlite_migrations order by id")]
    # Later migrations are appended by other features: check the first ones and the order.
    assert names[:4] == ["0001_projects", "0002_files", "0003_computations", "0004_settings"]
    assert names == sorted(set(names)), names
    assert store.query("pragma journal_mode")[0]["journal_mode"] == "wal"
    assert store.query("pragma synchronous")[0]["synchronous"] == 1  # NORMAL, see db.py
    assert store.query("pragma foreign_keys")[0]["foreign_keys"] == 1
    assert store.query("pragma busy_timeout")[0]["timeout"] >= 5000
    store.close()
    again = Store.for_data_dir(tmp_path)  # re-opening applies nothing twice
    assert len(again.query("select * from _sqlite_migrations")) == len(names)
    again.set_setting("theme", {"dark": True})
    assert again.get_setting("theme") == {"dark": True}


def test_twenty_concurrent_writers(tmp_path: Path) -> None:
    """10 threads of one server-like Store and 10 separate processes write at once."""
    store = Store.for_data_dir(tmp_path)
    store.query("select 1")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n), "30"], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for n in range(10)]
    errors: list[BaseException] = []

    def write(n: int) -> None:
        from salvus_local.store import history

        try:
            for i in range(30):
                history.record(store, project_id="p", path=f"t{n}.ipynb", cell_id=str(i), kernel_id="k",
                               execution_count=i, input=f"y = {i}", output=str(i), status="ok")
                store.query("select count(*) from computations")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stderr = [p.communicate()[1] for p in procs]
    assert not errors, errors
    assert all(p.returncode == 0 for p in procs), stderr
    assert not any("locked" in s for s in stderr)
    assert store.query("select count(*) as n from computations")[0]["n"] == 600
    assert store.query("select count(*) as n from computations_fts where computations_fts match 'y'")[0]["n"] >= 0
