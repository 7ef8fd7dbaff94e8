"""The forker's one-shot ``run`` request (kernel/oneshot.py) against the real compute server."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from salvus_local.protocol import ConnectionClosed, Verb

from .conftest import Forker, wait_for

ROOT = os.geteuid() == 0
NOBODY = {"uid": 65534, "gid": 65534} if ROOT else {}


@pytest.fixture
def cwd(tmp_path: Path) -> str:
    """A private folder the run's uid can use."""
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    if ROOT:
        tmp_path.chmod(0o755)
        os.chown(folder, 65534, 65534)
    return str(folder)


def send_run(forker: Forker, code: str, cwd: str, timeout: float = 30, **extra: Any) -> tuple[str, dict]:
    """Send one run request; return (kernel_id, the answer frame)."""
    kernel_id = "t-" + uuid.uuid4().hex
    conn, _ = forker.connect()
    try:
        content = {"kernel_id": kernel_id, "code": code, "timeout": timeout, "cwd": cwd, **NOBODY, **extra}
        conn.send({"type": Verb.RUN, "content": content})
        return kernel_id, conn.recv()
    finally:
        conn.close()


def run(forker: Forker, code: str, cwd: str, **extra: Any) -> dict:
    """Run code; return the result content (failing the test on any other answer)."""
    _, answer = send_run(forker, code, cwd, **extra)
    assert answer["type"] == Verb.RESULT, answer
    return answer["content"]


def gone(pid: int) -> bool:
    """True when pid no longer runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_run_answers_once_in_the_compute_api_reply_shape(python_forker: Forker, cwd: str) -> None:
    out = run(python_forker, "import os, sys\nprint('a', flush=True)\nos.system('echo b')\nprint('c')\n"
                             "print('oops', file=sys.stderr)\nfrom IPython.display import display, HTML\n"
                             "display(HTML('<b>x</b>'))\n6*7", cwd)
    assert out["status"] == "ok" and "error" not in out
    assert out["stdout"] == "a\nb\nc\n"  # Python's and C-level output in the order written
    assert out["stderr"] == "oops\n"
    assert out["result"]["text/plain"] == "42" and out["execution_count"] == 1
    assert out["displays"][0]["data"]["text/html"] == "<b>x</b>"
    assert out["execute_reply"]["status"] == "ok"
    err = run(python_forker, "1/0", cwd)
    assert err["status"] == "error" and err["error"]["ename"] == "ZeroDivisionError" and err["error"]["traceback"]
    assert err["execute_reply"]["ename"] == "ZeroDivisionError"
    assert run(python_forker, "input('name? ')", cwd)["error"]["ename"] == "StdinNotImplementedError"


@pytest.mark.parametrize("kind", ["python", "sage"])
def test_no_state_is_carried_from_one_run_to_the_next(forker_factory: Any, kind: str, cwd: str) -> None:
    forker = forker_factory(kind)
    draw = "import random; print(random.random())" if kind == "python" else "print(random())"
    first = run(forker, f"secret = 17\nimport math\nmath.pi = 3\nimport os\nos.environ['LEFT'] = 'x'\n{draw}", cwd)
    assert first["status"] == "ok", first
    second = run(forker, f"print(math.pi if 'math' in dir() else __import__('math').pi, os.environ.get('LEFT') "
                         f"if 'os' in dir() else None)\n{draw}\nsecret", cwd)
    assert second["error"]["ename"] == "NameError"  # the name defined by the first run
    pi, left, number = second["stdout"].split()
    assert pi.startswith("3.14159") and left == "None"
    assert number != first["stdout"].strip()  # each run draws from its own random state


def test_the_deadline_interrupts_the_code_and_keeps_its_output(python_forker: Forker, cwd: str) -> None:
    out = run(python_forker, "import os\nprint(os.getpid(), flush=True)\nwhile True: pass", cwd, timeout=1)
    assert out["status"] == "error" and out["error"]["ename"] == "TimeoutError"
    assert "longer than 1 s" in out["error"]["evalue"]
    wait_for(lambda: gone(int(out["stdout"].split()[0])), what="the timed-out run to end")


def test_sage_code_is_interrupted_at_the_deadline(sage_forker: Forker, cwd: str) -> None:
    out = run(sage_forker, "print(2^10, flush=True)\nwhile True: pass", cwd, timeout=1)
    assert out["error"]["ename"] == "TimeoutError" and out["stdout"] == "1024\n"


def test_code_that_ignores_the_interrupt_is_killed(python_forker: Forker, cwd: str) -> None:
    code = "import time\nwhile True:\n    try:\n        time.sleep(0.01)\n    except KeyboardInterrupt:\n        pass"
    kernel_id = "t-" + uuid.uuid4().hex
    with pytest.raises(ConnectionClosed):  # no answer: the process was killed
        send_run(python_forker, code, cwd, timeout=1, kernel_id=kernel_id)
    record = python_forker.request(Verb.WAIT, kernel_id=kernel_id)["content"]
    assert record["signal"] == 9 and "SIGKILL" in record["reason"]


@pytest.mark.skipif(not ROOT, reason="uid switching needs root")
def test_a_root_forker_never_runs_code_as_root(python_forker: Forker, cwd: str) -> None:
    out = run(python_forker, "import os; print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())", cwd)
    assert out["stdout"] == "65534 65534 65534 []\n"
    for ids in ({"uid": None, "gid": None}, {"uid": 0, "gid": 0}, {"uid": 65534, "gid": 0}):
        _, answer = send_run(python_forker, "print(1)", cwd, **ids)
        assert answer["type"] == Verb.ERROR and "unprivileged uid" in answer["content"]["message"], answer


def test_output_beyond_the_limit_is_cut_with_a_notice(python_forker: Forker, cwd: str) -> None:
    code = "import os\nprint('x' * 5000)\nos.system(\"head -c 5000 /dev/zero | tr '\\\\0' y\")\nprint('z' * 10)"
    out = run(python_forker, code, cwd, limits={"output_limit": 1000})
    assert out["status"] == "ok"
    assert out["stdout"].startswith("x" * 1000) and len(out["stdout"]) <= 1000 and "z" not in out["stdout"]
    assert "output truncated" in out["stderr"]


def test_processes_a_run_starts_end_with_it(python_forker: Forker, cwd: str) -> None:
    out = run(python_forker, "import subprocess\np = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
                             "print(p.pid)", cwd)
    pid = int(out["stdout"])
    wait_for(lambda: gone(pid), what="the detached process of a finished run to be killed")


def test_a_run_needs_a_timeout_and_a_new_kernel_id(python_forker: Forker, cwd: str) -> None:
    _, answer = send_run(python_forker, "1", cwd, timeout=0)
    assert answer["type"] == Verb.ERROR and "timeout" in answer["content"]["message"]
    _, answer = send_run(python_forker, "1", cwd, kernel_id="")
    assert answer["type"] == Verb.ERROR and "kernel_id" in answer["content"]["message"]
