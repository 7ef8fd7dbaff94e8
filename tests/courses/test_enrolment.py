"""Only student accounts can be enrolled: a teacher cannot put projects into a teacher's or an admin's account."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Server

from .conftest import Person, make_user, unique
from .test_cli import in_process


def _projects(person: Person) -> list[str]:
    """The ids of the projects person owns."""
    r = person.get("/api/projects")
    assert r.status_code == 200, r.text
    return sorted(p["id"] for p in r.json() if p["owner"] == person.name)  # an admin lists everyone's


def test_teachers_and_admins_are_not_enrolled(multi: Server, teacher: Person, tmp_path: Path) -> None:
    r = teacher.post("/api/courses", json={"title": unique("Enrol")})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    other = make_user(multi, role="teacher", prefix="t")
    admin = make_user(multi, role="admin", prefix="a")
    pupil = make_user(multi, prefix="s")
    before = {p.name: _projects(p) for p in (other, admin)}

    r = teacher.post(f"/api/courses/{cid}/students", json={"usernames": [other.name, admin.name, pupil.name]})
    assert r.status_code == 200, r.text
    assert r.json()["added"] == [pupil.name]
    failed = {f["username"]: f["message"] for f in r.json()["failed"]}
    assert failed[other.name] == f"{other.name} is a teacher; only student accounts can be enrolled"
    assert failed[admin.name] == f"{admin.name} is an admin; only student accounts can be enrolled"

    # The CSV path: an existing admin row with a password column must not be enrolled (nor its password touched).
    csv_text = f"username,name,password\n{admin.name},Admin,new-password-123\n{other.name},T,x-password-123\n"
    r = teacher.post(f"/api/courses/{cid}/students", data=csv_text, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["added"] == [], r.text
    assert {f["username"] for f in r.json()["failed"]} == {admin.name, other.name}

    # The CLI shows the failed entries and exits 1.
    token = teacher.post("/api/tokens", json={"scope": "api", "note": "enrol"}).json()["token"]
    out = in_process(multi, token, "add-students", cid, admin.name)
    assert out.exit_code == 1 and f"failed\t{admin.name}\t" in out.stdout and "only student accounts" in out.stdout, out

    view = teacher.get(f"/api/courses/{cid}").json()
    assert [s["username"] for s in view["students"]] == [pupil.name]
    assert {p.name: _projects(p) for p in (other, admin)} == before
    assert admin.login().status_code == 302  # the password is unchanged
