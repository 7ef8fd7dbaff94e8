"""/api/courses: courses, students, assignments, bulk actions (jobs), submissions and grades, grade book.

Every handler: find the requester, call the manager, answer JSON.  Who may do what is the manager's
business (salvus_local/courses: the course's teacher or an admin; a student sees their own row).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from salvus_local.courses import Courses, actions, grades
from salvus_local.courses.autograde import autograde
from salvus_local.courses.feedback import return_one
from salvus_local.server.errors import APIError, get_json_body

from .jobs import CourseJobs

bp = Blueprint("courses", __name__)
ACTIONS = ("distribute", "collect", "autograde", "return")
_MAKE_LOCK = threading.Lock()  # two first requests at once must not make two managers (and lose a job list)


def _services() -> Any:
    return current_app.extensions["salvus"]


def courses() -> Courses:
    """The app's Courses manager (made on first use); 404 in single-user mode."""
    services = _services()
    if not getattr(services.auth, "multi_user", False):
        raise APIError(404, "Courses need --multi-user or --lan: start the server with one of them")
    if getattr(services, "courses", None) is None:
        from salvus_local.server.projects.workspace import workspace

        from .bridge import WorkspaceFiles

        with _MAKE_LOCK:
            if getattr(services, "courses", None) is None:
                ws = workspace()
                services.course_jobs = CourseJobs()
                services.courses = Courses(ws.store, services.auth.accounts,
                                           WorkspaceFiles(ws, services.auth.accounts))
    return services.courses


def jobs() -> CourseJobs:
    """The app's course jobs."""
    courses()
    return _services().course_jobs


def me() -> dict[str, Any]:
    """The signed-in user."""
    user = getattr(g.get("identity"), "user", None)
    if not user:
        raise APIError(403, "Sign in first")
    return user


def list_courses() -> Response:
    """Courses the requester teaches and takes."""
    return jsonify(courses().list(me()))


def create_course() -> tuple[Response, int]:
    """Create a course ``{title}`` (teachers and admins) with its course project."""
    body = get_json_body(required=True) or {}
    return jsonify(courses().create(me(), body.get("title"))), 201


def get_course(cid: str) -> Response:
    """The teacher's table, or a student's own row."""
    return jsonify(courses().view(cid, me()))


def add_students(cid: str) -> Response:
    """Enroll ``{usernames}`` or a text/csv class list ``username[,name,password]``."""
    if request.mimetype == "text/csv":
        return jsonify(courses().add_students(cid, me(), csv_text=request.get_data(as_text=True)))
    body = get_json_body(required=True) or {}
    return jsonify(courses().add_students(cid, me(), usernames=body.get("usernames")))


def remove_student(cid: str, username: str) -> Response:
    """Take a student off the course (their project stays theirs)."""
    courses().remove_student(cid, me(), username)
    return Response(status=204)


def add_assignment(cid: str) -> tuple[Response, int]:
    """Register ``{name, kind?, due?}``: a folder of the course project."""
    body = get_json_body(required=True) or {}
    return jsonify(courses().add_assignment(cid, me(), body.get("name"), body.get("kind"), body.get("due"))), 201


def patch_assignment(cid: str, aid: str) -> Response:
    """Change ``{due?, extensions?}``."""
    return jsonify(courses().patch_assignment(cid, me(), aid, get_json_body(required=True) or {}))


def bulk(cid: str, aid: str, action: str) -> tuple[Response, int]:
    """Start distribute|collect|autograde|return for every student (or ``{students: [..]}``): 202 {job}."""
    if action not in ACTIONS:
        raise APIError(404, f"No such action: {action}; use one of {', '.join(ACTIONS)}")
    cm = courses()
    course = cm.course_for(cid, me())
    assignment = cm.db.assignment(cid, aid)
    body = get_json_body() or {}
    students = cm.students_named(cid, body.get("students"))
    if action != "distribute" and assignment["kind"] == "handout":
        raise APIError(400, f"{assignment['name']} is a handout: it is only distributed")
    step, prepare, workers = _plan(cm, course, assignment, action)
    job = jobs().start(cid, action, students, step, workers, prepare)
    return jsonify({"job": job["id"]}), 202


def _plan(cm: Courses, course: dict[str, Any], assignment: dict[str, Any], action: str) -> tuple[Any, Any, int]:
    """(step per student, preparation run once in the job, workers) of an action."""
    if action == "distribute":
        version: dict[str, bytes] = {}

        def prepare() -> None:
            version.update(actions.student_version(cm, course, assignment))

        return (lambda s: actions.distribute(cm, assignment, s, version)), prepare, 4
    if action == "collect":
        return (lambda s: actions.collect(cm, assignment, s, course)), None, 4
    if action == "autograde":
        source: dict[str, bytes] = {}
        executor = _executor()

        def prepare_source() -> None:
            source.update(cm.files.read_tree(course["project_id"], assignment["name"]))

        def step(s: dict[str, Any]) -> tuple[str, str]:
            return autograde(cm, course, assignment, s, source, executor.run)

        return step, prepare_source, _grade_workers()
    return (lambda s: return_one(cm, course, assignment, s)), None, 4


def _executor() -> Any:
    services = _services()
    if getattr(services, "course_executor", None) is None:
        from salvus_local.server.projects.workspace import workspace

        from .executor import CellExecutor
        from .grading_uids import GradingUids

        with _MAKE_LOCK:
            if getattr(services, "course_executor", None) is None:
                uids = workspace().projects.uids
                pool = GradingUids(uids) if uids is not None else None
                if pool is not None:
                    pool.reclaim()  # per-project grading uids of older servers: cleaned and given back
                services.course_executor = CellExecutor(services.config, services.kernels, pool)
    return services.course_executor


def _grade_workers() -> int:
    """Submissions graded at once: the setting, else one per core (at least 2: a session waits on I/O too)."""
    return int(_services().config.grade_workers) or max(2, os.cpu_count() or 2)


def get_job(cid: str, job_id: str) -> Response:
    """Progress and per-student results of a bulk action."""
    courses().course_for(cid, me())
    return jsonify(jobs().get(cid, job_id))


def get_submission(cid: str, aid: str, username: str) -> Response:
    """One student's graded cells for manual grading."""
    return jsonify(grades.submission(courses(), cid, me(), aid, username))


def put_grade(cid: str, aid: str, username: str, grade_id: str) -> Response:
    """Manual ``{points?, comment?}`` of one graded cell (``?notebook=`` when the id is in several)."""
    body = get_json_body(required=True) or {}
    return jsonify(grades.set_grade(courses(), cid, me(), aid, username, grade_id, body, request.args.get("notebook")))


def gradebook(cid: str) -> Response:
    """The grade book as CSV."""
    text = grades.gradebook_csv(courses(), cid, me())
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="gradebook-{cid}.csv"'})


_C = "/api/courses/<cid>"
_A = f"{_C}/assignments/<aid>"
ROUTES = [
    ("/api/courses", list_courses, ["GET"]),
    ("/api/courses", create_course, ["POST"]),
    (_C, get_course, ["GET"]),
    (f"{_C}/students", add_students, ["POST"]),
    (f"{_C}/students/<username>", remove_student, ["DELETE"]),
    (f"{_C}/assignments", add_assignment, ["POST"]),
    (_A, patch_assignment, ["PATCH"]),
    (f"{_C}/jobs/<job_id>", get_job, ["GET"]),
    (f"{_A}/submissions/<username>", get_submission, ["GET"]),
    (f"{_A}/submissions/<username>/grades/<grade_id>", put_grade, ["PUT"]),
    (f"{_C}/gradebook.csv", gradebook, ["GET"]),
]
for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
for _action in ACTIONS:  # one route each, so each has its own entry in the OpenAPI document
    bp.add_url_rule(f"{_A}/{_action}", endpoint=f"bulk_{_action}", view_func=bulk, methods=["POST"],
                    defaults={"action": _action})
