"""Issue 15.4: multi-user mode refuses to start without isolation (naming what is missing) unless
--allow-shared-uid, which /api/status then reports so every page can warn."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO, reachable_by_sessions

AS_USER = ["setpriv", "--reuid=12345", "--regid=12345", "--clear-groups", "--"]
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="starts the server as another uid with setpriv")


def test_multi_user_without_isolation_refuses_to_start_and_says_why() -> None:
    data = tempfile.mkdtemp(prefix="salvus-test-")
    reachable_by_sessions(Path(data))
    os.chown(data, 12345, 12345)
    argv = [*AS_USER, sys.executable, "-m", "salvus_local", "--multi-user", "--session-namespaces", "never",
            "--no-browser", "--port", "0", "--kernels", "python", "--kernel", "python", "--data-dir", data]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": data})
    assert proc.returncode == 2, proc.stderr
    message = proc.stderr.strip().splitlines()[-1]
    assert "isolated" in message and "--allow-shared-uid" in message and "session_namespaces" in message
    assert "Traceback" not in proc.stderr


def test_allow_shared_uid_starts_and_status_reports_it(start_server) -> None:
    server = start_server("--multi-user", "--session-namespaces", "never", "--allow-shared-uid",
                          "--kernels", "python", "--kernel", "python", run_as=12345)
    info = server.get("/api/status").json()["isolation"]
    assert info["shared_uid"] is True and info["ok"] is False and info["mode"] == "shared-uid"
    assert "users' code is not isolated" in server.log()


def test_root_server_reports_project_uids(start_server) -> None:
    server = start_server("--kernels", "python", "--kernel", "python")
    info = server.get("/api/status").json()["isolation"]
    assert info["mode"] == "project-uids" and info["ok"] is True and info["shared_uid"] is False
