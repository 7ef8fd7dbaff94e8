"""``python -m salvus_local.kernel.sandbox`` gives a command a session's isolation (terminals use it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT


def sandbox(*cmd: str, limits: dict | None = None, extra: list[str] | None = None) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "salvus_local.kernel.sandbox", "--limits", json.dumps(limits or {}),
            *(extra or []), "--", *cmd]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_limits_and_own_process_group(tmp_path):
    out = sandbox("sh", "-c", "ulimit -n; ulimit -f; echo $$; ps -o pgid= -p $$; pwd",
                  limits={"nofile": 64, "fsize_mb": 1}, extra=["--cwd", str(tmp_path)]).stdout.split()
    nofile, fsize, pid, pgid, cwd = out
    assert nofile == "64" and int(fsize) == 1024 * 1024 // 512  # sh reports 512-byte blocks
    assert pid == pgid  # a new session: killpg(pid) stops everything it starts
    assert cwd == str(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="uid switching needs root")
def test_runs_unprivileged_when_root():
    assert sandbox("id", "-u", extra=["--uid", "65534", "--gid", "65534"]).stdout.strip() == "65534"


def test_bad_input_is_a_clear_message():
    proc = subprocess.run([sys.executable, "-m", "salvus_local.kernel.sandbox", "--limits", "{not json", "--", "true"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "--limits must be a JSON object" in proc.stderr
    proc = sandbox("/no/such/program")
    assert proc.returncode == 127 and "cannot run /no/such/program" in proc.stderr
