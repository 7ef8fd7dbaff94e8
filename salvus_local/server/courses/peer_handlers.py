"""/api/courses/<cid>/assignments/<aid>/peer…: peer review over HTTP (thin handlers over courses/peer*.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from salvus_local.courses import peer, peer_grades
from salvus_local.server.errors import APIError, get_json_body

from .handlers import bp, courses, jobs, me


def get_peer(cid: str, aid: str) -> Response:
    """The teacher's overview (reviewers named), or a student's own reviews to do."""
    cm = courses()
    user = me()
    if cm.role(cm.db.get(cid), user) == "teacher":
        return jsonify(peer_grades.overview(cm, cid, user, aid))
    return jsonify(peer.reviewer_view(cm, cid, user, aid))


def put_peer(cid: str, aid: str) -> Response:
    """Set up peer review ``{per_submission?, guide?, due?, seed?}``, or turn it off with ``{enabled: false}``."""
    settings = peer.put_settings(courses(), cid, me(), aid, get_json_body(required=True) or {})
    return jsonify({"enabled": settings is not None, "settings": settings})


def assign(cid: str, aid: str) -> tuple[Response, int]:
    """Pair the collected submissions (first time) and copy them, author-free, to their reviewers: 202 {job}."""
    cm = courses()
    course = cm.course_for(cid, me())
    assignment = cm.db.assignment(cid, aid)
    settings, _new = peer.plan(cm, cid, assignment)
    job = jobs().start(cid, "peer-assign", cm.db.students(cid),
                       lambda s: peer.copy_for(cm, course, assignment, settings, s), 4)
    return jsonify({"job": job["id"]}), 202


def collect(cid: str, aid: str) -> tuple[Response, int]:
    """Close reviewing; with ``{grade: median|mean}`` each submission's questions get that of its peers' points."""
    cm = courses()
    cm.course_for(cid, me())
    assignment = cm.db.assignment(cid, aid)
    body = get_json_body() or {}
    method = body.get("grade")
    if method is not None and method not in peer_grades.METHODS:
        raise APIError(400, f"'grade' must be one of {', '.join(peer_grades.METHODS)}, or null to grade by hand")
    settings = cm.peer.settings(assignment["id"])
    if settings is None or not settings["assigned_at"]:
        raise APIError(400, f"Peer review of {assignment['name']} is not assigned yet: assign it first")
    cm.peer.close(assignment["id"])
    job = jobs().start(cid, "peer-collect", cm.db.students(cid),
                       lambda s: peer_grades.collect_one(cm, assignment, settings, s, method), 4)
    return jsonify({"job": job["id"]}), 202


def put_review(cid: str, aid: str, review: str) -> Response:
    """A reviewer's ``{points?: {grade_id: points|null}, comment?}`` of one anonymous submission."""
    return jsonify(peer.save_review(courses(), cid, me(), aid, review, get_json_body(required=True) or {}))


_P = "/api/courses/<cid>/assignments/<aid>/peer"
ROUTES: list[tuple[str, Any, list[str]]] = [
    (_P, get_peer, ["GET"]),
    (_P, put_peer, ["PUT"]),
    (f"{_P}/assign", assign, ["POST"]),
    (f"{_P}/collect", collect, ["POST"]),
    (f"{_P}/reviews/<review>", put_review, ["PUT"]),
]
for rule, view, methods in ROUTES:  # at import, once: before the blueprint is registered
    bp.add_url_rule(rule, endpoint=f"peer_{view.__name__}", view_func=view, methods=methods)
