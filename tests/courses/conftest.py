"""A multi-user server, a teacher, notebooks with nbgrader metadata written by hand, and job polling."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.accounts.conftest import PASSWORD, Person, make_user, unique
from tests.conftest import Server, wait_for

__all__ = ["PASSWORD", "Person", "make_user", "unique", "nb", "cell", "put_notebook", "run_job", "student_csv"]

# A short per-cell limit keeps the endless-loop test short; ordinary test cells take milliseconds.
KERNELS = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python", "SALVUS_LOCAL_GRADE_CELL_TIMEOUT": "10"}


@pytest.fixture(scope="module")
def multi() -> Any:
    """One multi-user server (Python kernels) for a test module."""
    srv = Server("--multi-user", env=KERNELS)
    yield srv
    srv.stop()


@pytest.fixture
def teacher(multi: Server) -> Person:
    """A signed-in teacher."""
    return make_user(multi, role="teacher", prefix="t")


def cell(kind: str, source: str, grade_id: str | None = None, points: float = 0, solution: bool = False,
         grade: bool = False, locked: bool = False, task: bool = False) -> dict[str, Any]:
    """A notebook cell with nbgrader metadata (schema 3), written by hand as a teacher would."""
    out: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": source, "id": uuid.uuid4().hex[:8]}
    if kind == "code":
        out.update(outputs=[], execution_count=None)
    if grade_id:
        out["metadata"]["nbgrader"] = {"grade_id": grade_id, "grade": grade, "solution": solution, "locked": locked,
                                       "schema_version": 3, **({"points": points} if grade else {}),
                                       **({"task": True} if task else {})}
    return out


def nb(cells: list[dict[str, Any]], language: str = "python") -> dict[str, Any]:
    """A v4 notebook for a kernel language (python or sage)."""
    spec = ({"name": "sagemath", "language": "sage", "display_name": "SageMath"} if language == "sage"
            else {"name": "python3", "language": "python", "display_name": "Python 3"})
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": spec}, "cells": cells}


def homework(points_text: int = 2) -> dict[str, Any]:
    """An assignment: an answer, a visible and a hidden test, a manually graded answer and a task."""
    return nb([
        cell("markdown", "# Homework\nSquare a number.", "intro", locked=True),
        cell("code", "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
             "square", solution=True),
        cell("code", "assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(-3) == 9\n### END HIDDEN TESTS",
             "test_square", points=3, grade=True, locked=True),
        cell("code", "assert square(10) == 100", "test_square_big", points=1, grade=True, locked=True),
        cell("markdown", "Explain why.", "why_q", locked=True),
        cell("markdown", "### BEGIN SOLUTION\nBecause.\n### END SOLUTION", "why", points=points_text, grade=True,
             solution=True),
    ])


def put_notebook(person: Person, project_id: str, path: str, content: dict[str, Any]) -> None:
    """Save a notebook through the Contents API of a project (folders made first)."""
    parts = path.split("/")
    for n in range(1, len(parts)):
        folder = "/".join(parts[:n])
        person.put(f"/p/{project_id}/api/contents/{folder}", json={"type": "directory"})
    r = person.put(f"/p/{project_id}/api/contents/{path}", json={"type": "notebook", "content": content})
    assert r.status_code in (200, 201), r.text


def get_notebook(person: Person, project_id: str, path: str) -> dict[str, Any]:
    """A notebook's content through the Contents API."""
    r = person.get(f"/p/{project_id}/api/contents/{path}")
    assert r.status_code == 200, r.text
    return r.json()["content"]


def run_job(person: Person, cid: str, aid: int, action: str, timeout: float = 240, **body: Any) -> dict[str, Any]:
    """Start a bulk action and wait until its job finished; return the job."""
    r = person.post(f"/api/courses/{cid}/assignments/{aid}/{action}", json=body or None)
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]

    def finished() -> dict[str, Any] | None:
        job = person.get(f"/api/courses/{cid}/jobs/{job_id}").json()
        return job if job["state"] != "running" else None

    return wait_for(finished, timeout, f"{action} job")


def student_csv(names: list[str], with_header: bool = True) -> str:
    """A class list: username,name,password."""
    lines = (["username,name,password"] if with_header else []) + [f"{n},Student {n},{PASSWORD}" for n in names]
    return "\n".join(lines) + "\n"


def as_json(r: Any) -> Any:
    """The JSON of a response, with its text on failure."""
    try:
        return r.json()
    except json.JSONDecodeError:
        raise AssertionError(r.text) from None
