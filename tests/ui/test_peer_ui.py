"""Peer review in real Chromium: the teacher sets it up and assigns it from the course table, a reviewer scores an
anonymous submission on the review page (saved state, done count, no author's name), the table shows their
progress, the teacher collects, and the review page then locks.  Screenshots at desktop and phone sizes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import Server
from tests.courses.conftest import PASSWORD, Person, get_notebook, put_notebook, run_job, student_csv, unique
from tests.courses.test_peer import _essay
from tests.ui.test_courses_ui import JOB_TIMEOUT_MS, KERNELS, T, browser_as, no_sideways_scroll, person, shot


@pytest.fixture(scope="module")
def multi(browser: object) -> Iterator[Server]:
    """One multi-user server (Python kernels) for this module."""
    srv = Server("--multi-user", env=KERNELS)
    yield srv
    srv.stop()


def _answer(student: Person, project: str) -> None:
    content = get_notebook(student, project, "essay/essay.ipynb")
    for c in content["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "why":
            c["source"] = f"Written by {student.name}: squares are never negative."
    put_notebook(student, project, "essay/essay.ipynb", content)


def _job_done(page: Any, action: str) -> Any:
    job = page.locator(f".job[data-action='{action}']").first
    expect(job).to_have_attribute("data-state", re.compile("done|failed"), timeout=JOB_TIMEOUT_MS)
    return job


def test_reviewer_flow_in_the_browser(browser: object, multi: Server) -> None:
    teacher = person(multi, role="teacher", prefix="t")
    course = teacher.post("/api/courses", json={"title": "Essays"}).json()
    cid, pid = course["id"], course["project_id"]
    put_notebook(teacher, pid, "essay/essay.ipynb", _essay())
    names = sorted(unique("r") for _ in range(4))
    teacher.post(f"/api/courses/{cid}/students", data=student_csv(names), headers={"Content-Type": "text/csv"})
    aid = teacher.post(f"/api/courses/{cid}/assignments", json={"name": "essay"}).json()["id"]
    assert run_job(teacher, cid, aid, "distribute")["state"] == "done"
    students = {}
    for name in names:
        students[name] = Person(multi, name, PASSWORD)
        students[name].login()
        students[name].s.headers["Connection"] = "close"
        _answer(students[name], students[name].get(f"/api/courses/{cid}").json()["project_id"])
    assert run_job(teacher, cid, aid, "collect")["state"] == "done"

    # The teacher turns peer review on and assigns it from the assignment's column.
    page = browser_as(browser, multi, teacher, f"/courses/{cid}")
    column = page.locator(f".assignment-col[data-aid='{aid}']")
    column.locator(".peer-button").click()
    dialog = page.locator(".peer-dialog")
    expect(dialog.locator(".peer-per")).to_have_value("2", timeout=T)
    dialog.locator(".peer-due").fill("2099-06-01T09:00")
    dialog.locator(".peer-guide").fill("## Guide\n\n- **why**: 2 points if the reason is right.\n- **proof**: 3 for a full proof.")
    shot(page, "peer-dialog")
    dialog.locator(".peer-save").click()
    expect(column.locator(".peer-button")).to_contain_text("Peer review: 2 each", timeout=T)
    shot(page, "peer-table-set")
    column.locator(".a-action[data-action='peer/assign']").click()
    job = _job_done(page, "peer/assign")
    expect(job).to_contain_text("4 ok", timeout=T)
    expect(column.locator(".peer-summary")).to_have_text("0/8 reviews done", timeout=T)
    reviewer = names[0]
    expect(page.locator(f".step-cell[data-aid='{aid}'][data-username='{reviewer}'] .peer-note")).to_have_text("reviews 0/2", timeout=T)

    # A reviewer goes from their course page to the review page and scores the first submission.
    me = browser_as(browser, multi, students[reviewer], f"/courses/{cid}")
    expect(me.locator(".my-peer .peer-state")).to_contain_text("Peer review: 0 of 2 done", timeout=T)
    me.locator(".my-peer .review-link").click()
    me.wait_for_url(re.compile(rf"/courses/{cid}/review/{aid}$"))
    expect(me.locator(".review-card")).to_have_count(2, timeout=T)
    expect(me.locator(".review-guide")).to_contain_text("2 points if the reason is right", timeout=T)
    text = me.locator("main").inner_text()
    assert not any(n in text for n in names), text  # nobody's name: not the authors', not even the reviewer's
    own = students[reviewer].get(f"/api/courses/{cid}").json()["project_id"]
    href = me.locator(".review-card").first.locator(".open-review").get_attribute("href")
    assert f"/p/{own}/files/essay-peer-review/submission-" in href, href
    shot(me, "peer-review-page")
    first = me.locator(".review-card").first
    first.locator("input[data-grade-id=why]").fill("1.5")
    first.locator("input[data-grade-id=why]").press("Tab")
    expect(first.locator(".saved-state")).to_have_text("Saved", timeout=T)
    expect(first.locator(".review-done")).to_have_text("to do")
    first.locator("input[data-grade-id=proof]").fill("9")
    first.locator("input[data-grade-id=proof]").press("Tab")
    expect(first.locator(".saved-state")).to_contain_text("Not saved: give 0 to 3", timeout=T)
    first.locator("input[data-grade-id=proof]").fill("3")
    first.locator("input[data-grade-id=proof]").press("Tab")
    first.locator(".comment-input").fill("Clear reason; the proof skips a step.")
    expect(first.locator(".review-done")).to_have_text("done", timeout=T)
    expect(first.locator(".saved-state")).to_have_text("Saved", timeout=T)
    expect(me.locator(".review-progress")).to_have_text("1 of 2 done", timeout=T)
    saved = [r for r in students[reviewer].get(f"/api/courses/{cid}/assignments/{aid}/peer").json()["reviews"] if r["done"]]
    assert len(saved) == 1 and saved[0]["points"] == {"why": 1.5, "proof": 3.0}
    assert saved[0]["comment"] == "Clear reason; the proof skips a step."
    assert not me.errors, me.errors

    # The phone layout of the review page.
    phone = browser_as(browser, multi, students[reviewer], f"/courses/{cid}/review/{aid}", 390, 844)
    expect(phone.locator(".review-card")).to_have_count(2, timeout=T)
    no_sideways_scroll(phone)
    shot(phone, "peer-review-phone")
    phone.goto(multi.url(f"/courses/{cid}"))
    expect(phone.locator(".my-peer")).to_contain_text("1 of 2 done", timeout=T)
    no_sideways_scroll(phone)
    shot(phone, "peer-student-phone")
    phone.context.close()

    # The teacher's table follows; collecting closes the reviews.
    expect(page.locator(f".step-cell[data-aid='{aid}'][data-username='{reviewer}'] .peer-note")).to_have_text("reviews 1/2", timeout=T)
    expect(column.locator(".peer-summary")).to_have_text("1/8 reviews done", timeout=T)
    shot(page, "peer-table-assigned")
    column.locator(".a-action[data-action='peer/collect']").click()
    page.locator(".peer-collect-dialog input[value=none]").check()
    page.locator(".peer-collect-go").click()
    _job_done(page, "peer/collect")
    expect(column.locator(".peer-summary")).to_contain_text("closed", timeout=T)
    expect(column.locator(".a-action[data-action='peer/collect']")).to_have_text("Collect again", timeout=T)
    assert not page.errors, page.errors
    me.reload()
    expect(me.locator(".review-locked")).to_contain_text("collected", timeout=T)
    expect(me.locator(".review-card").first.locator(".comment-input")).to_be_disabled()
    # The grading page shows each submission's reviews with the reviewers named (for the teacher only).
    assert run_job(teacher, cid, aid, "autograde")["state"] == "done"
    over = teacher.get(f"/api/courses/{cid}/assignments/{aid}/peer").json()
    author = next(s["username"] for s in over["submissions"] if any(r["done"] for r in s["reviews"]))
    page.goto(multi.url(f"/courses/{cid}/grade/{aid}/{author}"))
    panel = page.locator(".grade-peer")
    expect(panel).to_contain_text("Peer reviews: 1 of 2 done", timeout=T)
    expect(panel.locator(f".peer-review[data-reviewer='{reviewer}']")).to_contain_text("Clear reason; the proof skips a step.")
    expect(page.locator(".grade-cell[data-grade-id=why] .peer-points-row")).to_contain_text(f"{reviewer} 1.5")
    shot(page, "peer-grading")
    tp = browser_as(browser, multi, teacher, f"/courses/{cid}", 390, 844)
    expect(tp.locator(f".assignment-col[data-aid='{aid}'] .peer-summary")).to_be_visible(timeout=T)
    shot(tp, "peer-table-phone")
    for p in (page, me, tp):
        p.context.close()
