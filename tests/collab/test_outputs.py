"""The server writes outputs into the document: late joiners see them, and they continue after the
browser that ran the cell has gone."""

from __future__ import annotations

import json
from typing import Any

from tests.collab.conftest import client, disk_notebook, notebook, put_notebook
from tests.conftest import Server, wait_for

LOOP = "import time\nfor i in range(8):\n    print(i, flush=True)\n    time.sleep(0.25)\n'done'"


def execute(server: Server, kernel_id: str, code: str, cell_id: str) -> Any:
    """Send an execute_request for a cell (metadata.cellId) on a kernel websocket; return the websocket."""
    kc = server.kernel_client(kernel_id)
    msg = kc.message("shell", "execute_request", {"code": code, "silent": False, "store_history": True,
                                                  "user_expressions": {}, "allow_stdin": False})
    msg["metadata"] = {"cellId": cell_id}
    kc.ws.send(json.dumps(msg))
    return kc


def cell(c: Any, index: int) -> dict[str, Any]:
    """One cell of a client's notebook."""
    return c.notebook()[index]


def stdout(c: Any, index: int) -> str:
    """The stdout text of a cell's outputs, concatenated."""
    return "".join(o.get("text", "") for o in cell(c, index).get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def start_session(server: Server, path: str) -> str:
    """A notebook session (and its kernel) for path; returns the kernel id."""
    r = server.post("/api/sessions", json={"path": path, "type": "notebook", "kernel": {"name": "python3"}})
    assert r.status_code == 201, r.text
    return r.json()["kernel"]["id"]


def test_outputs_reach_a_late_joiner_and_continue_after_the_runner_leaves(collab_server, clients) -> None:
    put_notebook(collab_server, "run.ipynb", notebook(LOOP, "1 + 1"))
    kernel_id = start_session(collab_server, "run.ipynb")
    runner = client(collab_server, "run.ipynb", "runner")
    clients.append(runner)
    kc = execute(collab_server, kernel_id, LOOP, "c0")
    wait_for(lambda: cell(runner, 0)["metadata"].get("execution_state") == "running", 60, "busy cell")
    wait_for(lambda: "1\n" in stdout(runner, 0), 60, "the first outputs")
    kc.ws.close()          # the browser that ran the cell goes away
    runner.disconnect()
    late = client(collab_server, "run.ipynb", "late")
    clients.append(late)
    assert stdout(late, 0).startswith("0\n1\n")  # what ran so far
    wait_for(lambda: cell(late, 0)["metadata"].get("execution_state") == "idle", 60, "the end of the run")
    done = cell(late, 0)
    assert stdout(late, 0) == "".join(f"{i}\n" for i in range(8))
    assert [o["output_type"] for o in done["outputs"]] == ["stream", "execute_result"]
    assert done["outputs"][1]["data"]["text/plain"] == "'done'"
    assert done["execution_count"] == done["outputs"][1]["execution_count"] >= 1
    saved = wait_for(lambda: (nb := disk_notebook(collab_server, "run.ipynb"))["cells"][0]["outputs"] and nb, 60,
                     "outputs saved in the file")
    assert "execution_state" not in saved["cells"][0]["metadata"]  # live state is not saved
    collab_server.delete(f"/api/kernels/{kernel_id}")


def test_display_updates_and_clear_output(collab_server, clients) -> None:
    code = ("from IPython.display import display, clear_output\n"
            "h = display('first', display_id=True)\n"
            "print('gone soon')\n"
            "clear_output(wait=True)\n"
            "h2 = display('second', display_id=True)\n"
            "h2.update('updated')\n"
            "print('a', end='')\nprint('b\\r', end='')\nprint('c')")
    put_notebook(collab_server, "display.ipynb", notebook(code))
    kernel_id = start_session(collab_server, "display.ipynb")
    a = client(collab_server, "display.ipynb", "a")
    clients.append(a)
    execute(collab_server, kernel_id, code, "c0").ws.close()
    wait_for(lambda: cell(a, 0)["metadata"].get("execution_state") == "idle"
             and cell(a, 0).get("execution_count"), 60, "the run")
    outputs = cell(a, 0)["outputs"]
    assert [o["output_type"] for o in outputs] == ["display_data", "stream"]
    assert outputs[0]["data"]["text/plain"] == "'updated'"
    assert outputs[1]["text"] == "ab\rc\n"  # kept as sent: the page renders \r
    collab_server.delete(f"/api/kernels/{kernel_id}")
