"""The per-student steps of the bulk actions: distribute, collect (autograde: autograde.py; return: feedback.py).

Each step takes one student and answers ``(status, message)`` with status ``ok`` or ``skipped``, or
raises a StoreError (the job lists it as failed with its message).  Nothing a student wrote is ever
overwritten: distribution records the sha256 of every file it writes, and writes over a file only
when it still has exactly that content.
"""

from __future__ import annotations

import time
from typing import Any

from salvus_local.store.errors import BadRequest

from .student_version import sha256, student_files


def student_version(courses: Any, course: dict[str, Any], assignment: dict[str, Any]) -> dict[str, bytes]:
    """The files to hand out (relative to the assignment folder): made once per bulk action."""
    source = courses.files.read_tree(course["project_id"], assignment["name"])
    if not source:
        raise BadRequest(f"The course project's folder {assignment['name']!r} is empty or gone")
    if assignment["kind"] == "handout":
        return source
    from .grading import max_score

    courses.db.set_max_score(assignment["id"], max_score(source))
    return student_files(source)


def distribute(courses: Any, assignment: dict[str, Any], student: dict[str, Any],
               version: dict[str, bytes]) -> tuple[str, str]:
    """Copy the student version into the student's project; keep every file the student changed."""
    files, db = courses.files, courses.db
    aid, uid, pid = assignment["id"], student["user_id"], student["project_id"]
    record = db.distributed(aid, uid)
    written: dict[str, str] = {}
    kept: list[str] = []
    for rel, data in sorted(version.items()):
        path = f"{assignment['name']}/{rel}"
        current = files.read(pid, path)
        new = sha256(data)
        if current is None or (rel in record and sha256(current) == record[rel]):
            if current != data:  # absent, or exactly what we handed out before: safe to (re)write
                files.write(pid, path, data)
            written[rel] = new
        elif sha256(current) == new:
            written[rel] = new  # the same content already (made by hand): ours from now on
        else:
            kept.append(rel)
    db.record_distributed(aid, uid, written)
    sub = db.submission(aid, uid)
    changes: dict[str, Any] = {"distributed_at": time.time()}
    if sub["state"] in ("none", "failed"):
        changes.update(state="distributed", message="")
    db.update_submission(aid, uid, **changes)
    message = f"{len(written)} file(s) handed out"
    if kept:
        message += f"; kept the student's changed {', '.join(kept[:3])}{' …' if len(kept) > 3 else ''}"
    return "ok", message


def collect(courses: Any, assignment: dict[str, Any], student: dict[str, Any], course: dict[str, Any]) -> tuple[str, str]:
    """Copy the student's files as they are now, from one snapshot, into ``collected/<name>/<username>/``."""
    files, db = courses.files, courses.db
    aid, uid, name = assignment["id"], student["user_id"], assignment["name"]
    sub = db.submission(aid, uid)
    if sub["state"] == "none":
        return "skipped", "not handed out yet"
    version, changed, tree = files.snapshot_tree(student["project_id"], name, f"collect {name}")
    tree = {rel: data for rel, data in tree.items() if not rel.startswith("feedback/")}
    if not tree:
        db.update_submission(aid, uid, state="failed", message=f"no files in {name}/ to collect")
        return "skipped", f"no files in {name}/ to collect"
    folder = f"collected/{name}/{student['username']}"
    for rel in set(files.read_tree(course["project_id"], folder)) - set(tree):
        files.remove(course["project_id"], f"{folder}/{rel}")  # gone from the student's copy since the last collection
    for rel, data in tree.items():
        files.write(course["project_id"], f"{folder}/{rel}", data)
    due = courses.due_of(assignment, student["username"])
    late = bool(due is not None and changed is not None and changed > due)
    db.update_submission(aid, uid, state="collected", collected_at=time.time(), last_change=changed,
                         version=version, late=int(late), message="late" if late else "")
    return "ok", f"{len(tree)} file(s) collected" + (" (late)" if late else "")
