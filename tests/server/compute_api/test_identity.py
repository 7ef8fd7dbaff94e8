"""Who fresh compute-API and anonymous sessions run as on a root multi-user server (adversary findings 6, 10).

Each signed-in user's fresh session runs as the uid of that user's home project, in a 0700 folder of
that uid: another student's request can neither read it nor signal its process.  Anonymous sessions
(embedded cells, anonymous /api/v1/execute) each run as a uid no other live session has.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path

import pytest
import websocket

from tests.accounts.conftest import PYTHON_ONLY, Person, make_user
from tests.conftest import DEFAULT_TIMEOUT, Server, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a uid per project needs a root server")
ORIGIN = "http://127.0.0.1:8123"


@pytest.fixture(scope="module")
def multi() -> Server:
    srv = Server("--multi-user", "--embed-origins", ORIGIN, env=PYTHON_ONLY)
    yield srv
    srv.stop()


def session_pid_in(folder: Path) -> int | None:
    """The pid of a process whose working folder is folder (root reads every /proc/<pid>/cwd)."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.readlink(f"/proc/{entry.name}/cwd") == str(folder):
                    return int(entry.name)
            except OSError:
                continue
    return None


def execute(person: Person, code: str) -> dict:
    r = person.post("/api/v1/execute", json={"code": code, "timeout": 60})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_students_request_cannot_read_or_kill_anothers_fresh_session(multi: Server) -> None:
    carol, dave = make_user(multi, prefix="carol"), make_user(multi, prefix="dave")
    marker = uuid.uuid4().hex
    answer: dict = {}
    carol_code = (f"import os, time\nopen('carol_answer.txt', 'w').write('carol private {marker}')\n"
                  "t = time.monotonic()\n"
                  "while not os.path.exists('go') and time.monotonic() - t < 50: time.sleep(0.05)\n"
                  "print('carol done', os.getuid())")
    worker = threading.Thread(target=lambda: answer.update(execute(carol, carol_code)))
    worker.start()
    compute = multi.data_dir / "compute"
    folder = wait_for(lambda: next((p.parent for p in compute.glob("api-*/carol_answer.txt")), None),
                      what="carol's fresh session writing its file")
    pid = wait_for(lambda: session_pid_in(folder), what="carol's session process")
    st = folder.stat()
    assert st.st_mode & 0o777 == 0o700 and st.st_uid != 65534
    assert oct(compute.stat().st_mode & 0o777) == "0o711" and compute.stat().st_uid == 0  # passable, not listable
    probe = (f"import glob, os, signal\nprint('uid', os.getuid())\nprint('glob', glob.glob('../*/carol_answer.txt'))\n"
             f"try:\n    print(open({str(folder / 'carol_answer.txt')!r}).read())\n"
             f"except OSError as e:\n    print('read', type(e).__name__)\n"
             f"try:\n    os.kill({pid}, signal.SIGKILL)\n    print('KILLED')\n"
             f"except OSError as e:\n    print('kill', type(e).__name__)\n")
    out = execute(dave, probe)
    assert out["status"] == "ok", out
    text = out["stdout"]
    assert marker not in text and "KILLED" not in text, text
    assert "read PermissionError" in text and "kill PermissionError" in text and "glob []" in text, text
    dave_uid = int(text.split("uid ")[1].split()[0])
    assert dave_uid not in (65534, st.st_uid)
    # dave's request ran as his home project's uid: the same his kernels get
    home = dave.home()
    assert dave_uid == (multi.data_dir / "projects").joinpath(home).stat().st_uid or \
        dave_uid == Path(dave.get(f"/api/projects/{home}").json()["path"]).stat().st_uid
    (folder / "go").write_text("")  # the test (root) lets carol's session finish: it was never killed
    worker.join(DEFAULT_TIMEOUT)
    assert answer["status"] == "ok" and answer["stdout"] == f"carol done {st.st_uid}\n", answer


def embed_uid(srv: Server) -> tuple[str, str, int]:
    """Start an anonymous embedded session; return (id, key, the uid its code runs as)."""
    r = srv.post("/embed/kernels", json={"kernel": "python"}, auth=False, headers={"Origin": ORIGIN})
    assert r.status_code == 201, r.text
    s = r.json()
    ws = websocket.create_connection(srv.base_url.replace("http", "ws", 1) +
                                     f"/embed/kernels/{s['id']}/channels?key={s['key']}", origin=ORIGIN,
                                     timeout=DEFAULT_TIMEOUT)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "session": "t",
                                       "username": "", "version": "5.3", "date": ""},
                            "parent_header": {}, "metadata": {}, "channel": "shell",
                            "content": {"code": "import os; print(os.getuid(), sorted(os.listdir('.')))",
                                        "silent": False, "store_history": False, "user_expressions": {},
                                        "allow_stdin": False}}))
        text = ""
        while True:
            m = json.loads(ws.recv())
            if m.get("msg_type") == "stream" and m["parent_header"].get("msg_id") == msg_id:
                text += m["content"]["text"]
            if m.get("msg_type") == "error":
                raise AssertionError(m["content"])
            if (m.get("msg_type") == "status" and m["content"]["execution_state"] == "idle"
                    and m["parent_header"].get("msg_id") == msg_id):
                break
    finally:
        ws.close()
    uid, listing = text.split(" ", 1)
    assert listing.strip() == "[]", text  # its own empty folder
    return s["id"], s["key"], int(uid)


def test_embedding_works_with_isolation_and_each_anonymous_session_has_its_own_uid(multi: Server) -> None:
    student = make_user(multi, prefix="erin")
    own = execute(student, "import os; print(os.getuid())")["stdout"].strip()
    first, key1, uid1 = embed_uid(multi)
    second, key2, uid2 = embed_uid(multi)
    assert uid1 != uid2 and 65534 not in (uid1, uid2) and str(uid1) != own and str(uid2) != own
    anon = multi.post("/api/v1/execute", json={"code": "import os; print(os.getuid())"}, auth=False,
                      headers={"Origin": ORIGIN})
    assert anon.status_code == 200, anon.text
    assert int(anon.json()["stdout"]) not in (uid1, uid2, 65534, int(own))
    for kid, key in ((first, key1), (second, key2)):
        assert multi.delete(f"/embed/kernels/{kid}?key={key}", auth=False,
                            headers={"Origin": ORIGIN}).status_code == 204
    # a freed uid has nothing of its last visitor left running
    wait_for(lambda: not [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) in (uid1, uid2)],
             what="no process of the freed anonymous uids")


def _uid_of(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def test_an_anonymous_run_leaves_nothing_running_as_its_uid(multi: Server) -> None:
    code = "import os, subprocess\np = subprocess.Popen(['setsid', 'sleep', '300'])\nprint(os.getuid(), p.pid)"
    r = multi.post("/api/v1/execute", json={"code": code}, auth=False, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    uid, pid = (int(x) for x in r.json()["stdout"].split())
    # the reply came after the forker reaped the run: its uid goes back to the pool with nothing left
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid]
    assert _uid_of(str(pid)) is None
