"""Courses through the API: create, students (names and CSV), assignments, distribute; bad input; who sees what."""

from __future__ import annotations

from tests.conftest import Server

from .conftest import (PASSWORD, Person, as_json, get_notebook, homework, make_user, put_notebook, run_job,
                       student_csv, unique)


def _course(teacher: Person, title: str = "Algebra 1") -> dict:
    r = teacher.post("/api/courses", json={"title": title})
    assert r.status_code == 201, r.text
    return r.json()


def test_courses_need_multi_user(server: Server) -> None:
    r = server.get("/api/courses")
    assert r.status_code == 404 and "--multi-user" in r.json()["message"]


def test_create_enroll_distribute_and_status(multi: Server, teacher: Person) -> None:
    course = _course(teacher)
    cid, pid = course["id"], course["project_id"]
    assert course["teacher"] == teacher.name and course["students"] == 0
    put_notebook(teacher, pid, "hw1/hw1.ipynb", homework())
    teacher.put(f"/p/{pid}/api/contents/hw1/data.txt", json={"type": "file", "format": "text", "content": "1 2 3"})

    names = [unique("s") for _ in range(3)]
    existing = make_user(multi, prefix="e")
    r = teacher.post(f"/api/courses/{cid}/students", data=student_csv(names), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["added"]) == sorted(names) and r.json()["failed"] == []
    r = teacher.post(f"/api/courses/{cid}/students", json={"usernames": [existing.name, "nobody-here"]})
    assert r.json()["added"] == [existing.name]
    assert r.json()["failed"][0]["username"] == "nobody-here" and "password" in r.json()["failed"][0]["message"]

    r = teacher.post(f"/api/courses/{cid}/assignments", json={"name": "hw1", "due": "2030-01-01T09:00:00Z"})
    assert r.status_code == 201, r.text
    assignment = r.json()
    assert assignment["max_score"] == 6 and assignment["due"] == "2030-01-01T09:00:00Z"

    job = run_job(teacher, cid, assignment["id"], "distribute")
    assert job["state"] == "done" and job["total"] == 4 and job["done"] == 4
    assert {x["status"] for x in job["results"]} == {"ok"}, job

    view = teacher.get(f"/api/courses/{cid}").json()
    assert {s["username"] for s in view["students"]} == {*names, existing.name}
    assert all(view["status"][n][str(assignment["id"])]["state"] == "distributed" for n in names)

    student = Person(multi, names[0], PASSWORD)
    assert student.login().status_code == 302
    mine = student.get(f"/api/courses/{cid}").json()
    assert "students" not in mine and "status" not in mine
    assert mine["mine"][str(assignment["id"])]["state"] == "distributed"
    listing = student.get("/api/courses").json()
    assert [c["id"] for c in listing["enrolled"]] == [cid] and listing["teaching"] == []
    own = mine["project_id"]
    got = get_notebook(student, own, "hw1/hw1.ipynb")
    text = "\n".join(c["source"] for c in got["cells"])
    assert "return x * x" not in text and "square(-3)" not in text and "raise NotImplementedError()" in text
    assert "Because." not in text and "YOUR ANSWER HERE" in text
    assert student.get(f"/p/{own}/api/contents/hw1/data.txt").json()["content"] == "1 2 3"
    # The student owns it; the teacher edits it; another student does not see it.
    projects = {p["id"]: p for p in student.get("/api/projects").json()}
    assert projects[own]["owner"] == student.name
    assert teacher.get(f"/p/{own}/api/contents/hw1/hw1.ipynb").status_code == 200
    other = Person(multi, names[1], PASSWORD)
    other.login()
    assert other.get(f"/p/{own}/api/contents/hw1/hw1.ipynb").status_code == 404
    assert other.post(f"/api/courses/{cid}/assignments/{assignment['id']}/distribute").status_code == 403
    assert other.get(f"/api/courses/{cid}/jobs/{job['id']}").status_code == 403
    outsider = make_user(multi, prefix="o")
    assert outsider.get(f"/api/courses/{cid}").status_code == 404


def test_redistribution_keeps_student_edits_and_adds_new_files(multi: Server, teacher: Person) -> None:
    course = _course(teacher, "Redistribute")
    cid, pid = course["id"], course["project_id"]
    put_notebook(teacher, pid, "hw/hw.ipynb", homework())
    name = unique("r")
    teacher.post(f"/api/courses/{cid}/students", data=student_csv([name]), headers={"Content-Type": "text/csv"})
    aid = teacher.post(f"/api/courses/{cid}/assignments", json={"name": "hw"}).json()["id"]
    run_job(teacher, cid, aid, "distribute")
    student = Person(multi, name, PASSWORD)
    student.login()
    own = student.get(f"/api/courses/{cid}").json()["project_id"]
    mine = get_notebook(student, own, "hw/hw.ipynb")
    mine["cells"][1]["source"] = "def square(x):\n    return x * x  # mine"
    put_notebook(student, own, "hw/hw.ipynb", mine)
    # The teacher fixes the source and adds a file; distributes again.
    source = homework()
    source["cells"][0]["source"] = "# Homework (fixed)"
    put_notebook(teacher, pid, "hw/hw.ipynb", source)
    teacher.put(f"/p/{pid}/api/contents/hw/extra.txt", json={"type": "file", "format": "text", "content": "new"})
    job = run_job(teacher, cid, aid, "distribute")
    assert job["results"][0]["status"] == "ok" and "kept" in job["results"][0]["message"], job
    assert "# mine" in get_notebook(student, own, "hw/hw.ipynb")["cells"][1]["source"]
    assert student.get(f"/p/{own}/api/contents/hw/extra.txt").json()["content"] == "new"
    # Collecting again after the student deleted a file: the collected copy loses it too.
    assert run_job(teacher, cid, aid, "collect")["results"][0]["status"] == "ok"
    assert teacher.get(f"/p/{pid}/api/contents/collected/hw/{name}/extra.txt").status_code == 200
    assert student.delete(f"/p/{own}/api/contents/hw/extra.txt").status_code == 204
    assert run_job(teacher, cid, aid, "collect")["results"][0]["status"] == "ok"
    assert teacher.get(f"/p/{pid}/api/contents/collected/hw/{name}/extra.txt").status_code == 404
    assert "# mine" in get_notebook(teacher, pid, f"collected/hw/{name}/hw.ipynb")["cells"][1]["source"]


def test_handouts_extensions_and_leaving(multi: Server, teacher: Person) -> None:
    course = _course(teacher, "Handouts")
    cid, pid = course["id"], course["project_id"]
    teacher.put(f"/p/{pid}/api/contents/notes", json={"type": "directory"})
    teacher.put(f"/p/{pid}/api/contents/notes/read-me.txt", json={"type": "file", "format": "text", "content": "hi"})
    name = unique("h")
    teacher.post(f"/api/courses/{cid}/students", data=student_csv([name]), headers={"Content-Type": "text/csv"})
    handout = teacher.post(f"/api/courses/{cid}/assignments", json={"name": "notes", "kind": "handout"}).json()
    assert handout["kind"] == "handout" and handout["due"] is None
    assert run_job(teacher, cid, handout["id"], "distribute")["results"][0]["status"] == "ok"
    student = Person(multi, name, PASSWORD)
    student.login()
    own = student.get(f"/api/courses/{cid}").json()["project_id"]
    assert student.get(f"/p/{own}/api/contents/notes/read-me.txt").json()["content"] == "hi"
    r = teacher.post(f"/api/courses/{cid}/assignments/{handout['id']}/collect")
    assert r.status_code == 400 and "handout" in r.json()["message"]
    url = f"/api/courses/{cid}/assignments/{handout['id']}"
    for body, needle in [({"extensions": {"nobody": None}}, "not a student"), ({"extensions": []}, "extensions"),
                         ({"extensions": {name: "later"}}, "ISO-8601"), ({"due": 5}, "due")]:
        r = teacher.patch(url, json=body)
        assert r.status_code == 400 and needle in r.json()["message"], (body, r.text)
    assert teacher.patch(url, json={"due": "2031-02-03T04:05:06+01:00"}).json()["due"] == "2031-02-03T03:05:06Z"
    r = teacher.post(f"/api/courses/{cid}/assignments/{handout['id']}/distribute", json={"students": ["nobody"]})
    assert r.status_code == 400 and "nobody" in r.json()["message"]
    # Taking the student off the course: their project and files stay theirs.
    assert teacher.delete(f"/api/courses/{cid}/students/{name}").status_code == 204
    assert teacher.delete(f"/api/courses/{cid}/students/{name}").status_code == 404
    assert teacher.get(f"/api/courses/{cid}").json()["students"] == []
    assert student.get(f"/api/courses/{cid}").status_code == 404
    assert student.get(f"/p/{own}/api/contents/notes/read-me.txt").status_code == 200


def test_bad_input_says_what_to_fix(multi: Server, teacher: Person) -> None:
    student = make_user(multi, prefix="b")
    r = student.post("/api/courses", json={"title": "Mine"})
    assert r.status_code == 403 and "teachers" in r.json()["message"]
    for body, needle in [({}, "title"), ({"title": ""}, "title"), ({"title": 5}, "title"),
                         ({"title": "a\nb"}, "title")]:
        r = teacher.post("/api/courses", json=body)
        assert r.status_code == 400 and needle in r.json()["message"], (body, r.text)
    course = _course(teacher, "Bad input")
    cid = course["id"]
    for body, needle in [({"name": "missing"}, "no folder"), ({"name": "../x"}, "one folder"),
                         ({"name": "collected"}, "writes into"), ({"name": "hw", "kind": "exam"}, "kind"),
                         ({"name": "hw", "due": "tomorrow"}, "ISO-8601"), ({}, "name")]:
        r = teacher.post(f"/api/courses/{cid}/assignments", json=body)
        assert r.status_code == 400 and needle in r.json()["message"], (body, r.text)
    r = teacher.post(f"/api/courses/{cid}/students", data="name\nx\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and "username" in r.json()["message"]
    r = teacher.post(f"/api/courses/{cid}/students", json={"usernames": "alice"})
    assert r.status_code == 400 and "usernames" in r.json()["message"]
    assert teacher.get("/api/courses/nope").status_code == 404
    assert teacher.post(f"/api/courses/{cid}/assignments/999/distribute").status_code == 404
    assert as_json(teacher.get(f"/api/courses/{cid}"))["assignments"] == []
