"""Courses: a teacher's course project, one project per student, assignments handed out, collected, graded, returned.

No Flask here: ``salvus_local/server/courses`` is a thin HTTP layer over :class:`Courses`, and the
project files are reached through :class:`~salvus_local.courses.files.ProjectFiles` (the server's
workspace), always with the owning project's rights.  The data lives in SQLite (model.py).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from salvus_local.store.errors import BadRequest, Forbidden, NotFound, StoreError

from . import times
from .files import ProjectFiles
from .model import CourseStore
from .peer_store import PeerStore

__all__ = ["Courses"]

KINDS = ("assignment", "handout")
RESERVED = ("collected", "autograded", "feedback")  # folders of the course project the courses code writes
MAX_TITLE = 200
STAFF = ("teacher", "admin")


def course_model(row: dict[str, Any]) -> dict[str, Any]:
    """The API shape of a course."""
    return {"id": row["id"], "title": row["title"], "project_id": row["project_id"], "teacher": row["teacher"],
            "created": times.iso(row["created"]), "students": row["n_students"], "assignments": row["n_assignments"]}


def assignment_model(row: dict[str, Any]) -> dict[str, Any]:
    """The API shape of an assignment."""
    return {"id": row["id"], "name": row["name"], "kind": row["kind"], "due": times.iso(row["due"]),
            "extensions": {k: times.iso(v) for k, v in row["extensions"].items()}, "max_score": row["max_score"]}


def step_model(sub: dict[str, Any]) -> dict[str, Any]:
    """The API shape of one student's step of one assignment."""
    return {"state": sub["state"], "late": bool(sub["late"]), "collected_at": times.iso(sub["collected_at"]),
            "score": sub["score"], "max_score": sub["max_score"], "needs_manual": bool(sub["needs_manual"]),
            "message": sub["message"] or ""}


def check_folder_name(name: object) -> str:
    """An assignment name: one folder name in the course project; 400 saying what to fix."""
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("Give the assignment's folder as 'name' (a folder at the top of the course project)")
    name = name.strip().strip("/")
    if "/" in name or name.startswith(".") or len(name) > 100 or any(ord(c) < 32 for c in name):
        raise BadRequest(f"'name' {name[:40]!r} must be one folder at the top of the course project "
                         "(no '/', not hidden, at most 100 characters)")
    if name.lower() in RESERVED:
        raise BadRequest(f"'{name}' is a folder the course writes into; name the assignment folder otherwise")
    return name


class Courses:
    """Everything about courses of one data dir; ``accounts`` is salvus_local.accounts.Accounts."""

    def __init__(self, store: Any, accounts: Any, files: ProjectFiles) -> None:
        self.db = CourseStore(store)
        self.peer = PeerStore(store)
        self.accounts = accounts
        self.files = files

    # Who may
    def role(self, course: dict[str, Any], user: dict[str, Any]) -> str:
        """``teacher`` (the course's teacher or an admin) or ``student``; 404 for anyone else."""
        if user["role"] == "admin" or course["teacher_id"] == user["id"]:
            return "teacher"
        if self.db.student(course["id"], user["id"]) is not None:
            return "student"
        raise NotFound(f"No such course: {course['id']}")

    def course_for(self, cid: str, user: dict[str, Any], needed: str = "teacher") -> dict[str, Any]:
        """The course row when user has the role needed (404 without any role, 403 for a student)."""
        course = self.db.get(cid)
        if self.role(course, user) != "teacher" and needed == "teacher":
            raise Forbidden("Only the course's teacher may do this")
        return course

    # Courses
    def list(self, user: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """{teaching, enrolled} course models of user."""
        teaching = self.db.teaching(None if user["role"] == "admin" else user["id"])
        return {"teaching": [course_model(c) for c in teaching],
                "enrolled": [course_model(c) for c in self.db.enrolled(user["id"])]}

    def create(self, user: dict[str, Any], title: object) -> dict[str, Any]:
        """Create a course and its course project (owned by user, a teacher or admin)."""
        if user["role"] not in STAFF:
            raise Forbidden("Only teachers and admins may create courses")
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE or any(ord(c) < 32 for c in title):
            raise BadRequest(f"Give the course a 'title': text on one line, at most {MAX_TITLE} characters")
        project_id = self.files.create_project(title.strip(), user["id"], [])
        return course_model(self.db.create(title.strip(), project_id, user["id"]))

    def view(self, cid: str, user: dict[str, Any]) -> dict[str, Any]:
        """The teacher's table (students × assignments) or a student's own row."""
        course = self.db.get(cid)
        role = self.role(course, user)
        assignments = self.db.assignments(cid)
        subs = {(s["assignment_id"], s["user_id"]): s for s in self.db.submissions(cid)}
        from . import peer_grades

        peers = self.peer.of_course([a["id"] for a in assignments])
        reviewing = peer_grades.status(self, cid, assignments)

        def steps(user_id: int) -> dict[str, Any]:
            return {str(a["id"]): {**step_model(self._sub(subs, a["id"], user_id)),
                                   "peer": reviewing.get((a["id"], user_id))} for a in assignments}

        out: dict[str, Any] = {"course": course_model(course),
                               "assignments": [{**assignment_model(a), "peer": peer_grades.brief(peers.get(a["id"]))}
                                               for a in assignments]}
        if role == "student":
            me = self.db.student(cid, user["id"])
            out["project_id"] = me["project_id"] if me else None
            out["mine"] = steps(user["id"])
            return out
        students = self.db.students(cid)
        out["students"] = [{"username": s["username"], "name": s["name"], "project_id": s["project_id"]}
                           for s in students]
        out["status"] = {s["username"]: steps(s["user_id"]) for s in students}
        return out

    def _sub(self, subs: dict[Any, dict[str, Any]], aid: int, user_id: int) -> dict[str, Any]:
        return subs.get((aid, user_id)) or self.db.submission(aid, user_id)

    # Students
    def add_students(self, cid: str, user: dict[str, Any], usernames: object = None,
                     csv_text: str | None = None) -> dict[str, list[Any]]:
        """Enroll students by username, or from CSV ``username[,name,password]`` (creating unknown ones with a password)."""
        course = self.course_for(cid, user)
        rows = self._csv_rows(csv_text) if csv_text is not None else self._name_rows(usernames)
        added: list[str] = []
        failed: list[dict[str, str]] = []
        for row in rows:
            try:
                added.append(self._enroll(course, row))
            except StoreError as exc:
                failed.append({"username": row.get("username") or "", "message": exc.message})
        return {"added": added, "failed": failed}

    @staticmethod
    def _name_rows(usernames: object) -> list[dict[str, str]]:
        if not isinstance(usernames, list) or not all(isinstance(u, str) for u in usernames):
            raise BadRequest("Give 'usernames' as a list of usernames, or send a text/csv class list")
        return [{"username": u} for u in usernames]

    @staticmethod
    def _csv_rows(text: str) -> list[dict[str, str]]:
        reader = csv.reader(io.StringIO(text))
        header = [h.strip().lower() for h in next(reader, [])]
        if not header or header[0] != "username" or any(h not in ("username", "name", "password") for h in header):
            raise BadRequest("The CSV needs a header line: username[,name,password]")
        rows = []
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append({h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)})
        return rows

    def _enroll(self, course: dict[str, Any], row: dict[str, str]) -> str:
        users = self.accounts.users
        student = users.find(row.get("username", ""))
        if student is None:
            if not row.get("password"):
                raise NotFound(f"No such user: {row.get('username')!r} (give a password column to create it)")
            student = users.create(row["username"], "student", row["password"], row.get("name") or None)
        if student["id"] == course["teacher_id"]:
            raise BadRequest("The teacher cannot be a student of their own course")
        if student["role"] != "student":
            # Enrolling creates a project owned by the account with the teacher as editor: only for students, so a
            # teacher cannot put projects into another teacher's or an admin's account without their consent.
            article = "an" if student["role"][:1] in "aeiou" else "a"
            raise BadRequest(f"{student['name']} is {article} {student['role']}; only student accounts can be enrolled")
        if self.db.student(course["id"], student["id"]) is None:
            project_id = self.files.create_project(f"{course['title']} – {student['name']}", student["id"],
                                                   [course["teacher_id"]])
            self.db.add_student(course["id"], student["id"], project_id)
        return student["name"]

    def remove_student(self, cid: str, user: dict[str, Any], username: str) -> None:
        """Take a student off the course; their project stays theirs."""
        self.course_for(cid, user)
        student = self.accounts.users.get(username)
        self.db.remove_student(cid, student["id"])

    def students_named(self, cid: str, names: object) -> list[dict[str, Any]]:
        """The course's students, or those named in ``names`` (400 naming one that is not in the course)."""
        students = self.db.students(cid)
        if names is None:
            return students
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BadRequest("'students' must be a list of usernames")
        by_name = {s["username"]: s for s in students}
        missing = [n for n in names if n.strip().lower() not in by_name]
        if missing:
            raise BadRequest(f"Not students of this course: {', '.join(missing[:5])}")
        return [by_name[n.strip().lower()] for n in dict.fromkeys(names)]

    # Assignments
    def add_assignment(self, cid: str, user: dict[str, Any], name: object, kind: object = None,
                       due: object = None) -> dict[str, Any]:
        """Register a folder of the course project as an assignment or a handout."""
        course = self.course_for(cid, user)
        name = check_folder_name(name)
        kind = kind or "assignment"
        if kind not in KINDS:
            raise BadRequest(f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
        due_ts = times.parse(due)
        if not self.files.read_tree(course["project_id"], name):
            raise BadRequest(f"The course project has no folder {name!r} with files in it; make it first")
        row = self.db.add_assignment(cid, name, str(kind), due_ts)
        from .grading import max_score

        self.db.set_max_score(row["id"], max_score(self.files.read_tree(course["project_id"], name)))
        return assignment_model(self.db.assignment(cid, row["id"]))

    def patch_assignment(self, cid: str, user: dict[str, Any], aid: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change the due time and/or per-student extensions ``{username: due|null}``."""
        self.course_for(cid, user)
        row = self.db.assignment(cid, aid)
        extensions = body.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise BadRequest("'extensions' must be an object {username: due or null}")
        changes = []
        for name, when in (extensions or {}).items():
            student = self.accounts.users.find(name)
            if student is None or self.db.student(cid, student["id"]) is None:
                raise BadRequest(f"'extensions': {name!r} is not a student of this course")
            changes.append((student["id"], times.parse(when, f"extensions/{name}")))
        if "due" in body:
            self.db.set_due(row["id"], times.parse(body["due"]))
        for user_id, when in changes:
            self.db.set_extension(row["id"], user_id, when)
        return assignment_model(self.db.assignment(cid, aid))

    def due_of(self, assignment: dict[str, Any], username: str) -> float | None:
        """The due time of one student (their extension, else the assignment's)."""
        return assignment["extensions"].get(username, assignment["due"])

