"""``salvus-local course …`` against a running multi-user server, as a teacher with an API token."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Server

from .conftest import PASSWORD, Person, get_notebook, homework, put_notebook, student_csv, unique


def course_cli(srv: Server, token: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``salvus-local course ARGS --server URL`` with the token in the environment."""
    env = {**{k: v for k, v in os.environ.items() if k != "SALVUS_LOCAL_TOKEN"}, "SALVUS_LOCAL_TOKEN": token}
    return subprocess.run([sys.executable, "-m", "salvus_local", "course", *args, "--server", srv.base_url],
                          cwd=REPO, capture_output=True, text=True, timeout=600, env=env)


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def in_process(srv: Server, token: str, *args: str) -> Any:
    """The same command run in this process (click's runner): the real command code against the real server,
    without a Python start-up per case."""
    from click.testing import CliRunner

    from salvus_local.cli import cli

    return CliRunner().invoke(cli, ["course", *args, "--server", srv.base_url],
                                              env={"SALVUS_LOCAL_TOKEN": token})


def one_line_error_in_process(result: Any, *words: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def token(multi: Server, teacher: Person) -> str:
    r = teacher.post("/api/tokens", json={"scope": "api", "note": "course cli"})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def test_every_course_command(multi: Server, teacher: Person, token: str, tmp_path: Path) -> None:
    title = f"CLI {unique('c')}"
    out = course_cli(multi, token, "create", title)  # real processes for create and grades; the rest in-process
    assert out.returncode == 0, out.stderr
    cid, pid = out.stdout.split("\t")[0], out.stdout.strip().split("project ")[1]
    put_notebook(teacher, pid, "hw/hw.ipynb", homework())
    names = [unique("k") for _ in range(2)]
    (tmp_path / "class.csv").write_text(student_csv(names))
    out = in_process(multi, token, "add-students", title, "--csv", str(tmp_path / "class.csv"))
    assert out.exit_code == 0 and out.stdout.count("added") == 2, out
    out = in_process(multi, token, "add-students", cid, "nobody-at-all")
    assert out.exit_code == 1 and "failed\tnobody-at-all" in out.stdout, out
    out = in_process(multi, token, "add-assignment", cid, "hw", "--due", "2100-01-01T00:00:00Z")
    assert out.exit_code == 0 and "hw\tassignment\tdue 2100-01-01T00:00:00Z\t6 points" in out.stdout, out
    assert f"{cid}\t{title}\tteaching\t2 students\t1 assignments" in in_process(multi, token, "list").stdout

    for action in ("distribute", "collect", "autograde", "return"):
        if action == "collect":
            student = Person(multi, names[0], PASSWORD)
            student.login()
            own = student.get(f"/api/courses/{cid}").json()["project_id"]
            content = get_notebook(student, own, "hw/hw.ipynb")
            content["cells"][1]["source"] = "def square(x):\n    return x * x"
            put_notebook(student, own, "hw/hw.ipynb", content)
        out = in_process(multi, token, action, cid, "hw")
        assert out.exit_code == 0, (action, out)
        assert out.stdout.count("ok\t") == 2 and f"{action}: 2 of 2 done, 0 failed" in out.stderr, (action, out)
    out = in_process(multi, token, "assignments", cid)
    assert "2 returned" in out.stdout, out
    out = in_process(multi, token, "collect", cid, "hw", "--student", names[1])
    assert out.exit_code == 0 and out.stdout.count("ok\t") == 1, out

    out = course_cli(multi, token, "grades", cid)
    rows = {r["username"]: r for r in csv.DictReader(io.StringIO(out.stdout))}
    assert rows[names[0]]["hw"] == "4" and rows[names[1]]["hw"] == "0", out.stdout
    out = in_process(multi, token, "grades", cid, "--csv", str(tmp_path / "book.csv"))
    assert out.exit_code == 0 and (tmp_path / "book.csv").read_text().startswith("username,name,hw,total")


def test_bad_input_is_one_line_and_exit_2(multi: Server, teacher: Person, token: str, tmp_path: Path) -> None:
    one_line_error(course_cli(multi, token, "create", ""), "title")  # once as a real process, then in-process
    cid = in_process(multi, token, "create", f"Bad {unique('b')}").stdout.split("\t")[0]
    (tmp_path / "bad.csv").write_text("who\nx\n")
    for args, needle in [(("add-students", "no-such-course", "x"), "no course"),
                         (("add-students", cid), "usernames or --csv"),
                         (("add-students", cid, "--csv", str(tmp_path / "missing.csv")), "cannot read"),
                         (("add-students", cid, "--csv", str(tmp_path / "bad.csv")), "header"),
                         (("add-assignment", cid, "missing"), "no folder"),
                         (("add-assignment", cid, "hw", "--due", "soon"), "ISO-8601"),
                         (("distribute", cid, "nope"), "no assignment"),
                         (("grades", cid, "--csv", str(tmp_path / "no" / "such" / "dir.csv")), "cannot write")]:
        one_line_error_in_process(in_process(multi, token, *args), needle)
    one_line_error_in_process(in_process(multi, "wrong-token", "list"), "403")
    student = unique("z")
    teacher.post(f"/api/courses/{cid}/students", data=student_csv([student]), headers={"Content-Type": "text/csv"})
    person = Person(multi, student, PASSWORD)
    person.login()
    student_token = person.post("/api/tokens", json={"scope": "api"}).json()["token"]
    one_line_error_in_process(in_process(multi, student_token, "create", "Mine"), "403")
    one_line_error_in_process(in_process(multi, student_token, "grades", cid), "403")
    assert in_process(multi, student_token, "list").stdout.startswith(f"{cid}\t")  # they see it as enrolled


def test_peer_commands(multi: Server, teacher: Person, token: str, tmp_path: Path) -> None:
    cid = in_process(multi, token, "create", f"Peer {unique('c')}").stdout.split("\t")[0]
    pid = teacher.get(f"/api/courses/{cid}").json()["course"]["project_id"]
    put_notebook(teacher, pid, "hw/hw.ipynb", homework())
    names = sorted(unique("q") for _ in range(3))
    teacher.post(f"/api/courses/{cid}/students", data=student_csv(names), headers={"Content-Type": "text/csv"})
    assert in_process(multi, token, "add-assignment", cid, "hw").exit_code == 0
    one_line_error_in_process(in_process(multi, token, "peer", "collect", cid, "hw"), "not assigned")
    one_line_error_in_process(in_process(multi, token, "peer", "assign", cid, "hw", "--per", "0"), "per_submission")
    one_line_error_in_process(in_process(multi, token, "peer", "assign", cid, "hw", "--guide",
                                         str(tmp_path / "missing.md")), "cannot read")
    one_line_error_in_process(in_process(multi, token, "peer", "assign", cid, "hw"), "collect first")
    for action in ("distribute", "collect"):
        assert in_process(multi, token, action, cid, "hw").exit_code == 0
    (tmp_path / "guide.md").write_text("# Guide\nTwo points for a reason.\n")
    out = in_process(multi, token, "peer", "assign", cid, "hw", "--per", "2", "--guide", str(tmp_path / "guide.md"),
                     "--due", "2100-01-01T00:00:00Z")
    assert out.exit_code == 0 and out.stdout.count("ok\t") == 3 and "2 submission(s) to review" in out.stdout, out
    peer = teacher.get(f"/api/courses/{cid}").json()["assignments"][0]["peer"]
    assert peer == {"per_submission": 2, "due": "2100-01-01T00:00:00Z", "state": "assigned"}
    out = in_process(multi, token, "peer", "collect", cid, "hw", "--grade", "median")
    assert out.exit_code == 0 and out.stdout.count("0 of 2 reviews done") == 3, out
    assert "peer collect: 3 of 3 done, 0 failed" in out.stderr
