"""Return: the graded copy with feedback into ``<assignment>/feedback/`` of the student's project.

The feedback notebook is the autograded notebook (the source's tests, hidden ones included, with
their outputs) with a summary cell at the top (score, lateness, warnings) and, after each graded
cell, a cell with its points and the teacher's comment.
"""

from __future__ import annotations

import time
from typing import Any

from . import grading


def _points(row: dict[str, Any]) -> float | None:
    return row["manual_points"] if row["manual_points"] is not None else row["auto_points"]


def feedback_notebook(nb: Any, rows: list[dict[str, Any]], sub: dict[str, Any], title: str,
                      peer: list[dict[str, Any]] | None = None) -> Any:
    """The annotated copy of one graded notebook; ``peer``: reviews as for_author gives them (no reviewer names)."""
    import nbformat

    by_id = {r["grade_id"]: r for r in rows}
    got = sum(_points(r) or 0.0 for r in rows)
    top = sum(r["max_points"] for r in rows)
    lines = [f"# Feedback: {title}", "", f"**Score: {got:g} / {top:g}**"]
    if sub.get("late"):
        lines.append("\nThis work was handed in after the due time.")
    for warning in sub.get("warnings") or []:
        lines.append(f"\n- {warning}")
    if peer:
        lines += ["", "## Peer reviews", ""]
        lines += [f"**Reviewer {p['number']}:** {p['comment'].strip() or '(no comment)'}\n" for p in peer]
    cells = [nbformat.v4.new_markdown_cell("\n".join(lines))]
    for cell in nb.cells:
        cell.metadata.pop("deletable", None)
        cell.metadata.pop("editable", None)  # the student's own copy to keep: nothing locked
        cells.append(cell)
        row = by_id.get(grading.meta(cell).get("grade_id"))
        if row is None:
            continue
        points = _points(row)
        text = (f"**{row['grade_id']}: {'not graded yet' if points is None else f'{points:g}'} / "
                f"{row['max_points']:g} points**")
        if row["comment"]:
            text += f"\n\n{row['comment']}"
        scored = [(p["number"], p["points"][row["grade_id"]]) for p in peer or []
                  if p["points"].get(row["grade_id"]) is not None]
        if scored:
            text += "\n\nPeers: " + ", ".join(f"reviewer {n}: {x:g}" for n, x in scored)
        cells.append(nbformat.v4.new_markdown_cell(text, metadata={"salvus": {"feedback": row["grade_id"]}}))
    nb.cells = cells
    return nb


def return_one(courses: Any, course: dict[str, Any], assignment: dict[str, Any],
               student: dict[str, Any]) -> tuple[str, str]:
    """Write the feedback notebooks into the student's project; (status, message)."""
    files, db = courses.files, courses.db
    aid, uid, name, username = assignment["id"], student["user_id"], assignment["name"], student["username"]
    sub = db.submission(aid, uid)
    if sub["state"] not in ("graded", "returned"):
        return "skipped", "not graded yet"
    rows = db.grades(aid, uid)
    from .peer_grades import for_author

    peer = for_author(courses, aid, uid)
    graded = files.read_tree(course["project_id"], f"autograded/{name}/{username}")
    written = 0
    for rel, data in sorted(graded.items()):
        nb = grading.read_nb(data)
        if nb is None:
            continue
        mine = [r for r in rows if r["notebook"] == rel]
        files.write(student["project_id"], f"{name}/feedback/{rel}",
                    grading.write_nb(feedback_notebook(nb, mine, sub, f"{name}/{rel}", peer)))
        written += 1
    db.update_submission(aid, uid, state="returned", returned_at=time.time())
    return "ok", f"{written} feedback notebook(s) returned"
