"""The course pages of the client (multi-user mode; the API answers 404 in single-user mode).

``/courses`` lists the courses one teaches or is enrolled in (and creates one), ``/courses/<cid>``
is the teacher's students × assignments table or a student's own assignments,
``/courses/<cid>/grade/<aid>/<username>`` grades one submission by hand, and
``/courses/<cid>/review/<aid>`` is where a student scores the anonymous submissions given them to review.
They are static client pages: the client reads the ids from its URL, and who may see what is decided by the courses API.
"""

from __future__ import annotations

from flask import Blueprint

# (url, client page, title, what it shows)
COURSE_PAGES = [
    ("/courses", "courses", "Courses", "The courses you teach or take; teachers create one here."),
    ("/courses/<cid>", "course", "Course", "A course: the teacher's table and actions, or a student's assignments."),
    ("/courses/<cid>/grade/<aid>/<username>", "grade", "Grading", "Grade one student's submission by hand."),
    ("/courses/<cid>/review/<aid>", "review", "Peer review", "A student's peer reviews of an assignment."),
]


def register(bp: Blueprint) -> None:
    """Add the course pages to the pages blueprint."""
    from . import add_pages

    add_pages(bp, COURSE_PAGES, "course")
