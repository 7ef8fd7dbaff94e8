"""Peer review: each collected submission goes, without its author's name, to N other students who score it.

The teacher sets it up per assignment (N, a grading guide in markdown, a due time), assigns it after
collecting (anonymize.pairs: balanced, nobody themself, replayable from the stored seed), and each
reviewer finds their copies in ``<assignment>-peer-review/<anonymous id>/`` of their own course
project.  Reviews (points per question, one comment) go to SQLite through the API, never to a file an
author or another reviewer could read.  Collecting and grading from the reviews: peer_grades.py.
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

from salvus_local.store.errors import BadRequest, Conflict, NotFound

from . import grading, times
from .anonymize import pairs, strip_tree

MAX_PER_SUBMISSION = 10
MAX_GUIDE = 50_000
MAX_COMMENT = 20_000
HANDED_IN = ("collected", "graded", "returned")


def folder_of(assignment: dict[str, Any]) -> str:
    """The folder of the reviewer's project the copies go into."""
    return f"{assignment['name']}-peer-review"


def questions_of(source: dict[str, bytes]) -> list[dict[str, Any]]:
    """What reviewers score: the answers graded by hand (and tasks) of the source; every graded cell when none.

    400 when there is nothing to score or a grade_id is in two notebooks (a review names questions by id)."""
    graded = []
    for rel, data in sorted(source.items()):
        nb = grading.read_nb(data) if rel.endswith(".ipynb") else None
        for cell in (nb.cells if nb else []):
            kind = grading.kind_of(cell)
            if kind:
                graded.append({"notebook": rel, "grade_id": grading.meta(cell)["grade_id"], "kind": kind,
                               "max_points": float(grading.meta(cell).get("points") or 0)})
    by_hand = [q for q in graded if q["kind"] != grading.KIND_AUTO] or graded
    if not by_hand:
        raise BadRequest("The assignment has no graded cells (nbgrader metadata) for reviewers to score")
    ids = [q["grade_id"] for q in by_hand]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise BadRequest(f"Grade id {twice[0]!r} is in several notebooks; peer review needs each id once")
    return by_hand


def brief(settings: dict[str, Any] | None) -> dict[str, Any] | None:
    """What every member of the course sees of an assignment's peer review (in the assignment model)."""
    if settings is None:
        return None
    state = "closed" if settings["closed_at"] else "assigned" if settings["assigned_at"] else "set"
    return {"per_submission": settings["per_submission"], "due": times.iso(settings["due"]), "state": state}


def settings_model(settings: dict[str, Any]) -> dict[str, Any]:
    """The teacher's view of the settings."""
    return {**(brief(settings) or {}), "guide": settings["guide"] or "", "seed": settings["seed"],
            "assigned_at": times.iso(settings["assigned_at"]), "closed_at": times.iso(settings["closed_at"]),
            "questions": settings["questions"]}


def put_settings(courses: Any, cid: str, user: dict[str, Any], aid: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """Set up (or with ``enabled: false`` turn off) peer review: ``{per_submission?, guide?, due?, seed?}``."""
    course = courses.course_for(cid, user)
    assignment = courses.db.assignment(cid, aid)
    if assignment["kind"] != "assignment":
        raise BadRequest(f"{assignment['name']} is a handout: only assignments are reviewed")
    old = courses.peer.settings(assignment["id"])
    if body.get("enabled") is False:
        if old and old["assigned_at"]:
            raise Conflict("Peer review of this assignment is assigned already; it cannot be turned off")
        courses.peer.delete_settings(assignment["id"])
        return None
    fields: dict[str, Any] = {}
    if "per_submission" in body or old is None:
        n = body.get("per_submission", 2)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PER_SUBMISSION:
            raise BadRequest(f"'per_submission' must be a whole number from 1 to {MAX_PER_SUBMISSION}")
        fields["per_submission"] = n
    if "guide" in body:
        if not isinstance(body["guide"], str) or len(body["guide"]) > MAX_GUIDE:
            raise BadRequest(f"'guide' must be markdown text of at most {MAX_GUIDE} characters")
        fields["guide"] = body["guide"]
    if "due" in body:
        fields["due"] = times.parse(body["due"], "due")
    if "seed" in body or old is None:
        seed = body.get("seed") or secrets.token_hex(8)
        if not isinstance(seed, str) or len(seed) > 64:
            raise BadRequest("'seed' must be text of at most 64 characters")
        fields["seed"] = seed
    if old and old["assigned_at"] and ({"per_submission", "seed"} & set(body)):
        raise Conflict("Peer review is assigned already: 'per_submission' and 'seed' can no longer change")
    fields["questions"] = questions_of(courses.files.read_tree(course["project_id"], assignment["name"]))
    return settings_model(courses.peer.put_settings(assignment["id"], **fields))


def plan(courses: Any, cid: str, assignment: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Pair the submissions handed in (first time), or keep the stored pairs; (settings, newly assigned)."""
    settings = courses.peer.settings(assignment["id"])
    if settings is None:
        raise BadRequest(f"Peer review is not set up for {assignment['name']}: set it up first")
    if settings["assigned_at"]:
        return settings, False
    students = courses.db.students(cid)
    subs = {s["user_id"]: s for s in courses.db.submissions(cid) if s["assignment_id"] == assignment["id"]}
    authors = [s for s in students if (subs.get(s["user_id"]) or {}).get("state") in HANDED_IN
               and subs[s["user_id"]].get("collected_at")]
    n = settings["per_submission"]
    if len(authors) <= n:
        raise BadRequest(f"{len(authors)} submission(s) collected: {n} reviews per submission need at least "
                         f"{n + 1}; collect first, or lower the number of reviews")
    ids = {s["username"]: s["user_id"] for s in authors}
    rows, used = [], set()
    for author, reviewers in pairs(list(ids), n, settings["seed"]).items():
        for reviewer in reviewers:
            anon = secrets.token_hex(3)
            while anon in used:
                anon = secrets.token_hex(3)
            used.add(anon)
            rows.append({"author_id": ids[author], "reviewer_id": ids[reviewer], "anon_id": f"submission-{anon}"})
    courses.peer.assign(assignment["id"], rows)
    return courses.peer.settings(assignment["id"]), True


def copy_for(courses: Any, course: dict[str, Any], assignment: dict[str, Any], settings: dict[str, Any],
             student: dict[str, Any]) -> tuple[str, str]:
    """Write the submissions student reviews (author-free) and the guide into their project; (status, message)."""
    reviews = courses.peer.reviews(assignment["id"], reviewer_id=student["user_id"])
    if not reviews:
        return "skipped", "no submission of theirs was collected before peer review was assigned: nothing to review"
    top = folder_of(assignment)
    files = courses.files
    if settings["guide"]:
        files.write(student["project_id"], f"{top}/GUIDE.md", settings["guide"].encode("utf-8"))
    authors = {s["user_id"]: s for s in courses.db.students(course["id"])}
    for review in reviews:
        author = authors.get(review["author_id"])
        if author is None:
            continue  # left the course since: nothing to show
        tree = files.read_tree(course["project_id"], f"collected/{assignment['name']}/{author['username']}")
        clean = strip_tree(tree, [author["username"], author["name"], author["project_id"]])
        for rel, data in clean.items():
            files.write(student["project_id"], f"{top}/{review['anon_id']}/{rel}", data)
    return "ok", f"{len(reviews)} submission(s) to review in {top}/"


def _question_ids(settings: dict[str, Any]) -> dict[str, float]:
    return {q["grade_id"]: q["max_points"] for q in settings["questions"]}


def done(review: dict[str, Any], settings: dict[str, Any]) -> bool:
    """A review is done when it gives points for every question."""
    return all(review["points"].get(q) is not None for q in _question_ids(settings))


def _mine(review: dict[str, Any], settings: dict[str, Any], assignment: dict[str, Any]) -> dict[str, Any]:
    return {"id": review["anon_id"], "folder": f"{folder_of(assignment)}/{review['anon_id']}",
            "points": review["points"], "comment": review["comment"] or "", "done": done(review, settings),
            "updated": times.iso(review["updated"])}


def reviewer_view(courses: Any, cid: str, user: dict[str, Any], aid: str) -> dict[str, Any]:
    """A student's reviews to do: the guide, the questions, and per anonymous submission their points and comment."""
    courses.course_for(cid, user, needed="student")
    assignment = courses.db.assignment(cid, aid)
    settings = courses.peer.settings(assignment["id"])
    if settings is None or not settings["assigned_at"]:
        raise NotFound(f"No peer review of {assignment['name']} is assigned")
    reviews = courses.peer.reviews(assignment["id"], reviewer_id=user["id"])
    return {"assignment": {"id": assignment["id"], "name": assignment["name"]}, **(brief(settings) or {}),
            "guide": settings["guide"] or "", "questions": settings["questions"], "folder": folder_of(assignment),
            "reviews": [_mine(r, settings, assignment) for r in reviews]}


def save_review(courses: Any, cid: str, user: dict[str, Any], aid: str, anon_id: str,
                body: dict[str, Any]) -> dict[str, Any]:
    """Store ``{points?: {grade_id: points|null}, comment?}`` of one of the requester's reviews."""
    courses.course_for(cid, user, needed="student")
    assignment = courses.db.assignment(cid, aid)
    settings = courses.peer.settings(assignment["id"])
    mine = courses.peer.reviews(assignment["id"], reviewer_id=user["id"]) if settings else []
    review = next((r for r in mine if r["anon_id"] == anon_id), None)
    if settings is None or review is None:
        raise NotFound(f"You have no review {anon_id!r} of {assignment['name']}")
    if settings["closed_at"]:
        raise Conflict("Peer review of this assignment is closed: your teacher collected the reviews")
    if settings["due"] is not None and time.time() > settings["due"]:
        raise Conflict(f"Peer review of this assignment was due {times.iso(settings['due'])}; ask your teacher")
    points = dict(review["points"])
    if "points" in body:
        given = body["points"]
        if not isinstance(given, dict):
            raise BadRequest("'points' must be an object {grade_id: points}")
        limits = _question_ids(settings)
        for gid, value in given.items():
            if gid not in limits:
                raise BadRequest(f"'points': {gid!r} is not a question of this review ({', '.join(limits)})")
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or not 0 <= value <= limits[gid]):
                raise BadRequest(f"'points/{gid}' must be a number from 0 to {limits[gid]:g}, or null")
            if value is None:
                points.pop(gid, None)
            else:
                points[gid] = float(value)
    comment = review["comment"] or ""
    if "comment" in body:
        if not isinstance(body["comment"], str) or len(body["comment"]) > MAX_COMMENT:
            raise BadRequest(f"'comment' must be text of at most {MAX_COMMENT} characters")
        comment = body["comment"]
    if "points" not in body and "comment" not in body:
        raise BadRequest("Give 'points' and/or 'comment'")
    courses.peer.save_review(assignment["id"], anon_id, points, comment)
    saved = next(r for r in courses.peer.reviews(assignment["id"], reviewer_id=user["id"]) if r["anon_id"] == anon_id)
    return _mine(saved, settings, assignment)
