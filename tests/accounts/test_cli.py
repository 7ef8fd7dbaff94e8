"""``salvus-local user …`` and ``token …`` on a data dir, with the server stopped and while it runs."""

from __future__ import annotations

import subprocess
import sys

import requests

from tests.conftest import DEFAULT_TIMEOUT, REPO

from .conftest import PASSWORD, PYTHON_ONLY, Person


def cli(data_dir, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``salvus-local ARGS`` on data_dir."""
    return subprocess.run([sys.executable, "-m", "salvus_local", *args[:1], "--data-dir", str(data_dir), *args[1:]],
                          input=stdin, capture_output=True, text=True, cwd=REPO, timeout=600)


def test_cli_with_the_server_stopped_then_running(start_server, tmp_path):
    data = tmp_path / "data"
    # stopped: no server has ever run here
    r = cli(data, "user", "add", "teacher1", "--role", "teacher", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0 and "created teacher teacher1" in r.stdout, r.stderr
    r = cli(data, "user", "add", "kid1")
    assert r.returncode == 0 and "one-time password:" in r.stdout
    one_time = r.stdout.split("one-time password:")[1].split()[0]
    listed = cli(data, "user", "list").stdout
    assert "teacher1\tteacher\tactive" in listed and "kid1\tstudent\tactive" in listed and "must change" in listed
    token = cli(data, "token", "create", "--user", "teacher1", "--expires", "7").stdout.strip()
    assert token.startswith("slt_")

    srv = start_server("--multi-user", data_dir=data, env=PYTHON_ONLY)
    teacher = Person(srv, "teacher1")
    assert teacher.login().status_code == 302
    assert requests.get(srv.url("/api/me"), headers={"Authorization": f"token {token}"},
                        timeout=DEFAULT_TIMEOUT).json()["user"]["name"] == "teacher1"
    kid = Person(srv, "kid1", one_time)
    assert kid.login().headers["Location"].startswith("/change-password")

    # running: the same commands act on the live server's database
    r = cli(data, "user", "add", "late1", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert Person(srv, "late1").login().status_code == 302
    r = cli(data, "user", "passwd", "teacher1", "--password-stdin", stdin="brand new pass\n")
    assert r.returncode == 0 and "1 login session(s) ended" in r.stdout
    assert teacher.get("/api/contents").status_code == 403  # signed out by the password change
    assert Person(srv, "teacher1", "brand new pass").login().status_code == 302
    token_id = cli(data, "token", "list", "--user", "teacher1").stdout.split("\t")[0]
    assert token[:8] in cli(data, "token", "list").stdout and token not in cli(data, "token", "list").stdout
    assert cli(data, "token", "revoke", token_id).returncode == 0
    assert requests.get(srv.url("/api/me"), headers={"Authorization": f"token {token}"},
                        timeout=DEFAULT_TIMEOUT).status_code == 403
    late = Person(srv, "late1")
    assert late.login().status_code == 302
    home = late.home()
    r = cli(data, "user", "remove", "late1")
    assert r.returncode == 0 and "kept, archived" in r.stdout
    assert late.get("/api/me").status_code == 403
    assert {p["id"]: p for p in srv.get("/api/projects?archived=1").json()}[home]["archived"] is True
    sync = cli(data, "token", "create", "--user", "kid1", "--scope", "sync").stdout.strip()
    assert requests.get(srv.url("/api/contents"), headers={"Authorization": f"token {sync}"},
                        timeout=DEFAULT_TIMEOUT).status_code == 403


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    data = tmp_path / "data"
    for args, stdin, message in [
        (("user", "add", "9lives", "--password-stdin"), PASSWORD + "\n", "starts with a letter"),
        (("user", "add", "shorty", "--password-stdin"), "short\n", "at least 8"),
        (("user", "add", "nopass", "--password-stdin"), "", "stdin is empty"),
        (("user", "passwd", "ghost", "--password-stdin"), PASSWORD + "\n", "No such user"),
        (("user", "remove", "ghost"), None, "No such user"),
        (("token", "create", "--user", "ghost"), None, "No such user"),
        (("token", "revoke", "99"), None, "No such token"),
    ]:
        r = cli(data, *args, stdin=stdin)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert cli(data, "user", "add", "dup1", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    r = cli(data, "user", "add", "DUP1", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 2 and "taken" in r.stderr
