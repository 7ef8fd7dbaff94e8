"""Interrupts, crashes, resource limits and process hygiene of forked sessions."""

from __future__ import annotations

import os
import time

import psutil
import pytest

from .conftest import of_type, text_of, wait_for

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="uid switching needs root")


@pytest.mark.parametrize("kind", ["python", "sage"])
def test_interrupt_stops_a_tight_loop_within_a_second(forker_factory, kind):
    kc = forker_factory(kind).start()
    try:
        msg = kc.send("execute_request", {"code": "while True:\n    pass"})
        wait_for(lambda: psutil.Process(kc.pid).cpu_times().user > 0.2, what="the loop to spin")
        t0 = time.monotonic()
        kc.interrupt()
        reply, iopub = kc.collect(msg)
        assert time.monotonic() - t0 < 1.0
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        assert kc.result("6 * 7") == "42"  # the session carries on
    finally:
        kc.kill()


def test_interrupt_inside_sage_c_code(sage_forker):
    kc = sage_forker.start()
    try:
        msg = kc.send("execute_request", {"code": "factor(2^1024 + 1)"})  # long-running PARI/FLINT call
        wait_for(lambda: psutil.Process(kc.pid).cpu_times().user > 0.3, what="factoring to start")
        kc.interrupt()
        reply, _ = kc.collect(msg)
        assert reply["content"]["ename"] in ("KeyboardInterrupt", "SignalError")
        assert kc.result("2^10") == "1024"
    finally:
        kc.kill()


def test_a_crashing_child_is_reported_and_others_carry_on(python_forker):
    victim, other = python_forker.start(), python_forker.start()
    try:
        victim.send("execute_request", {"code": "import os; os._exit(3)"})
        record = victim.wait_exit()
        assert record["exitcode"] == 3 and "status 3" in record["reason"]
        seg = python_forker.start()
        seg.send("execute_request", {"code": "import ctypes; ctypes.string_at(0)"})
        assert "segmentation fault" in seg.wait_exit()["reason"]
        assert other.result("1 + 1") == "2"
        assert python_forker.request("info")["content"]["kernels"].get(victim.kernel_id) is None
    finally:
        other.kill()


def test_cpu_limit_stops_an_endless_loop_with_a_clear_error(python_forker):
    kc = python_forker.start(limits={"cpu": 1})
    other = python_forker.start()
    try:
        reply, _ = kc.execute("while True:\n    pass")
        assert reply["content"]["ename"] == "CPULimitExceeded"
        assert "CPU time limit" in reply["content"]["evalue"]
        assert other.result("'alive'") == "'alive'"
    finally:
        kc.kill(), other.kill()


def test_huge_allocation_fails_as_memory_error(python_forker):
    kc = python_forker.start(limits={"memory_mb": 512})
    other = python_forker.start()
    try:
        reply, _ = kc.execute("x = bytearray(10 * 1024**3)")
        assert reply["content"]["ename"] == "MemoryError"
        assert kc.result("len(bytearray(10 * 1024**2))") == "10485760"  # modest use still works
        assert other.result("'alive'") == "'alive'"
    finally:
        kc.kill(), other.kill()


def test_fork_bomb_is_contained_and_killed_with_the_session(python_forker):
    # RLIMIT_NPROC does not bind root, so a root server runs sessions as another uid (as it does in use).
    ids = {"uid": 65534, "gid": 65534} if os.geteuid() == 0 else {}
    kc = python_forker.start(limits={"nproc": 20, "cpu": 30}, **ids)
    other = python_forker.start(**ids)
    try:
        code = ("import os\nn = 0\nfor i in range(200):\n    try:\n        if os.fork() == 0:\n"
                "            import time; time.sleep(600); os._exit(0)\n        n += 1\n"
                "    except OSError:\n        break\nprint(n)")
        reply, iopub = kc.execute(code)
        forked = int(text_of(iopub).strip().splitlines()[-1])
        assert forked < 200  # the nproc limit stopped it
        group = [p for p in psutil.process_iter() if _pgid(p.pid) == kc.pid]
        assert len(group) > 1
        assert other.result("'alive'") == "'alive'"
        kc.kill()
        wait_for(lambda: not [p for p in psutil.process_iter() if _pgid(p.pid) == kc.pid],
                 what="the whole process group to be gone")
    finally:
        other.kill()


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_stopping_a_session_leaves_no_orphans(python_forker):
    kc = python_forker.start()
    _, iopub = kc.execute("import subprocess\np = subprocess.Popen(['sleep', '600'])\nprint(p.pid)")
    sleeper = int(text_of(iopub))
    assert psutil.pid_exists(sleeper)
    record = kc.kill()
    assert record["kernel_id"] == kc.kernel_id
    wait_for(lambda: not psutil.pid_exists(sleeper) or psutil.Process(sleeper).status() == "zombie",
             what="the session's subprocess to die")


def test_private_temp_dir_is_removed_at_exit(python_forker):
    kc = python_forker.start()
    tmp = kc.result("import tempfile; tempfile.gettempdir()").strip("'")
    assert "salvus-session-" in tmp and os.path.isdir(tmp)
    kc.kill()
    assert not os.path.exists(tmp)


@ROOT_ONLY
def test_sessions_of_a_root_server_run_unprivileged(python_forker, tmp_path):
    kc = python_forker.start(uid=65534, gid=65534)
    try:
        assert kc.result("import os; os.getuid(), os.getgid()") == "(65534, 65534)"
        secret = tmp_path / "secret"
        secret.write_text("x")
        secret.chmod(0o600)
        reply, _ = kc.execute(f"open({str(secret)!r}).read()")
        assert reply["content"]["ename"] == "PermissionError"
        reply, _ = kc.execute(f"import os; os.listdir({os.path.dirname(python_forker.path)!r})")
        assert reply["content"]["ename"] == "PermissionError"  # the 0700 run dir with the sockets
    finally:
        kc.kill()


def test_unwritable_cwd_is_a_clear_start_error(python_forker, tmp_path):
    conn, _ = python_forker.connect()
    conn.send({"type": "start", "content": {"kernel_id": "badcwd", "cwd": str(tmp_path / "missing")}})
    answer = conn.recv()
    assert answer["type"] == "error" and "working directory" in answer["content"]["message"]


def test_idle_timeout_ends_the_session(python_forker):
    kc = python_forker.start(limits={"idle_timeout": 1})
    assert kc.result("1") == "1"
    record = kc.wait_exit()
    assert record["exitcode"] == 75 and "idle" in record["reason"]


@ROOT_ONLY
def test_unprivileged_sage_session_can_inspect_and_use_temp_files(sage_forker):
    kc = sage_forker.start(uid=65534, gid=65534)
    try:
        reply, _ = kc.collect(kc.send("inspect_request", {"code": "factor", "cursor_pos": 6, "detail_level": 1}))
        assert reply["content"]["status"] == "ok" and reply["content"]["found"], reply["content"]
        assert kc.result("import os; f = tmp_filename(); open(f, 'w').write('x'); os.stat(f).st_uid") == "65534"
    finally:
        kc.kill()
