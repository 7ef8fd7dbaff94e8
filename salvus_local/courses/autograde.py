"""Autograde one student's collected submission: merge with the source (grading.py), run, score, store.

``run(kind, codes, files, ids)`` is given by the server (server/courses/executor.py): it runs the
code cells in one fresh session of kind ``sage`` or ``python`` as a grading uid of the student's project
(never root, never the uid of the student's live sessions).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from . import grading
from .student_version import language, student_notebook

Run = Callable[[str, list[str], dict[str, bytes], "tuple[int, int] | None", "list[bool]"], list[grading.CellRun]]


def autograde(courses: Any, course: dict[str, Any], assignment: dict[str, Any], student: dict[str, Any],
              source: dict[str, bytes], run: Run) -> tuple[str, str]:
    """Grade every notebook of the assignment that has graded cells; (status, message)."""
    import nbformat

    files, db = courses.files, courses.db
    aid, uid, name, username = assignment["id"], student["user_id"], assignment["name"], student["username"]
    sub = db.submission(aid, uid)
    if sub["state"] in ("none", "distributed") or not sub["collected_at"]:
        return "skipped", "not collected yet"
    collected = files.read_tree(course["project_id"], f"collected/{name}/{username}")
    # The session sees the submission's files, and the source's data files the student lacked.
    others = {rel: data for rel, data in source.items() if not rel.endswith(".ipynb")}
    others.update({rel: data for rel, data in collected.items() if not rel.endswith(".ipynb")})
    ids = files.run_as(student["project_id"])
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    tampered = False
    for rel, data in sorted(source.items()):
        src = grading.read_nb(data) if rel.endswith(".ipynb") else None
        if src is None or not any(grading.kind_of(c) for c in src.cells):
            continue
        handed_out = grading.read_nb(student_notebook(data, rel))
        submitted = grading.read_nb(collected.get(rel))
        if submitted is None:
            why = "is missing" if rel not in collected else "is not a readable notebook"
            warnings.append(f"{rel} {why}; the student version was graded")
            submitted = handed_out
        merged, notes = grading.merge(src, submitted)
        warnings += [f"{rel}: {n}" for n in notes]
        code_cells = [c for c in merged.cells if c.cell_type == "code"]
        tests = [grading.kind_of(c) == grading.KIND_AUTO for c in code_cells]
        runs = run(language(src), [c.source for c in code_cells], dict(others), ids, tests)
        changed = list(dict.fromkeys(x for r in runs for x in r.tampered))
        if changed:
            tampered = True
            warnings.append(f"{rel}: tampered: the student's code changed the grading machinery "
                            f"({', '.join(changed[:6])}); it was put back before each test cell, but check this "
                            "submission by hand")
        for cell, result in zip(code_cells, runs):
            cell.outputs = [nbformat.from_dict(o) for o in result.outputs]
            cell.execution_count = result.execution_count
        rows += grading.score(merged, rel, grading.stubs(handed_out))
        files.write(course["project_id"], f"autograded/{name}/{username}/{rel}", grading.write_nb(merged))
    db.replace_auto_grades(aid, uid, rows)
    got, top, needs = grading.totals(db.grades(aid, uid))
    db.update_submission(aid, uid, state="graded", score=got, max_score=top, needs_manual=int(needs),
                         warnings=warnings, graded_at=time.time(),
                         message="needs manual grading" if needs else "")
    return "ok", f"{got:g} / {top:g}" + ("; tampered" if tampered else "") + (
        f"; {len(warnings)} warning(s)" if warnings else "")
