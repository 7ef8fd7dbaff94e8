"""Peer review for the teacher: every submission's reviews (reviewers named), status counts, the grade from peers.

The grade from peers goes into the same grade rows manual grading writes (``manual_points`` of each
question), so the teacher overrides it by hand on the grading page and the grade book, totals and
returned feedback need nothing new.  Authors get their reviews' points and comments without names.
"""

from __future__ import annotations

import statistics
from typing import Any

from salvus_local.store.errors import NotFound

from . import grading, times
from .peer import brief, done, settings_model

METHODS = ("median", "mean")


def _review_model(review: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    return {"id": review["anon_id"], "reviewer": review["reviewer"], "reviewer_name": review["reviewer_name"],
            "points": review["points"], "comment": review["comment"] or "", "done": done(review, settings),
            "updated": times.iso(review["updated"])}


def peer_grade(reviews: list[dict[str, Any]], settings: dict[str, Any], method: str) -> dict[str, float]:
    """{grade_id: the median or mean of the points reviewers gave} (questions nobody scored are left out)."""
    combine = statistics.median if method == "median" else statistics.fmean
    out = {}
    for q in settings["questions"]:
        given = [r["points"][q["grade_id"]] for r in reviews if r["points"].get(q["grade_id"]) is not None]
        if given:
            out[q["grade_id"]] = round(float(combine(given)), 2)
    return out


def overview(courses: Any, cid: str, user: dict[str, Any], aid: str) -> dict[str, Any]:
    """The teacher's page: settings, each submission's reviews with the reviewers named, who was left out."""
    courses.course_for(cid, user)
    assignment = courses.db.assignment(cid, aid)
    settings = courses.peer.settings(assignment["id"])
    if settings is None:
        raise NotFound(f"Peer review is not set up for {assignment['name']}")
    reviews = courses.peer.reviews(assignment["id"])
    submissions = []
    left_out = []
    for s in courses.db.students(cid):
        mine = [r for r in reviews if r["author_id"] == s["user_id"]]
        if not mine:
            left_out.append(s["username"])
            continue
        submissions.append({"username": s["username"], "name": s["name"],
                            "reviews": [_review_model(r, settings) for r in mine],
                            "to_review": sum(r["reviewer_id"] == s["user_id"] for r in reviews),
                            "reviewed": sum(r["reviewer_id"] == s["user_id"] and done(r, settings) for r in reviews),
                            **{m: peer_grade(mine, settings, m) for m in METHODS}})
    return {"assignment": {"id": assignment["id"], "name": assignment["name"]}, "settings": settings_model(settings),
            "submissions": submissions, "left_out": left_out if settings["assigned_at"] else []}


def status(courses: Any, cid: str, assignments: list[dict[str, Any]]) -> dict[tuple[int, int], dict[str, int]]:
    """{(assignment id, user id): {to_review, reviewed, received, received_done}} of assigned peer reviews."""
    out: dict[tuple[int, int], dict[str, int]] = {}
    for aid, settings in courses.peer.of_course([a["id"] for a in assignments]).items():
        if not settings["assigned_at"]:
            continue
        for r in courses.peer.reviews(aid):
            finished = int(done(r, settings))
            mine = out.setdefault((aid, r["reviewer_id"]), {"to_review": 0, "reviewed": 0, "received": 0,
                                                            "received_done": 0})
            mine["to_review"] += 1
            mine["reviewed"] += finished
            theirs = out.setdefault((aid, r["author_id"]), {"to_review": 0, "reviewed": 0, "received": 0,
                                                            "received_done": 0})
            theirs["received"] += 1
            theirs["received_done"] += finished
    return out


def collect_one(courses: Any, assignment: dict[str, Any], settings: dict[str, Any], student: dict[str, Any],
                method: str | None) -> tuple[str, str]:
    """One author's reviews after closing: how many are done, and with ``method`` their grade; (status, message)."""
    aid, uid = assignment["id"], student["user_id"]
    reviews = courses.peer.reviews(aid, author_id=uid)
    if not reviews:
        return "skipped", "not in the peer review (nothing collected when it was assigned)"
    finished = sum(done(r, settings) for r in reviews)
    message = f"{finished} of {len(reviews)} reviews done"
    if method is None:
        return "ok", message
    grade = peer_grade(reviews, settings, method)
    if not grade:
        return "ok", message + "; no points from peers, not graded"
    rows = {(r["notebook"], r["grade_id"]): r for r in courses.db.grades(aid, uid)}
    if not rows:
        return "skipped", message + "; autograde first (the peer grade goes into the graded cells)"
    for q in settings["questions"]:
        if q["grade_id"] in grade and (q["notebook"], q["grade_id"]) in rows:
            courses.db.set_grade(aid, uid, q["notebook"], q["grade_id"], {"manual_points": grade[q["grade_id"]]})
    got, top, needs = grading.totals(courses.db.grades(aid, uid))
    courses.db.update_submission(aid, uid, score=got, max_score=top, needs_manual=int(needs),
                                 message="needs manual grading" if needs else "")
    return "ok", f"{message}; {method} of peers: {got:g} / {top:g}"


def reviews_of(courses: Any, aid: int, user_id: int) -> list[dict[str, Any]] | None:
    """The teacher's list of one submission's reviews (reviewers named), or None without peer review."""
    settings = courses.peer.settings(aid)
    if settings is None or not settings["assigned_at"]:
        return None
    return [_review_model(r, settings) for r in courses.peer.reviews(aid, author_id=user_id)]


def for_author(courses: Any, aid: int, user_id: int) -> list[dict[str, Any]]:
    """What the author gets back: each review's points and comment, numbered, without the reviewer."""
    settings = courses.peer.settings(aid)
    if settings is None or not settings["assigned_at"]:
        return []
    rows = [r for r in courses.peer.reviews(aid, author_id=user_id) if r["points"] or (r["comment"] or "").strip()]
    return [{"number": i + 1, "points": r["points"], "comment": r["comment"] or ""} for i, r in enumerate(rows)]


__all__ = ["METHODS", "brief", "collect_one", "for_author", "overview", "peer_grade", "reviews_of", "status"]
