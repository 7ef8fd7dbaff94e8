"""The course pages in real Chromium against a real ``salvus-local --multi-user``.

The teacher's whole cycle in the browser: create a course, add students (picked from the accounts and
from a CSV class list), add an assignment from a folder of the course project with a due date, give an
extension, distribute (the progress completes), a student edits their copy (through the API), collect,
autograde, grade a question by hand on the grading page (saved state, total, next student), return;
then each student's page shows their own assignment and feedback and nobody else's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.accounts.conftest import PASSWORD, Person, make_user
from tests.conftest import Server
from tests.courses.conftest import get_notebook, homework, put_notebook

# Set SALVUS_SCREENSHOTS=DIR to keep the screenshots this test takes.
SHOTS = os.environ.get("SALVUS_SCREENSHOTS")
KERNELS = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python"}
JOB_TIMEOUT_MS = 240_000
T = 30_000  # what waits on the server (making projects, polling) may be slow on a loaded 2-core machine


@pytest.fixture(scope="module")
def multi(browser: object) -> Iterator[Server]:
    """One multi-user server (Python kernels) for this module."""
    srv = Server("--multi-user", env=KERNELS)
    yield srv
    srv.stop()


def person(srv: Server, role: str = "student", prefix: str = "s") -> Person:
    """A signed-in account for API calls; one connection per request, because the browser steps between calls
    outlast the server's 5 s keep-alive and a reused connection can meet the server closing it."""
    p = make_user(srv, role=role, prefix=prefix)
    p.s.headers["Connection"] = "close"
    return p


def browser_as(browser: object, srv: Server, person: Person, path: str, width: int = 1280, height: int = 800) -> Any:
    """A fresh browser context signed in as person through the login form, on path; records page errors."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(srv.url("/login", next=path))
    page.fill("#username", person.name)
    page.fill("#password", PASSWORD)
    page.click("form.password-login button[type=submit]")
    page.wait_for_url(re.compile(re.escape(srv.url(path)) + r"$"))
    return page


def shot(page: Any, name: str) -> None:
    """Keep a screenshot when SALVUS_SCREENSHOTS names a folder."""
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"courses-{name}.png"))


def cell(page: Any, aid: int, username: str) -> Any:
    """The table cell of one student's step of one assignment."""
    return page.locator(f".step-cell[data-aid='{aid}'][data-username='{username}']")


def run_action(page: Any, aid: int, action: str) -> Any:
    """Click a column's bulk action and wait until its job's progress completes; return the job element."""
    page.locator(f".assignment-col[data-aid='{aid}'] .a-action[data-action={action}]").click()
    if action == "collect" and page.locator(".ask-dialog").count():
        page.locator(".ask-dialog [type=submit]").click()  # collecting before the due date asks first
    job = page.locator(f".job[data-action={action}]").first
    expect(job).to_have_attribute("data-state", re.compile("done|failed"), timeout=JOB_TIMEOUT_MS)
    bar = job.locator("progress")
    assert bar.evaluate("b => b.value === b.max"), job.inner_text()
    return job


def no_sideways_scroll(page: Any) -> None:
    """The page itself never scrolls sideways (the table scrolls inside its own box)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_teacher_runs_an_assignment_cycle_in_the_browser(browser: object, multi: Server) -> None:
    teacher = person(multi, role="teacher", prefix="t")
    picked = [person(multi) for _ in range(2)]
    csv_name = f"c{picked[0].name}"  # made by the CSV import (its line has a password)

    # Create the course from /courses.
    page = browser_as(browser, multi, teacher, "/courses")
    expect(page.locator(".enrolled-list")).to_be_hidden(timeout=T)  # a teacher enrolled nowhere is not told so
    page.fill(".create-course input[name=title]", "Linear algebra")
    page.click(".create-course button")
    page.wait_for_url(re.compile(r"/courses/[^/]+$"))
    cid = page.url.rsplit("/", 1)[1]
    course = teacher.get(f"/api/courses/{cid}").json()["course"]
    expect(page.locator(".course-head h1")).to_have_text("Linear algebra", timeout=T)
    expect(page.locator(".empty-course")).to_be_visible(timeout=T)

    # The assignment's source is a folder of the course project (written through its API).
    put_notebook(teacher, course["project_id"], "hw1/hw1.ipynb", homework())

    # Add students: two picked from the accounts, one from a CSV class list.
    page.click(".add-students")
    dialog = page.locator(".add-students-dialog")
    for p in picked:
        dialog.locator(f".pick-row[data-name='{p.name}'] input").check()
    dialog.locator(".add-picked").click()
    expect(dialog.locator(".import-result")).to_contain_text("2 added", timeout=T)
    dialog.locator(".csv-input").fill(f"username,name,password\n{csv_name},Carla CSV,{PASSWORD}\nnobody-here,,\n")
    dialog.locator(".add-csv").click()
    expect(dialog.locator(".import-result")).to_contain_text("1 added, 1 not added", timeout=T)
    expect(dialog.locator(".import-errors")).to_contain_text("nobody-here", timeout=T)
    page.keyboard.press("Escape")
    students = [p.name for p in picked] + [csv_name]
    for name in students:
        expect(page.locator(f".student-row[data-username='{name}']")).to_be_visible(timeout=T)

    # Add the assignment from the folder, with a due date.
    page.click(".add-assignment")
    form = page.locator(".add-assignment-dialog")
    expect(form.locator(".folder-select option[value=hw1]")).to_have_count(1, timeout=T)
    form.locator(".folder-select").select_option("hw1")
    form.locator("input[name=due]").fill("2030-01-01T09:00")
    form.locator("button.primary").click()
    column = page.locator(".assignment-col[data-name=hw1]")
    expect(column).to_be_visible(timeout=T)
    aid = int(column.get_attribute("data-aid"))
    expect(column.locator(".due-button")).to_contain_text("2030", timeout=T)
    expect(cell(page, aid, students[0]).locator(".step")).to_have_text("not yet", timeout=T)

    # An extension for one student, from their cell.
    cell(page, aid, students[1]).locator(".cell-menu").click()
    page.locator(".cell-dialog .extension-input").fill("2030-01-08T09:00")
    page.locator(".cell-dialog .save-extension").click()
    expect(cell(page, aid, students[1]).locator(".extension-note")).to_contain_text("ext.", timeout=T)
    extensions = teacher.get(f"/api/courses/{cid}").json()["assignments"][0]["extensions"]
    assert list(extensions) == [students[1]]

    # Distribute: the job's bar completes and every cell says so.
    job = run_action(page, aid, "distribute")
    expect(job).to_contain_text("3 ok", timeout=T)
    for name in students:
        expect(cell(page, aid, name).locator(".step")).to_have_text("distributed", timeout=T)
    shot(page, "distributed")

    # A student answers in their own copy (through the API, as their notebook page would save it).
    student = picked[0]
    own = student.get(f"/api/courses/{cid}").json()["project_id"]
    work = get_notebook(student, own, "hw1/hw1.ipynb")
    for c in work["cells"]:
        grade_id = c["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id == "square":
            c["source"] = "def square(x):\n    return x * x"
        elif grade_id == "why":
            c["source"] = "Because $x \\cdot x = x^2$, *always*."
    put_notebook(student, own, "hw1/hw1.ipynb", work)

    # Collect (before the due date: the page asks first), then autograde.
    run_action(page, aid, "collect")
    for name in students:
        expect(cell(page, aid, name).locator(".step")).to_contain_text("collected", timeout=T)
    run_action(page, aid, "autograde")
    expect(cell(page, aid, student.name).locator(".step")).to_contain_text("graded", timeout=T)
    shot(page, "autograded")

    # Grade the explanation by hand on the grading page.
    cell(page, aid, student.name).locator(".grade-link").click()
    page.wait_for_url(re.compile(rf"/courses/{cid}/grade/{aid}/{student.name}$"))
    question = page.locator(".grade-cell[data-grade-id=why]")
    expect(question.locator(".answer")).to_contain_text("always", timeout=T)
    expect(question.locator(".answer .katex").first).to_be_visible(timeout=T)  # the student's math is typeset
    expect(page.locator(".grade-cell[data-grade-id=test_square] .auto-points")).to_contain_text("3/3", timeout=T)
    total_before = page.locator(".grade-total").inner_text()
    question.locator(".points-input").fill("2")
    question.locator(".points-input").press("Tab")
    expect(question.locator(".saved-state")).to_have_attribute("data-state", "saved", timeout=T)
    question.locator(".comment-input").fill("Clear and right.")
    expect(question.locator(".saved-state")).to_have_attribute("data-state", "saved", timeout=T)
    expect(question.locator(".saved-state")).to_have_text("Saved", timeout=T)
    expect(page.locator(".grade-total")).not_to_have_text(total_before, timeout=T)
    expect(page.locator(".grade-total")).to_have_text("6/6", timeout=T)
    shot(page, "grading")
    # On a phone the grade box stacks under the answer, and nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    answer, box = question.locator(".answer-col").bounding_box(), question.locator(".grade-box").bounding_box()
    assert box["y"] >= answer["y"] + answer["height"] - 1 and box["width"] > 300, (answer, box)
    no_sideways_scroll(page)
    shot(page, "grading-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    sub = teacher.get(f"/api/courses/{cid}/assignments/{aid}/submissions/{student.name}").json()
    why = next(c for nb in sub["notebooks"] for c in nb["cells"] if c["grade_id"] == "why")
    assert why["manual_points"] == 2 and why["comment"] == "Clear and right."
    # To a neighbour in the class list, and back.
    there, back = ("next", "prev") if page.locator("a.next-student").count() else ("prev", "next")
    page.locator(f"a.{there}-student").click()
    page.wait_for_url(re.compile(rf"/grade/{aid}/(?!{student.name}$)[^/]+$"))
    expect(page.locator(".grade-cell").first).to_be_visible(timeout=T)
    page.locator(f"a.{back}-student").click()
    page.wait_for_url(re.compile(rf"/grade/{aid}/{student.name}$"))
    expect(page.locator(".grade-cell[data-grade-id=why] .points-input")).to_have_value("2", timeout=T)

    # Return, from the course page.
    page.locator(".courses-link").click()
    run_action(page, aid, "return")
    for name in students:
        expect(cell(page, aid, name).locator(".step")).to_contain_text("returned", timeout=T)
    expect(cell(page, aid, student.name).locator(".step")).to_contain_text("6/6", timeout=T)
    # The grade book the page links to has the hand-given points in the total.
    book = page.request.get(multi.url(page.locator(".gradebook").get_attribute("href")))
    assert book.ok and "text/csv" in book.headers["content-type"]
    line = next(x for x in book.text().splitlines() if x.startswith(student.name + ","))
    assert line.split(",")[-1].strip() in ("6", "6.0"), line
    # A handout as a second column (the table polls): on a phone the table scrolls sideways inside its box
    # while the student names stay put.
    put_notebook(teacher, course["project_id"], "reading/notes.ipynb", homework())
    assert teacher.post(f"/api/courses/{cid}/assignments", json={"name": "reading", "kind": "handout"}).status_code == 201
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".assignment-col[data-name=reading] .kind-badge")).to_have_text("handout", timeout=T)
    no_sideways_scroll(page)
    wrap = page.locator(".course-table-wrap")
    name_cell = page.locator(f".student-row[data-username='{student.name}'] .student-col")
    left = name_cell.bounding_box()["x"]
    assert wrap.evaluate("w => { w.scrollLeft = 200; return w.scrollLeft; }") > 0
    assert abs(name_cell.bounding_box()["x"] - left) < 1
    assert cell(page, aid, student.name).bounding_box()["x"] < left + 100  # the step cells moved under it
    shot(page, "table-phone")
    assert page.errors == []
    page.context.close()

    # Each student sees their own assignment, score and feedback, and nobody else's.
    mine = browser_as(browser, multi, student, f"/courses/{cid}", 390, 844)
    row = mine.locator(".my-assignment[data-name=hw1]")
    expect(row.locator(".step")).to_have_text("returned", timeout=T)
    expect(row.locator(".my-score")).to_have_text("6/6", timeout=T)
    feedback = row.locator(".feedback-link")
    assert f"/p/{own}/files/hw1/feedback/" in feedback.get_attribute("href")
    expect(mine.locator(".course-table")).to_have_count(0, timeout=T)
    for other in students[1:]:
        expect(mine.locator("body")).not_to_contain_text(other, timeout=T)
    no_sideways_scroll(mine)
    shot(mine, "student-phone")
    feedback.click()
    mine.wait_for_url(re.compile(rf"/p/{own}/files/hw1/feedback/$"))
    expect(mine.locator(".file-row").first).to_be_visible(timeout=T)
    # Another student's feedback folder is not theirs to open.
    theirs = picked[1].get(f"/api/courses/{cid}").json()["project_id"]
    assert student.get(f"/p/{theirs}/api/contents/hw1/feedback").status_code == 404
    assert student.get(f"/api/courses/{cid}/assignments/{aid}/submissions/{picked[1].name}").status_code in (403, 404)
    assert mine.errors == []
    mine.context.close()


def test_course_pages_refuse_clearly(browser: object, multi: Server) -> None:
    outsider = person(multi, prefix="o")
    page = browser_as(browser, multi, outsider, "/courses/no-such-course")
    expect(page.locator(".refusal")).to_contain_text("No course", timeout=T)
    page.goto(multi.url("/courses"))
    expect(page.locator(".create-course")).to_have_count(0)  # students do not create courses
    expect(page.locator(".enrolled-list")).to_contain_text("not enrolled", timeout=T)
    page.locator(".user-button").click()
    expect(page.locator(".courses-menu-link")).to_be_visible(timeout=T)
    page.context.close()
