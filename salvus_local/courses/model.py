"""The course tables of salvus.db (migration 0008_courses): rows in, rows out, no policy.

Why SQLite and not a file in the course project: many students' steps update status at once
(transactions), the grade book must be out of reach of sessions running in the course project, and
the teacher's table is one query.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from salvus_local.store.db import Store
from salvus_local.store.errors import Conflict, NotFound

STATES = ("none", "distributed", "collected", "graded", "returned", "failed")


class CourseStore:
    """Courses, students, assignments, per-student submissions, distributed files and grades."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # Courses
    def create(self, title: str, project_id: str, teacher_id: int) -> dict[str, Any]:
        """Insert a course; return its row."""
        cid = secrets.token_hex(5)
        with self.store.write() as db:
            db["courses"].insert({"id": cid, "title": title, "project_id": project_id, "teacher_id": teacher_id,
                                  "created": time.time()})
        return self.get(cid)

    def get(self, cid: str) -> dict[str, Any]:
        """A live course row with ``teacher`` (username) and counts; 404 when unknown."""
        rows = self.store.query(
            "select c.*, u.name as teacher, "
            "(select count(*) from course_students s where s.course_id = c.id) as n_students, "
            "(select count(*) from assignments a where a.course_id = c.id) as n_assignments "
            "from courses c join users u on u.id = c.teacher_id where c.id = ? and c.deleted is null", (cid,))
        if not rows:
            raise NotFound(f"No such course: {cid}")
        return rows[0]

    def teaching(self, user_id: int | None) -> list[dict[str, Any]]:
        """Courses user_id teaches (every course when None: an admin)."""
        ids = self.store.query("select id from courses where deleted is null" +
                               ("" if user_id is None else " and teacher_id = ?") + " order by created",
                               () if user_id is None else (user_id,))
        return [self.get(r["id"]) for r in ids]

    def enrolled(self, user_id: int) -> list[dict[str, Any]]:
        """Courses user_id is a student of."""
        ids = self.store.query("select c.id from courses c join course_students s on s.course_id = c.id "
                               "where s.user_id = ? and c.deleted is null order by c.created", (user_id,))
        return [self.get(r["id"]) for r in ids]

    # Students
    def students(self, cid: str) -> list[dict[str, Any]]:
        """[{user_id, username, name, project_id}] by username."""
        return self.store.query(
            "select s.user_id, u.name as username, coalesce(nullif(u.display_name, ''), u.name) as name, "
            "s.project_id from course_students s join users u on u.id = s.user_id "
            "where s.course_id = ? and u.deleted is null order by u.name", (cid,))

    def student(self, cid: str, user_id: int) -> dict[str, Any] | None:
        """One student's row, or None."""
        rows = [s for s in self.students(cid) if s["user_id"] == user_id]
        return rows[0] if rows else None

    def add_student(self, cid: str, user_id: int, project_id: str) -> None:
        """Enroll a student with their course project."""
        with self.store.write() as db:
            db["course_students"].upsert({"course_id": cid, "user_id": user_id, "project_id": project_id,
                                          "added": time.time()}, pk=("course_id", "user_id"))

    def remove_student(self, cid: str, user_id: int) -> None:
        """Take a student off the course (their project and work stay theirs)."""
        with self.store.write() as db:
            cur = db.execute("delete from course_students where course_id = ? and user_id = ?", (cid, user_id))
        if cur.rowcount == 0:
            raise NotFound("That user is not a student of this course")

    # Assignments
    def assignments(self, cid: str) -> list[dict[str, Any]]:
        """Assignment rows of a course, each with ``extensions`` {username: due}."""
        rows = self.store.query("select * from assignments where course_id = ? order by created, id", (cid,))
        ext = self.store.query("select e.assignment_id, u.name, e.due from assignment_extensions e "
                               "join assignments a on a.id = e.assignment_id join users u on u.id = e.user_id "
                               "where a.course_id = ?", (cid,))
        for row in rows:
            row["extensions"] = {e["name"]: e["due"] for e in ext if e["assignment_id"] == row["id"]}
        return rows

    def assignment(self, cid: str, aid: int | str) -> dict[str, Any]:
        """One assignment of the course; 404 when unknown."""
        for row in self.assignments(cid):
            if str(row["id"]) == str(aid):
                return row
        raise NotFound(f"No such assignment in this course: {aid}")

    def add_assignment(self, cid: str, name: str, kind: str, due: float | None) -> dict[str, Any]:
        """Insert an assignment; 409 when the course has one of that name."""
        with self.store.write() as db:
            if db.execute("select 1 from assignments where course_id = ? and name = ?", (cid, name)).fetchone():
                raise Conflict(f"This course already has an assignment {name!r}")
            aid = db["assignments"].insert({"course_id": cid, "name": name, "kind": kind, "due": due,
                                            "created": time.time()}).last_pk
        return self.assignment(cid, aid)

    def set_due(self, aid: int, due: float | None) -> None:
        """Change an assignment's due time."""
        with self.store.write() as db:
            db.execute("update assignments set due = ? where id = ?", (due, aid))

    def set_extension(self, aid: int, user_id: int, due: float | None) -> None:
        """Give one student another due time (None removes it)."""
        with self.store.write() as db:
            db.execute("delete from assignment_extensions where assignment_id = ? and user_id = ?", (aid, user_id))
            if due is not None:
                db["assignment_extensions"].insert({"assignment_id": aid, "user_id": user_id, "due": due})

    # Submissions: one row per (assignment, student), made on first use
    def submission(self, aid: int, user_id: int) -> dict[str, Any]:
        """The student's row for an assignment (state ``none`` when there is none yet)."""
        rows = self.store.query("select * from submissions where assignment_id = ? and user_id = ?", (aid, user_id))
        if rows:
            row = rows[0]
            row["warnings"] = json.loads(row["warnings"] or "[]")
            return row
        return {"assignment_id": aid, "user_id": user_id, "state": "none", "late": 0, "collected_at": None,
                "score": None, "max_score": None, "needs_manual": 0, "message": "", "warnings": [],
                "version": None, "last_change": None, "distributed_at": None}

    def submissions(self, cid: str) -> list[dict[str, Any]]:
        """Every submission row of a course's assignments."""
        return self.store.query("select s.* from submissions s join assignments a on a.id = s.assignment_id "
                                "where a.course_id = ?", (cid,))

    def update_submission(self, aid: int, user_id: int, **changes: Any) -> None:
        """Upsert fields of a submission row (``warnings`` as a list)."""
        if "warnings" in changes:
            changes["warnings"] = json.dumps(changes["warnings"])
        with self.store.write() as db:
            if not db.execute("select 1 from submissions where assignment_id = ? and user_id = ?",
                              (aid, user_id)).fetchone():
                db["submissions"].insert({"assignment_id": aid, "user_id": user_id, "state": "none"})
            db["submissions"].update((aid, user_id), changes)

    # Distributed files: what we wrote, to tell a student's change from ours
    def distributed(self, aid: int, user_id: int) -> dict[str, str]:
        """{path: sha256} of what was distributed to a student."""
        rows = self.store.query("select path, sha256 from distributed_files where assignment_id = ? and user_id = ?",
                                (aid, user_id))
        return {r["path"]: r["sha256"] for r in rows}

    def record_distributed(self, aid: int, user_id: int, files: dict[str, str]) -> None:
        """Remember {path: sha256} written to a student now."""
        now = time.time()
        with self.store.write() as db:
            db["distributed_files"].upsert_all(
                [{"assignment_id": aid, "user_id": user_id, "path": p, "sha256": h, "distributed_at": now}
                 for p, h in files.items()], pk=("assignment_id", "user_id", "path"))

    # Grades
    def grades(self, aid: int, user_id: int) -> list[dict[str, Any]]:
        """Grade rows of one submission in notebook order."""
        return self.store.query("select * from grades where assignment_id = ? and user_id = ? "
                                "order by notebook, position", (aid, user_id))

    def replace_auto_grades(self, aid: int, user_id: int, rows: list[dict[str, Any]]) -> None:
        """Store autograder results, keeping manual points and comments already given for the same cells."""
        old = {(g["notebook"], g["grade_id"]): g for g in self.grades(aid, user_id)}
        with self.store.write() as db:
            db.execute("delete from grades where assignment_id = ? and user_id = ?", (aid, user_id))
            for row in rows:
                kept = old.get((row["notebook"], row["grade_id"]), {})
                db["grades"].insert({"assignment_id": aid, "user_id": user_id, **row,
                                     "manual_points": kept.get("manual_points"),
                                     "comment": kept.get("comment") or ""})

    def set_grade(self, aid: int, user_id: int, notebook: str, grade_id: str, changes: dict[str, Any]) -> None:
        """Change manual points and/or the comment of one grade cell."""
        with self.store.write() as db:
            db["grades"].update((aid, user_id, notebook, grade_id), changes)

    def set_max_score(self, aid: int, max_score: float) -> None:
        """Remember an assignment's total points (from its source notebooks)."""
        with self.store.write() as db:
            db.execute("update assignments set max_score = ? where id = ?", (max_score, aid))
