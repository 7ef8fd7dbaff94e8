"""One assignment cycle for a class of 30 through the API: distribute, edit, collect while typing, autograde, grade,
return; broken submissions (deleted, duplicated, retyped grade cells) still grade; each student sees only their own."""

from __future__ import annotations

import copy
import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Server, wait_for

from .conftest import PASSWORD, Person, get_notebook, homework, put_notebook, run_job, student_csv, unique

CLASS_SIZE = 30
RIGHT = "def square(x):\n    return x * x"
WRONG = "def square(x):\n    return x + x"


def _ids(content: dict[str, Any]) -> list[str | None]:
    return [c["metadata"].get("nbgrader", {}).get("grade_id") for c in content["cells"]]


def _edit(student: Person, project: str, how: str) -> None:
    """Change the handed-out notebook the way one kind of student does."""
    content = get_notebook(student, project, "hw1/hw1.ipynb")
    cells = content["cells"]
    answer = _ids(content).index("square")
    cells[answer]["source"] = WRONG if how == "wrong" else RIGHT if how != "untouched" else cells[answer]["source"]
    if how == "delete":
        del cells[_ids(content).index("test_square_big")]
    elif how == "duplicate":
        test = _ids(content).index("test_square")
        cells.insert(test + 1, {**copy.deepcopy(cells[test]), "id": "dupe1234"})
    elif how == "retype":
        test = cells[_ids(content).index("test_square")]
        for key in ("outputs", "execution_count"):
            test.pop(key, None)
        test["cell_type"] = "markdown"
    if how == "right":
        cells[_ids(content).index("why")]["source"] = "Because x times x is x squared."
    if how != "untouched":
        put_notebook(student, project, "hw1/hw1.ipynb", content)


def _all_ok(job: dict[str, Any]) -> None:
    failed = [r for r in job["results"] if r["status"] != "ok"]
    assert job["state"] == "done" and job["done"] == CLASS_SIZE and not failed, (job["message"], failed[:3])


EXPECTED = {"right": 4, "wrong": 0, "delete": 4, "duplicate": 4, "retype": 4, "untouched": 0}
WARNS = {"delete": "was deleted", "duplicate": "more than once", "retype": "changed from code to markdown"}


def test_a_class_of_thirty(multi: Server, teacher: Person) -> None:
    course = teacher.post("/api/courses", json={"title": "Squares"}).json()
    cid, pid = course["id"], course["project_id"]
    put_notebook(teacher, pid, "hw1/hw1.ipynb", homework())
    names = sorted(unique("c") for _ in range(CLASS_SIZE))
    r = teacher.post(f"/api/courses/{cid}/students", data=student_csv(names), headers={"Content-Type": "text/csv"})
    assert len(r.json()["added"]) == CLASS_SIZE, r.text
    aid = teacher.post(f"/api/courses/{cid}/assignments", json={"name": "hw1", "due": "2020-01-01T00:00:00Z"}).json()["id"]
    on_time = names[1]
    r = teacher.patch(f"/api/courses/{cid}/assignments/{aid}", json={"extensions": {on_time: "2100-01-01T00:00:00Z"}})
    assert r.json()["extensions"] == {on_time: "2100-01-01T00:00:00Z"}, r.text
    job = run_job(teacher, cid, aid, "distribute")
    _all_ok(job)

    kinds = ["right", "wrong", "delete", "duplicate", "retype", "untouched"]
    how = {n: kinds[i % len(kinds)] for i, n in enumerate(names)}
    people: dict[str, Person] = {}
    projects: dict[str, str] = {}

    def sign_in_and_edit(name: str) -> None:
        person = Person(multi, name, PASSWORD)
        assert person.login().status_code == 302
        people[name] = person
        projects[name] = person.get(f"/api/courses/{cid}").json()["project_id"]
        _edit(person, projects[name], how[name])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(sign_in_and_edit, names))

    # One student keeps typing (saving) while the teacher collects.
    typist = names[0]
    saved: list[int] = []
    stop = threading.Event()

    def keep_typing() -> None:
        person = Person(multi, typist, PASSWORD)
        person.login()
        content = get_notebook(person, projects[typist], "hw1/hw1.ipynb")
        n = 0
        while not stop.is_set():
            n += 1
            content["cells"][_ids(content).index("square")]["source"] = f"{RIGHT}  # keystroke {n}"
            put_notebook(person, projects[typist], "hw1/hw1.ipynb", content)
            saved.append(n)

    typing = threading.Thread(target=keep_typing)
    typing.start()
    try:
        wait_for(lambda: len(saved) >= 3, 60, "the typist's first saves")
        job = run_job(teacher, cid, aid, "collect")
        after = len(saved)
        wait_for(lambda: len(saved) > after + 1, 60, "saves after the collection")
    finally:
        stop.set()
        typing.join()
    _all_ok(job)
    collected = teacher.get(f"/p/{pid}/api/contents/collected/hw1/{typist}/hw1.ipynb").json()["content"]
    source = collected["cells"][_ids(collected).index("square")]["source"]
    keystroke = int(source.rsplit(" ", 1)[1])
    assert keystroke in saved and keystroke < saved[-1]  # a whole saved version, and the typing went on after

    view = teacher.get(f"/api/courses/{cid}").json()
    steps = {n: view["status"][n][str(aid)] for n in names}
    assert all(s["state"] == "collected" for s in steps.values())
    assert steps[on_time]["late"] is False and steps[names[2]]["late"] is True

    job = run_job(teacher, cid, aid, "autograde", timeout=600)
    _all_ok(job)
    view = teacher.get(f"/api/courses/{cid}").json()
    for name in names:
        step = view["status"][name][str(aid)]
        # Only a written answer needs a person: answers left as handed out get 0 at once (as in nbgrader).
        needs = how[name] == "right"
        assert step["state"] == "graded" and step["max_score"] == 6 and step["needs_manual"] is needs, (name, step)
        assert step["score"] == EXPECTED[how[name]], (name, how[name], step)
        sub = teacher.get(f"/api/courses/{cid}/assignments/{aid}/submissions/{name}").json()
        if how[name] in WARNS:
            assert any(WARNS[how[name]] in w for w in sub["warnings"]), (name, sub["warnings"])
        else:
            assert sub["warnings"] == [], (name, sub["warnings"])

    # Manual grading: points and a comment for the written answer, next/previous, totals.
    graded = names[0]
    sub = teacher.get(f"/api/courses/{cid}/assignments/{aid}/submissions/{graded}").json()
    assert sub["prev"] is None and sub["next"] == names[1] and sub["total"] == 4 and sub["max_score"] == 6
    cells = {c["grade_id"]: c for c in sub["notebooks"][0]["cells"]}
    assert cells["why"]["kind"] == "manual" and cells["test_square"]["kind"] == "autograded"
    assert cells["why"]["auto_points"] is None and "x squared" in cells["why"]["source"]
    untouched = names[[how[n] for n in names].index("untouched")]
    other = teacher.get(f"/api/courses/{cid}/assignments/{aid}/submissions/{untouched}").json()
    assert other["notebooks"][0]["cells"][-1]["auto_points"] == 0  # the unchanged answer
    assert cells["test_square"]["auto_points"] == 3 and "square(-3)" in cells["test_square"]["source"]
    url = f"/api/courses/{cid}/assignments/{aid}/submissions/{graded}/grades/why"
    for body, needle in [({"points": 3}, "from 0 to 2"), ({"points": "2"}, "points"), ({}, "points")]:
        r = teacher.put(url, json=body)
        assert r.status_code == 400 and needle in r.json()["message"], (body, r.text)
    r = teacher.put(url, json={"points": 1.5, "comment": "Say why x*x is a square."})
    assert r.status_code == 200 and r.json()["manual_points"] == 1.5, r.text
    assert people[names[1]].put(url, json={"points": 2}).status_code == 403
    step = teacher.get(f"/api/courses/{cid}").json()["status"][graded][str(aid)]
    assert step["score"] == 5.5 and step["needs_manual"] is False

    job = run_job(teacher, cid, aid, "return")
    _all_ok(job)
    for name in (graded, names[1]):
        mine = get_notebook(people[name], projects[name], "hw1/feedback/hw1.ipynb")
        text = "\n".join(c["source"] for c in mine["cells"])
        assert ("Say why x*x is a square." in text) == (name == graded)
        assert f"Score: {5.5 if name == graded else 0:g} / 6" in text
        assert people[name].get(f"/api/courses/{cid}").json()["mine"][str(aid)]["state"] == "returned"
    # Nobody reads another student's feedback, nor the collected or graded copies in the course project.
    intruder = people[names[1]]
    assert intruder.get(f"/p/{projects[graded]}/api/contents/hw1/feedback/hw1.ipynb").status_code == 404
    assert intruder.get(f"/p/{pid}/api/contents/autograded/hw1/{graded}/hw1.ipynb").status_code == 404
    assert intruder.get(f"/api/courses/{cid}/assignments/{aid}/submissions/{graded}").status_code == 403
    assert intruder.get(f"/api/courses/{cid}/gradebook.csv").status_code == 403

    book = teacher.get(f"/api/courses/{cid}/gradebook.csv")
    assert book.headers["Content-Type"].startswith("text/csv")
    rows = {r["username"]: r for r in csv.DictReader(io.StringIO(book.text))}
    assert rows[graded]["hw1"] == "5.5" and rows[graded]["total"] == "5.5" and len(rows) == CLASS_SIZE
