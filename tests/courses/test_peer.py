"""Peer review end to end through the API: set up, assign after collecting (balanced, nobody themself, replayable),
anonymous copies in each reviewer's project, reviews saved and kept apart, the grade from peers, returned comments."""

from __future__ import annotations

import json
from typing import Any

from salvus_local.courses.anonymize import pairs
from tests.conftest import Server

from .conftest import PASSWORD, Person, cell, get_notebook, nb, put_notebook, run_job, student_csv, unique

PER = 2


def _essay() -> dict[str, Any]:
    """Two answers graded by hand (what peers score) and one autograded test (what they do not)."""
    return nb([
        cell("markdown", "# Essay\nExplain, then prove.", "intro", locked=True),
        cell("markdown", "### BEGIN SOLUTION\nBecause.\n### END SOLUTION", "why", points=2, grade=True, solution=True),
        cell("markdown", "### BEGIN SOLUTION\nQED.\n### END SOLUTION", "proof", points=3, grade=True, solution=True),
        cell("code", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "x_answer", solution=True),
        cell("code", "assert x == 1", "test_x", points=1, grade=True, locked=True),
    ])


def _write_answers(student: Person, project: str, name: str, display: str) -> None:
    """Answers that name their author everywhere a student might: text, outputs' source, metadata, a file name."""
    content = get_notebook(student, project, "essay/essay.ipynb")
    for c in content["cells"]:
        gid = c["metadata"].get("nbgrader", {}).get("grade_id")
        if gid == "why":
            c["source"] = f"I am {display} ({name}). Squares are positive because x*x >= 0."
        elif gid == "proof":
            c["source"] = f"Proof by {name.upper()}: trivial."
        elif gid == "x_answer":
            c["source"] = f"x = 1  # {name}"
        c["metadata"]["collab"] = {"last_editor": name}
    content["metadata"]["authors"] = [{"name": display}]
    content["metadata"]["salvus"] = {"owner": name}
    put_notebook(student, project, "essay/essay.ipynb", content)
    r = student.put(f"/p/{project}/api/contents/essay/notes-{name}.txt",
                    json={"type": "file", "format": "text", "content": f"written by {name}\n"})
    assert r.status_code in (200, 201), r.text


def _tree(person: Person, project: str, folder: str) -> dict[str, str]:
    """Every file under folder of a project as text, by path (through the Contents API)."""
    out: dict[str, str] = {}
    r = person.get(f"/p/{project}/api/contents/{folder}")
    assert r.status_code == 200, r.text
    for item in r.json()["content"]:
        if item["type"] == "directory":
            out.update(_tree(person, project, item["path"]))
        else:
            got = person.get(f"/p/{project}/api/contents/{item['path']}").json()
            text = got["content"] if isinstance(got["content"], str) else json.dumps(got["content"])
            out[item["path"]] = text
    return out


def test_peer_review_cycle(multi: Server, teacher: Person) -> None:
    course = teacher.post("/api/courses", json={"title": "Essays"}).json()
    cid, pid = course["id"], course["project_id"]
    put_notebook(teacher, pid, "essay/essay.ipynb", _essay())
    put_notebook(teacher, pid, "leaflet/read.ipynb", nb([cell("markdown", "Read me")]))
    names = sorted(unique("p") for _ in range(7))
    r = teacher.post(f"/api/courses/{cid}/students", data=student_csv(names), headers={"Content-Type": "text/csv"})
    assert len(r.json()["added"]) == 7, r.text
    aid = teacher.post(f"/api/courses/{cid}/assignments", json={"name": "essay"}).json()["id"]
    handout = teacher.post(f"/api/courses/{cid}/assignments", json={"name": "leaflet", "kind": "handout"}).json()["id"]
    submitters, absent = names[:6], names[6]
    assert run_job(teacher, cid, aid, "distribute", students=submitters)["state"] == "done"

    people: dict[str, Person] = {}
    projects: dict[str, str] = {}
    for name in names:
        people[name] = Person(multi, name, PASSWORD)
        assert people[name].login().status_code == 302
        projects[name] = people[name].get(f"/api/courses/{cid}").json()["project_id"]
    for name in submitters:
        _write_answers(people[name], projects[name], name, f"Student {name}")

    # Set up: bad input first, each a 4xx saying what to fix.
    url = f"/api/courses/{cid}/assignments/{aid}/peer"
    for body, status, needle in [({"per_submission": 0}, 400, "per_submission"), ({"per_submission": "2"}, 400, "per_submission"),
                                 ({"guide": 5}, 400, "guide"), ({"due": "soon"}, 400, "ISO-8601")]:
        r = teacher.put(url, json=body)
        assert r.status_code == status and needle in r.json()["message"], (body, r.text)
    r = teacher.put(f"/api/courses/{cid}/assignments/{handout}/peer", json={})
    assert r.status_code == 400 and "handout" in r.json()["message"]
    assert people[names[0]].put(url, json={}).status_code == 403
    r = teacher.post(f"{url}/assign")
    assert r.status_code == 400 and "not set up" in r.json()["message"]
    guide = "# How to grade\n\n- **why**: 2 if the reason is right.\n- **proof**: 3 for a full proof."
    r = teacher.put(url, json={"guide": guide, "due": "2100-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    settings = r.json()["settings"]
    assert settings["per_submission"] == PER and settings["state"] == "set" and settings["seed"]
    assert [(q["grade_id"], q["max_points"]) for q in settings["questions"]] == [("why", 2), ("proof", 3)]
    r = teacher.post(f"{url}/assign")
    assert r.status_code == 400 and "collect first" in r.json()["message"]

    assert run_job(teacher, cid, aid, "collect")["state"] == "done"
    job = run_job(teacher, cid, aid, "peer/assign")
    results = {r["username"]: r for r in job["results"]}
    assert job["state"] == "done" and len(results) == 7
    assert all(results[n]["status"] == "ok" for n in submitters), results
    assert results[absent]["status"] == "skipped" and "nothing to review" in results[absent]["message"]

    # The pairing: balanced, nobody themself, each submission to PER different peers, replayable from the seed.
    over = teacher.get(url).json()
    assert over["left_out"] == [absent] and over["settings"]["state"] == "assigned"
    given = {s["username"]: sorted(r["reviewer"] for r in s["reviews"]) for s in over["submissions"]}
    assert sorted(given) == submitters
    for author, reviewers in given.items():
        assert len(set(reviewers)) == PER and author not in reviewers, (author, reviewers)
    loads = {n: sum(n in rs for rs in given.values()) for n in submitters}
    assert set(loads.values()) == {PER}, loads
    replay = pairs(submitters, PER, over["settings"]["seed"])
    assert {a: sorted(rs) for a, rs in replay.items()} == given
    r = teacher.put(url, json={"per_submission": 3})
    assert r.status_code == 409 and "assigned already" in r.json()["message"]

    # Each reviewer's copies: no author's name anywhere (paths, notebooks, metadata, text files), the guide beside.
    for name in submitters:
        me = people[name]
        mine = me.get(url).json()
        assert "submissions" not in mine and len(mine["reviews"]) == PER and mine["guide"] == guide
        tree = _tree(me, projects[name], "essay-peer-review")
        assert tree.pop("essay-peer-review/GUIDE.md") == guide
        folders = {p.split("/")[1] for p in tree}
        assert folders == {r["id"] for r in mine["reviews"]}
        blob = json.dumps(tree).lower() + " ".join(tree).lower()
        for author in submitters:
            assert author not in blob, (name, author)
        assert "[author]" in blob and "squares are positive" in blob
        for path, text in tree.items():
            if path.endswith(".ipynb"):
                content = json.loads(text)
                assert set(content["metadata"]) <= {"kernelspec", "language_info"}, content["metadata"]
                assert all(set(c["metadata"]) <= {"nbgrader"} for c in content["cells"])
        assert sum(p.endswith("/notes-author.txt") for p in tree) == PER
        # The author's own project and the course project stay closed to a reviewer.
        for author in given:
            if name in given[author]:
                assert me.get(f"/p/{projects[author]}/api/contents/essay").status_code in (403, 404)
        assert me.get(f"/p/{pid}/api/contents/collected/essay").status_code in (403, 404)
    assert people[absent].get(url).json()["reviews"] == []

    # Reviews: bad input, someone else's review, then every reviewer scores.
    reviewer = submitters[0]
    theirs = people[submitters[1]].get(url).json()["reviews"][0]["id"]
    mine_ids = [r["id"] for r in people[reviewer].get(url).json()["reviews"]]
    bad = [({"points": {"why": 3}}, 400, "0 to 2"), ({"points": {"test_x": 1}}, 400, "not a question"),
           ({"points": [1]}, 400, "object"), ({"comment": 7}, 400, "comment"), ({}, 400, "points")]
    for body, status, needle in bad:
        r = people[reviewer].put(f"{url}/reviews/{mine_ids[0]}", json=body)
        assert r.status_code == status and needle in r.json()["message"], (body, r.text)
    r = people[reviewer].put(f"{url}/reviews/{theirs}", json={"points": {"why": 0}})
    assert r.status_code == 404, r.text
    assert people[absent].put(f"{url}/reviews/{theirs}", json={"points": {"why": 0}}).status_code == 404
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for n, name in enumerate(submitters):
        for k, review in enumerate(people[name].get(url).json()["reviews"]):
            pts = {"why": float((n + k) % 3), "proof": 3.0 if k == 0 else 1.0}
            r = people[name].put(f"{url}/reviews/{review['id']}", json={"points": pts, "comment": f"Remark {n}-{k}."})
            assert r.status_code == 200 and r.json()["done"] is True, r.text
            scores[(name, review["id"])] = pts
        assert f"Remark {n}" not in json.dumps(people[submitters[(n + 1) % 6]].get(url).json())
    view = teacher.get(f"/api/courses/{cid}").json()
    for name in submitters:
        assert view["status"][name][str(aid)]["peer"] == {"to_review": PER, "reviewed": PER, "received": PER,
                                                          "received_done": PER}
    assert view["status"][absent][str(aid)]["peer"] is None
    assert people[reviewer].get(f"/api/courses/{cid}").json()["mine"][str(aid)]["peer"]["reviewed"] == PER
    assert people[reviewer].get(f"/api/courses/{cid}/assignments/{aid}/submissions/{submitters[1]}").status_code == 403

    # The grade from peers (median) into the graded cells, the teacher overrides one, feedback goes back.
    assert run_job(teacher, cid, aid, "autograde", timeout=600)["state"] == "done"
    job = run_job(teacher, cid, aid, "peer/collect", grade="median")
    results = {r["username"]: r for r in job["results"]}
    assert results[absent]["status"] == "skipped" and all(results[n]["status"] == "ok" for n in submitters), results
    r = people[reviewer].put(f"{url}/reviews/{mine_ids[0]}", json={"comment": "too late"})
    assert r.status_code == 409 and "closed" in r.json()["message"]
    over = teacher.get(url).json()
    for sub in over["submissions"]:
        expected_why = [rv["points"]["why"] for rv in sub["reviews"]]
        expected_proof = [rv["points"]["proof"] for rv in sub["reviews"]]
        graded = teacher.get(f"/api/courses/{cid}/assignments/{aid}/submissions/{sub['username']}").json()
        cells = {c["grade_id"]: c for c in graded["notebooks"][0]["cells"]}
        assert cells["why"]["manual_points"] == sum(expected_why) / 2 == sub["median"]["why"]
        assert cells["proof"]["manual_points"] == sum(expected_proof) / 2  # the median of two is their mean
        assert cells["test_x"]["auto_points"] == 1.0
        assert {p["reviewer"] for p in graded["peer_reviews"]} == set(given[sub["username"]])
        assert graded["total"] == (sum(expected_why) + sum(expected_proof)) / 2 + 1
    author = submitters[2]
    r = teacher.put(f"/api/courses/{cid}/assignments/{aid}/submissions/{author}/grades/why", json={"points": 2})
    assert r.status_code == 200
    proof = next(s for s in over["submissions"] if s["username"] == author)["median"]["proof"]
    assert teacher.get(f"/api/courses/{cid}").json()["status"][author][str(aid)]["score"] == 2 + proof + 1

    assert run_job(teacher, cid, aid, "return")["state"] == "done"
    back = get_notebook(people[author], projects[author], "essay/feedback/essay.ipynb")
    text = "\n".join(c["source"] for c in back["cells"])
    assert "Peer reviews" in text and f"Score: {3 + proof:g} / 6" in text
    for reviewer_name in given[author]:
        n = submitters.index(reviewer_name)
        assert f"Remark {n}-" in text and reviewer_name not in text
