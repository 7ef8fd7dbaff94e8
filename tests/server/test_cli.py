"""The salvus-local command: clear one-line errors, and a clean stop that leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import psutil
import pytest
import requests

from tests.conftest import REPO

PYTHON_ONLY = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python"}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run salvus-local to completion (for commands that must fail fast)."""
    return subprocess.run([sys.executable, "-m", "salvus_local", "--no-browser", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """Exit code 2, one line on stderr starting with Error:, no traceback, nothing on stdout."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for word in words:
        assert word in lines[0]


def test_port_in_use(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = run_cli("--port", str(port), "--data-dir", str(tmp_path / "d"), env=PYTHON_ONLY)
    assert_one_line_error(result, "already in use", str(port))


def test_a_second_server_on_the_same_data_dir_is_refused(start_server):
    # Two servers on one data dir would share its sockets, database and projects (a CLI command that
    # took a busy server for gone used to start one).
    first = start_server(env=PYTHON_ONLY)
    result = run_cli("--port", "0", "--data-dir", str(first.data_dir), env=PYTHON_ONLY)
    assert_one_line_error(result, "already serves", str(first.data_dir))
    assert first.get("/api/status").status_code == 200
    info = json.loads((first.data_dir / "run" / "server.json").read_text())
    assert info["port"] == first.port  # the first server's record is untouched


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_cli("--port", "0", "--data-dir", str(blocker / "data"), env=PYTHON_ONLY)
    assert_one_line_error(result, "not writable")
    assert blocker.read_text() == "not a directory"


@pytest.mark.parametrize("args,words", [
    (["--kernel", "cobol"], ["--kernel", "cobol"]),
    (["--port", "70000"], ["--port"]),
    (["--port", "abc"], ["--port"]),
    (["--bogus"], ["--bogus"]),
])
def test_bad_options(tmp_path, args, words):
    assert_one_line_error(run_cli("--data-dir", str(tmp_path), *args), *words)


@pytest.mark.parametrize("env,words", [
    ({"SALVUS_LOCAL_PORT": "eighty"}, ["SALVUS_LOCAL_PORT"]),
    ({"SALVUS_LOCAL_OPEN_BROWSER": "maybe"}, ["SALVUS_LOCAL_OPEN_BROWSER"]),
    ({"SALVUS_LOCAL_KERNELS": "python,cobol"}, ["cobol"]),
])
def test_bad_environment(tmp_path, env, words):
    assert_one_line_error(run_cli("--data-dir", str(tmp_path), "--port", "0", env=env), *words)


def test_help_and_version():
    assert run_cli("--help").returncode == 0
    out = run_cli("--version")
    assert out.returncode == 0 and "salvus-local" in out.stdout


def _busy_server_family(srv) -> list[psutil.Process]:
    """Start kernels (one busy, one with a grandchild) and return every process the server owns."""
    idle = srv.start_kernel()
    busy = srv.start_kernel()
    kc = srv.kernel_client(busy)
    # os, not subprocess: a kernel running as an unprivileged uid may not read a stdlib under /root
    out = kc.execute("import os\nif os.fork() == 0:\n    os.execvp('sleep', ['sleep', '1000'])")
    assert out.reply["content"]["status"] == "ok", out.reply["content"]
    kc.send("shell", "execute_request", {"code": "while True: pass"})
    kc.wait_for(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "busy")
    family = psutil.Process(srv.proc.pid).children(recursive=True)
    assert any(p.name() == "sleep" for p in family)
    assert idle
    return family


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_stop_leaves_no_orphans(start_server, sig):
    srv = start_server(env=PYTHON_ONLY)
    family = _busy_server_family(srv)
    server_json = srv.data_dir / "run" / "server.json"
    assert json.loads(server_json.read_text())["port"] == srv.port
    srv.stop(sig)  # asserts that every process in the family is gone
    assert not any(p.is_running() for p in family)
    assert srv.proc.returncode is not None
    assert not server_json.exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(srv.url("/api"), timeout=5)


def test_lan_accepts_this_machines_name(start_server):
    srv = start_server("--lan", env=PYTHON_ONLY)
    host = socket.gethostname()
    assert srv.get("/api/kernels", headers={"Host": f"{host}:{srv.port}"}).status_code == 200
    assert srv.get("/api/kernels", headers={"Host": "evil.example"}).status_code == 403


def test_serve_subcommand(start_server):
    srv = start_server("serve", "--kernel", "python", env={"SALVUS_LOCAL_KERNELS": "python"})
    assert srv.get("/api").status_code == 200
    assert srv.get("/api/kernelspecs").json()["default"] == "python3"


@pytest.mark.parametrize("name", ["root", "9lives"])
def test_a_reserved_or_invalid_admin_user_is_one_line(tmp_path, name):
    # It was a traceback, printed after the compute servers had started and the URL was shown.
    result = run_cli("--multi-user", "--admin-user", name, "--port", "0", "--data-dir", str(tmp_path / "data"),
                     env=PYTHON_ONLY)
    assert_one_line_error(result, "--admin-user", name)
