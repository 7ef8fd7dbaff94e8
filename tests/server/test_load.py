"""Issue 15.6: 100 sessions open at once, in one project and across projects, all answer; dead ones say so.

Limits are accounted over their own scope (a session's processes in its cgroup, not across the uid),
so sessions started later never push earlier ones over their limit, and a client waiting on a kernel
that died always gets a reply or ``status: dead``.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import KernelClient, Server

FACTOR_PY = ("n, p, f = 2**64 - 1, 2, []\nwhile p * p <= n:\n    while n % p == 0:\n        f.append(p); n //= p\n"
             "    p += 1\nprint(f + [n])")
FACTOR_SAGE = "print(factor(2^64-1))"
EXPECTED_PY = "[3, 5, 17, 257, 641, 65537, 6700417]"
EXPECTED_SAGE = "3 * 5 * 17 * 257 * 641 * 65537 * 6700417"


def dead(msg: dict) -> bool:
    return msg["msg_type"] == "status" and msg["content"]["execution_state"] == "dead"


@pytest.fixture(params=["root", "user"])
def load_server(request):
    """A server as root (a cgroup per session) and as an ordinary uid (every session shares that uid)."""
    if request.param == "user" and os.geteuid() != 0:
        pytest.skip("already an ordinary user")
    if request.param == "root" and os.geteuid() != 0:
        pytest.skip("needs root")
    srv = Server(run_as=12345 if request.param == "user" else None)
    yield srv
    srv.stop()


def open_sessions(server: Server, plan: list[tuple[str, str]]) -> list[tuple[str, str, KernelClient]]:
    """Start (prefix, kernel spec) sessions, 8 at a time; return (kernel_id, spec, client) for each."""
    def start(item: tuple[str, str]) -> tuple[str, str, KernelClient]:
        prefix, spec = item
        r = server.post(f"{prefix}/api/kernels", json={"name": spec})
        assert r.status_code == 201, r.text
        kid = r.json()["id"]
        return kid, spec, KernelClient(server.ws(f"{prefix}/api/kernels/{kid}/channels"))

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(start, plan))


def test_hundred_sessions_in_one_and_many_projects_all_answer_and_dead_ones_say_so(load_server) -> None:
    server = load_server
    specs = [s for s in server.get("/api/kernelspecs").json()["kernelspecs"]]
    sage = "sagemath" if "sagemath" in specs else next((s for s in specs if "sage" in s), None)
    projects = [server.post("/api/projects", json={"title": f"load {i}"}).json()["id"] for i in range(4)]
    plan = [("", "python3")] * 50                                   # 50 in the default project
    plan += [(f"/p/{projects[i % 4]}", "python3") for i in range(38)]  # 38 across four others
    plan += [(f"/p/{projects[i % 4]}", sage or "python3") for i in range(12)]  # and 12 Sage sessions
    sessions = open_sessions(server, plan)
    assert len(sessions) == 100
    try:
        # Every session is open at once; each runs the cell, all at the same time.
        def run(item: tuple[str, str, KernelClient]) -> tuple[str, int]:
            _kid, spec, kc = item
            is_sage = "sage" in spec
            ex = kc.execute(FACTOR_SAGE if is_sage else FACTOR_PY, timeout=300)
            assert ex.reply["content"]["status"] == "ok", ex.reply["content"]
            assert (EXPECTED_SAGE if is_sage else EXPECTED_PY) in ex.text, ex.text
            return spec, int(kc.execute("import os; print(os.environ['SALVUS_KERNEL_PID'])").text)

        with ThreadPoolExecutor(20) as pool:
            pids = list(pool.map(run, sessions))
        # Kill a third of the leaders with SIGKILL, one of them while a client waits on its reply.
        victims = sessions[::3]
        waiting = victims[0][2]
        waiting_id = waiting.send("shell", "execute_request", {"code": "import time; time.sleep(600)",
                                                                "silent": False})
        waiting.wait_for(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "busy")
        for (_kid, _spec, _kc), (_s, pid) in zip(victims, pids[::3]):
            os.kill(pid, signal.SIGKILL)
        reply, _ = waiting.wait_for(lambda m: m["channel"] == "shell"
                                    and m["parent_header"].get("msg_id") == waiting_id)
        assert reply["content"]["status"] == "error" and "died" in reply["content"]["evalue"]
        for _kid, _spec, kc in victims:
            kc.wait_for(dead)
            kc.close()
        # The survivors still answer.
        for _kid, spec, kc in sessions[1::3][:10]:
            assert kc.execute("6 * 7").result == "42"
        # Deleting the others: each client hears that its kernel is dead.
        others = [s for i, s in enumerate(sessions) if i % 3]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda s: server.delete(f"/api/kernels/{s[0]}"), others))
        for _kid, _spec, kc in others:
            kc.wait_for(dead)
    finally:
        for kid, _spec, kc in sessions:
            kc.close()
            server.delete(f"/api/kernels/{kid}")
