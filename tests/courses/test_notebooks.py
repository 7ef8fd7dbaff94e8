"""Notebooks as teachers write them: an nbgrader assignment written by hand (whole-cell solutions, a task, a
locked setup cell reading a data file, hidden tests) and a Sage notebook, both autograded in real kernels."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest

from tests.conftest import Server

from .conftest import (PASSWORD, Person, cell, get_notebook, homework, make_user, nb, put_notebook, run_job,
                       student_csv, unique)


@pytest.fixture(scope="module")
def sage_server() -> Any:
    """A multi-user server with Sage and Python compute servers."""
    srv = Server("--multi-user", env={"SALVUS_LOCAL_KERNELS": "sage,python", "SALVUS_LOCAL_KERNEL": "sage"})
    yield srv
    srv.stop()


def _cycle(srv: Server, source: dict[str, Any], answer: Any, extra: dict[str, str] | None = None
           ) -> tuple[Person, Person, dict[str, Any], dict[str, Any]]:
    """Teacher hands out source, a student answers (answer(content) edits it), collect and autograde."""
    teacher = make_user(srv, role="teacher", prefix="t")
    course = teacher.post("/api/courses", json={"title": "By hand"}).json()
    cid, pid = course["id"], course["project_id"]
    put_notebook(teacher, pid, "week1/problems.ipynb", source)
    for name, text in (extra or {}).items():
        teacher.put(f"/p/{pid}/api/contents/week1/{name}", json={"type": "file", "format": "text", "content": text})
    name = unique("n")
    teacher.post(f"/api/courses/{cid}/students", data=student_csv([name]), headers={"Content-Type": "text/csv"})
    aid = teacher.post(f"/api/courses/{cid}/assignments", json={"name": "week1"}).json()["id"]
    assert run_job(teacher, cid, aid, "distribute")["results"][0]["status"] == "ok"
    student = Person(srv, name, PASSWORD)
    student.login()
    own = student.get(f"/api/courses/{cid}").json()["project_id"]
    handed_out = get_notebook(student, own, "week1/problems.ipynb")
    mine = copy.deepcopy(handed_out)
    answer(mine)
    put_notebook(student, own, "week1/problems.ipynb", mine)
    assert run_job(teacher, cid, aid, "collect")["results"][0]["status"] == "ok"
    job = run_job(teacher, cid, aid, "autograde")
    assert job["results"][0]["status"] == "ok", job
    sub = teacher.get(f"/api/courses/{cid}/assignments/{aid}/submissions/{name}").json()
    return teacher, student, handed_out, sub


def _by_id(content: dict[str, Any]) -> dict[str, Any]:
    return {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in content["cells"]}


def test_an_nbgrader_assignment_written_by_hand(multi: Server) -> None:
    def meta(grade_id: str, **kw: Any) -> dict[str, Any]:  # nbgrader's own shape, cell_type and checksum included
        base = {"grade": False, "solution": False, "locked": False, "schema_version": 3, "grade_id": grade_id,
                "checksum": "0" * 32}
        return {"nbgrader": {**base, **kw}}

    source = nb([
        {"cell_type": "code", "id": "c1", "execution_count": None, "outputs": [],
         "metadata": meta("setup", locked=True, cell_type="code"),
         "source": "rows = [int(x) for x in open('data.csv').read().split(',')]"},
        {"cell_type": "code", "id": "c2", "execution_count": None, "outputs": [],
         "metadata": meta("total", solution=True, cell_type="code"), "source": "def total(rows):\n    return sum(rows)"},
        {"cell_type": "code", "id": "c3", "execution_count": None, "outputs": [],
         "metadata": meta("test_total", grade=True, locked=True, points=5, cell_type="code"),
         "source": "import os; print('uid', os.getuid())\nassert total(rows) == 10\n"
                   "### BEGIN HIDDEN TESTS\nassert total([]) == 0\n### END HIDDEN TESTS"},
        {"cell_type": "markdown", "id": "c4", "metadata": meta("plot_task", task=True, points=2, cell_type="markdown"),
         "source": "Plot the rows (graded by hand)."},
    ])
    teacher, student, handed_out, sub = _cycle(
        multi, source, lambda c: _by_id(c)["total"].update(source="def total(rows):\n    return sum(rows)"),
        extra={"data.csv": "1,2,3,4"})
    cells = _by_id(handed_out)
    assert "raise NotImplementedError()" in cells["total"]["source"] and "sum(" not in cells["total"]["source"]
    assert "total([])" not in cells["test_total"]["source"]
    assert cells["setup"]["metadata"]["editable"] is False and cells["test_total"]["metadata"]["deletable"] is False
    graded = {c["grade_id"]: c for c in sub["notebooks"][0]["cells"]}
    assert graded["test_total"]["auto_points"] == 5 and graded["plot_task"]["kind"] == "task"
    assert sub["total"] == 5 and sub["max_score"] == 7 and sub["warnings"] == []
    # Graded as neither root nor the uid the student's own kernels use (they could tamper with the run).
    graded_uid = int(graded["test_total"]["outputs"][0]["text"].split()[1])
    own = student.get("/api/projects").json()
    folder = next(p["path"] for p in own if p["owner"] == student.name and "(home)" not in p["title"])
    assert graded_uid not in (0, os.stat(folder).st_uid)


def test_a_sage_notebook_autogrades(sage_server: Server) -> None:
    source = nb([
        cell("code", "def f(x):\n    ### BEGIN SOLUTION\n    return x^2\n    ### END SOLUTION", "f", solution=True),
        cell("code", "assert f(3) == 9\nassert f(2^4) - 1 == prod(Integer(255).prime_factors())", "test_f", points=2, grade=True,
             locked=True),
    ], language="sage")
    teacher, student, handed_out, sub = _cycle(
        sage_server, source, lambda c: _by_id(c)["f"].update(source="def f(x):\n    return x^2"))
    assert "raise NotImplementedError()" in _by_id(handed_out)["f"]["source"]
    test = sub["notebooks"][0]["cells"][0]
    assert test["grade_id"] == "test_f" and test["auto_points"] == 2, test["outputs"]  # 3^2 is 1 in Python: Sage ran it
    assert sub["total"] == 2


def test_an_endless_loop_is_stopped_and_scores_zero(multi: Server) -> None:
    def loop(content: dict[str, Any]) -> None:
        _by_id(content)["square"]["source"] = "def square(x):\n    while True:\n        pass"

    teacher, student, handed_out, sub = _cycle(multi, homework(), loop)
    graded = {c["grade_id"]: c for c in sub["notebooks"][0]["cells"]}
    assert graded["test_square"]["auto_points"] == 0 and graded["test_square_big"]["auto_points"] == 0
    assert graded["test_square"]["outputs"][-1]["ename"] == "TimeoutError", graded["test_square"]["outputs"]
    assert graded["test_square_big"]["outputs"][-1]["ename"] == "NotRun"
    assert sub["total"] == 0
