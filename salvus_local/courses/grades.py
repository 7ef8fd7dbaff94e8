"""Manual grading and the grade book: one submission's graded cells, points and comments, totals, CSV."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from salvus_local.store.errors import BadRequest, NotFound

from . import grading, times

MAX_COMMENT = 20_000


def _cell_model(row: dict[str, Any], cell: Any | None) -> dict[str, Any]:
    return {"grade_id": row["grade_id"], "cell_type": row["cell_type"],
            "source": cell.source if cell is not None else "", "outputs": list(cell.get("outputs", [])) if cell else [],
            "kind": row["kind"], "auto_points": row["auto_points"], "manual_points": row["manual_points"],
            "max_points": row["max_points"], "comment": row["comment"] or ""}


def _student(courses: Any, cid: str, username: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    students = courses.db.students(cid)
    for s in students:
        if s["username"] == username.strip().lower():
            return s, students
    raise NotFound(f"{username} is not a student of this course")


def submission(courses: Any, cid: str, user: dict[str, Any], aid: str, username: str) -> dict[str, Any]:
    """One student's graded cells of an assignment, with totals, warnings and the previous/next student."""
    course = courses.course_for(cid, user)
    assignment = courses.db.assignment(cid, aid)
    student, students = _student(courses, cid, username)
    sub = courses.db.submission(assignment["id"], student["user_id"])
    rows = courses.db.grades(assignment["id"], student["user_id"])
    folder = "autograded" if rows else "collected"
    tree = courses.files.read_tree(course["project_id"], f"{folder}/{assignment['name']}/{student['username']}")
    notebooks = []
    for rel in sorted({r["notebook"] for r in rows}):
        nb = grading.read_nb(tree.get(rel))
        cells = {grading.meta(c).get("grade_id"): c for c in (nb.cells if nb else []) if grading.meta(c)}
        notebooks.append({"path": rel, "cells": [_cell_model(r, cells.get(r["grade_id"]))
                                                 for r in rows if r["notebook"] == rel]})
    got, top, _needs = grading.totals(rows)
    from .peer_grades import reviews_of

    names = [s["username"] for s in students]
    at = names.index(student["username"])
    return {"username": student["username"], "name": student["name"], "state": sub["state"], "late": bool(sub["late"]),
            "collected_at": times.iso(sub["collected_at"]), "notebooks": notebooks, "total": got,
            "max_score": top if rows else assignment["max_score"], "warnings": sub["warnings"],
            "prev": names[at - 1] if at > 0 else None, "next": names[at + 1] if at + 1 < len(names) else None,
            "peer_reviews": reviews_of(courses, assignment["id"], student["user_id"])}


def set_grade(courses: Any, cid: str, user: dict[str, Any], aid: str, username: str, grade_id: str,
              body: dict[str, Any], notebook: str | None = None) -> dict[str, Any]:
    """Give manual ``points`` (0..max, null clears) and/or a ``comment``; answer the updated cell."""
    course = courses.course_for(cid, user)
    assignment = courses.db.assignment(cid, aid)
    student, _ = _student(courses, cid, username)
    rows = [r for r in courses.db.grades(assignment["id"], student["user_id"])
            if r["grade_id"] == grade_id and (notebook is None or r["notebook"] == notebook)]
    if not rows:
        raise NotFound(f"No graded cell {grade_id!r} in {username}'s submission (autograde it first)")
    if len(rows) > 1:
        raise BadRequest(f"{grade_id!r} is in several notebooks; say which with ?notebook=")
    row = rows[0]
    changes: dict[str, Any] = {}
    if "points" in body:
        points = body["points"]
        if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float))
                                   or not math.isfinite(points) or not 0 <= points <= row["max_points"]):
            raise BadRequest(f"'points' must be a number from 0 to {row['max_points']:g}, or null")
        changes["manual_points"] = None if points is None else float(points)
    if "comment" in body:
        comment = body["comment"]
        if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
            raise BadRequest(f"'comment' must be text of at most {MAX_COMMENT} characters")
        changes["comment"] = comment or ""
    if not changes:
        raise BadRequest("Give 'points' and/or 'comment'")
    courses.db.set_grade(assignment["id"], student["user_id"], row["notebook"], grade_id, changes)
    got, top, needs = grading.totals(courses.db.grades(assignment["id"], student["user_id"]))
    courses.db.update_submission(assignment["id"], student["user_id"], score=got, max_score=top,
                                 needs_manual=int(needs), message="needs manual grading" if needs else "")
    updated = next(r for r in courses.db.grades(assignment["id"], student["user_id"])
                   if r["grade_id"] == grade_id and r["notebook"] == row["notebook"])
    tree = courses.files.read_tree(course["project_id"], f"autograded/{assignment['name']}/{student['username']}")
    nb = grading.read_nb(tree.get(row["notebook"]))
    cell = next((c for c in (nb.cells if nb else []) if grading.meta(c).get("grade_id") == grade_id), None)
    return _cell_model(updated, cell)


def gradebook_csv(courses: Any, cid: str, user: dict[str, Any]) -> str:
    """CSV: username, name, one column per assignment (its score, empty when not graded), total."""
    courses.course_for(cid, user)
    assignments = [a for a in courses.db.assignments(cid) if a["kind"] == "assignment"]
    subs = {(s["assignment_id"], s["user_id"]): s for s in courses.db.submissions(cid)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["username", "name", *[_cell_text(a["name"]) for a in assignments], "total"])
    for s in courses.db.students(cid):
        scores = [(subs.get((a["id"], s["user_id"])) or {}).get("score") for a in assignments]
        writer.writerow([s["username"], _cell_text(s["name"]), *["" if x is None else f"{x:g}" for x in scores],
                         f"{sum(x or 0 for x in scores):g}"])
    return out.getvalue()


def _cell_text(text: str) -> str:
    """Text a spreadsheet will not take for a formula (a display name may start with ``=``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
