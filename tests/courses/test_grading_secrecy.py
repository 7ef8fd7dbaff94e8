"""Autograding against a student's hostile code: hooks cannot pass the tests (and are flagged), and what it writes to
the shared /tmp is private to its grading uid."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server

from .conftest import KERNELS, homework, make_user
from .test_notebooks import _by_id, _cycle


@pytest.mark.skipif(os.geteuid() != 0, reason="sessions run under uids of their own only on a root server")
def test_files_left_in_tmp_by_graded_code_are_not_readable_by_others(multi: Server) -> None:
    leak = Path("/tmp") / f"graded-leak-{uuid.uuid4().hex}"

    def steal(content: dict[str, Any]) -> None:
        # The solution cell copies every later cell's source (the hidden tests) to the shared /tmp, default mode.
        _by_id(content)["square"]["source"] = (
            "def square(x):\n    return x * x\n"
            "def _steal(info):\n"
            f"    open({str(leak)!r}, 'a').write(info.raw_cell)\n"
            "get_ipython().events.register('pre_run_cell', _steal)\n")

    try:
        _cycle(multi, homework(), steal)
        # /tmp is shared as root: the file was private to its grading uid (umask 077) and is gone with the lease,
        # so the next submission graded as that uid cannot read it either.
        assert not leak.exists(), oct(leak.stat().st_mode)
    finally:
        leak.unlink(missing_ok=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="grading uids exist only on a root server")
def test_grading_uids_are_leased_per_run_and_given_back() -> None:
    """A uid from a small pool per run (never a student project's), cleaned after it; old per-project ones freed."""
    srv = Server("--multi-user", env=KERNELS)
    left = Path("/tmp") / f"old-grading-{uuid.uuid4().hex}"
    try:
        assert make_user(srv, role="teacher", prefix="t").get("/api/courses").status_code == 200  # the db is made
        db = sqlite3.connect(srv.data_dir / "salvus.db")
        # A per-project grading uid as older servers left it, with a file of it in /tmp.
        db.execute("insert into project_uids (project_id, uid, assigned) values ('~grading-old', 299990, 0)")
        db.commit()
        left.write_text("from an old grading run")
        os.chown(left, 299990, 299990)
        for _ in range(2):
            _cycle(srv, homework(), lambda content: None)
        rows = dict(db.execute("select project_id, uid from project_uids").fetchall())
        graders = {p: u for p, u in rows.items() if p.startswith("~grader-")}
        assert graders and not any(p.startswith("~grading-") for p in rows), rows
        assert len(graders) <= 2, graders  # one run at a time here: the pool stays small, uids are reused
        projects = {u for p, u in rows.items() if not p.startswith("~")}
        assert not projects & set(graders.values()), rows  # never the uid of a student's own sessions
        assert not left.exists()
    finally:
        left.unlink(missing_ok=True)
        srv.stop()


def test_hooks_in_the_students_code_cannot_pass_the_tests(multi: Server) -> None:
    def cheat(content: dict[str, Any]) -> None:
        # A wrong answer, then every trick that would make the teacher's test cells pass or vanish.
        _by_id(content)["square"]["source"] = (
            "def square(x):\n    return -1\n"
            "import ast, builtins, sys\n"
            "ip = get_ipython()\n"
            "ip.input_transformers_post.append(lambda lines: ['pass\\n'])\n"
            "ip.events.register('pre_run_cell', lambda info: None)\n"
            "class _Gut(ast.NodeTransformer):\n"
            "    def visit_Assert(self, node):\n"
            "        return ast.Pass()\n"
            "ip.ast_transformers.append(_Gut())\n"
            "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
            "sys.settrace(lambda *a: None)\n"
            "def _fake(raw_cell, *a, **k):\n"
            "    return type(ip).run_cell(ip, 'pass', *a, **k)\n"
            "ip.run_cell = _fake\n")

    _teacher, _student, _handed_out, sub = _cycle(multi, homework(), cheat)
    graded = {c["grade_id"]: c for c in sub["notebooks"][0]["cells"]}
    assert graded["test_square"]["auto_points"] == 0 and graded["test_square_big"]["auto_points"] == 0, graded
    assert graded["test_square"]["outputs"][-1]["ename"] == "AssertionError", graded["test_square"]["outputs"]
    text = " ".join(sub["warnings"])
    assert "tampered" in text and "input_transformers_post" in text and "ast_transformers" in text, sub["warnings"]
    assert "events.pre_run_cell" in text and "builtins.AssertionError" in text, sub["warnings"]
    assert "shell.run_cell" in text, sub["warnings"]


def test_an_honest_submission_is_not_flagged(multi: Server) -> None:
    def honest(content: dict[str, Any]) -> None:
        _by_id(content)["square"]["source"] = "import math\ndef square(x):\n    return x * x"

    _teacher, _student, _handed_out, sub = _cycle(multi, homework(), honest)
    graded = {c["grade_id"]: c for c in sub["notebooks"][0]["cells"]}
    assert graded["test_square"]["auto_points"] == 3 and graded["test_square_big"]["auto_points"] == 1, graded
    assert not any("tampered" in w for w in sub["warnings"]), sub["warnings"]
