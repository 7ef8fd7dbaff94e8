"""POST /api/v1/execute and SageCell's /service against a real server with real forked sessions."""

from __future__ import annotations

import concurrent.futures

import pytest

from tests.conftest import Server


def execute(server: Server, **body) -> dict:
    r = server.post("/api/v1/execute", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_result_stdout_stderr_and_displays(server: Server) -> None:
    out = execute(server, kernel="python", code=(
        "import sys\nprint('hello')\nprint('oops', file=sys.stderr)\n"
        "from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))\n6*7"))
    assert out["status"] == "ok"
    assert out["stdout"] == "hello\n"
    assert out["stderr"] == "oops\n"
    assert out["result"]["text/plain"] == "42"
    assert out["displays"][0]["data"]["text/html"] == "<b>x</b>"
    assert "error" not in out


def test_error_reply_has_ename_evalue_traceback(server: Server) -> None:
    out = execute(server, kernel="python", code="1/0")
    assert out["status"] == "error"
    assert out["error"]["ename"] == "ZeroDivisionError"
    assert "division by zero" in out["error"]["evalue"]
    assert out["error"]["traceback"]


def test_each_request_is_a_fresh_session(server: Server) -> None:
    assert execute(server, kernel="python", code="secret = 17\nopen('left.txt', 'w').write('x')")["status"] == "ok"
    out = execute(server, kernel="python", code="secret")
    assert out["status"] == "error" and out["error"]["ename"] == "NameError"
    out = execute(server, kernel="python", code="import os; sorted(os.listdir('.'))")
    assert out["result"]["text/plain"] == "[]"  # a private, empty working folder per request


def test_session_keeps_state_in_a_running_kernel(server: Server) -> None:
    kernel_id = server.start_kernel("python3")
    try:
        assert execute(server, session=kernel_id, code="a = 5")["status"] == "ok"
        assert execute(server, session=kernel_id, code="a * 2")["result"]["text/plain"] == "10"
    finally:
        server.delete(f"/api/kernels/{kernel_id}")


def test_sage_preparser_when_sage_runs(server: Server) -> None:
    kinds = [s["spec"]["language"] for s in server.get("/api/kernelspecs").json()["kernelspecs"].values()]
    if "sage" not in kinds:
        pytest.skip("no Sage compute server here")
    out = execute(server, kernel="sage", code="factor(2^64-1)")
    assert out["status"] == "ok"
    assert out["result"]["text/plain"] == "3 * 5 * 17 * 257 * 641 * 65537 * 6700417"


def test_timeout_replies_with_an_error_and_kills_the_session(server: Server) -> None:
    out = execute(server, kernel="python", timeout=1, code="import os; print(os.getpid(), flush=True)\nwhile True: pass")
    assert out["status"] == "error"
    assert out["error"]["ename"] == "TimeoutError"
    pid = int(out["stdout"].split()[0])
    from tests.conftest import wait_for
    import os

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as f:  # a zombie not yet reaped counts as gone
            return f.read().split(")")[-1].split()[0] == "Z"
    wait_for(gone, what="the timed-out session to be killed")


def test_timeout_in_a_session_kills_that_session(server: Server) -> None:
    kernel_id = server.start_kernel("python3")
    out = execute(server, session=kernel_id, timeout=1, code="while True: pass")
    assert out["error"]["ename"] == "TimeoutError"
    assert server.get(f"/api/kernels/{kernel_id}").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({}, "code"),
    ({"code": ""}, "code"),
    ({"code": 3}, "code"),
    ({"code": "1", "kernel": "fortran"}, "kernel"),
    ({"code": "1", "kernel": 1}, "kernel"),
    ({"code": "1", "timeout": "soon"}, "timeout"),
    ({"code": "1", "timeout": -1}, "timeout"),
    ({"code": "1", "timeout": True}, "timeout"),
    ({"code": "1", "session": 12}, "session"),
    ({"code": "1", "colour": "red"}, "colour"),
])
def test_bad_input_is_a_400_naming_the_field(server: Server, body: dict, field: str) -> None:
    r = server.post("/api/v1/execute", json=body)
    assert r.status_code == 400, r.text
    assert f"'{field}'" in r.json()["message"]


def test_unknown_session_is_a_404_and_malformed_json_a_400(server: Server) -> None:
    r = server.post("/api/v1/execute", json={"code": "1", "session": "nope"})
    assert r.status_code == 404 and "nope" in r.json()["message"]
    r = server.post("/api/v1/execute", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["message"]


def test_needs_the_token(server: Server) -> None:
    r = server.post("/api/v1/execute", json={"code": "1"}, auth=False)
    assert r.status_code == 403
    r = server.post("/service", data={"code": "1"}, auth=False)
    assert r.status_code == 403


def test_sagecell_service_form(server: Server) -> None:
    r = server.post("/service", data={"code": "print(1+1)"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["stdout"] == "2\n"
    assert body["execute_reply"]["status"] == "ok"
    r = server.post("/service", data={"code": "raise ValueError('no')"})
    body = r.json()
    assert body["success"] is False and body["execute_reply"]["ename"] == "ValueError"
    r = server.post("/service", data={})
    assert r.status_code == 400 and "'code'" in r.json()["message"]


def test_concurrent_requests_all_answer(server: Server) -> None:
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        outs = list(pool.map(lambda i: execute(server, kernel="python", code=f"{i}*{i}"), range(64)))
    assert [o["result"]["text/plain"] for o in outs] == [str(i * i) for i in range(64)]
