"""Accounts through the REST API of a real multi-user server: sign-up, approval, login, passwords, class lists."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import PASSWORD, Person, make_user, unique

USERNAMES = [
    ("ab", True), ("alice", True), ("a.b-c_d9", True), ("Alice", True),  # stored lower case
    ("a", "2 to 32 characters"), ("a" * 33, "2 to 32 characters"), ("9lives", "starts with a letter"),
    ("_x", "starts with a letter"), ("al ice", "only a-z"), ("élodie", "starts with a letter a-z"), ("zoë", "only a-z"), ("a/b", "only a-z"),
    ("bob.", "ends with a letter or a digit"), ("a..b", "no two of"), ("a-_b", "no two of"),
    ("root", "reserved"), ("api", "reserved"), ("x\x00y", "only a-z"),
]


@pytest.mark.parametrize("username,expected", USERNAMES)
def test_username_rules(multi, username, expected):
    name = username if expected is not True else unique(username[:20])
    r = multi.post("/api/users", json={"username": name, "password": PASSWORD})
    if expected is True:
        assert r.status_code == 201, r.text
        assert r.json()["user"]["name"] == name.lower()
    else:
        assert r.status_code == 400, r.text
        assert expected in r.json()["message"]
        assert username.strip().lower() not in [u["name"] for u in multi.get("/api/users").json()["users"]]


def test_duplicate_username_and_bad_password_refused(multi):
    person = make_user(multi)
    r = multi.post("/api/users", json={"username": person.name.upper(), "password": PASSWORD})
    assert r.status_code == 409 and "taken" in r.json()["message"]
    r = multi.post("/api/users", json={"username": unique("p"), "password": "short"})
    assert r.status_code == 400 and "at least 8" in r.json()["message"]
    r = multi.post("/api/users", json={"username": unique("p"), "password": PASSWORD, "role": "king"})
    assert r.status_code == 400 and "admin, teacher, student" in r.json()["message"]


def test_signup_with_class_code_and_approval(multi):
    join = multi.get("/api/join").json()
    assert join["class_code"] and "<svg" in join["qr_svg"] and join["url"].endswith(f"code={join['class_code']}")
    assert multi.patch("/api/join", json={"approval_required": True}).json()["approval_required"] is True
    try:
        student = Person(multi, unique("new"))
        wrong = student.s.post(multi.url("/api/signup"), json={"username": student.name, "password": PASSWORD,
                                                               "class_code": "WRONG1"})
        assert wrong.status_code == 403 and "class code" in wrong.json()["message"]
        r = student.s.post(multi.url("/api/signup"), json={"username": student.name, "password": PASSWORD,
                                                           "class_code": join["class_code"].lower(),
                                                           "display_name": "New Student"})
        assert r.status_code == 201 and r.json()["user"]["status"] == "pending"
        # signed in, but a pending account reaches nothing
        assert student.get("/api/me").json()["user"]["status"] == "pending"
        for method, path in [("GET", "/api/contents"), ("GET", "/api/projects"), ("POST", "/api/kernels"),
                             ("GET", "/api/kernels"), ("POST", "/api/terminals"), ("GET", "/api/status"),
                             ("POST", "/api/tokens")]:
            refused = student.request(method, path, json={})
            assert refused.status_code == 403 and refused.json()["reason"] == "pending", (method, path)
        page = student.get("/notebooks/x.ipynb")
        assert page.status_code == 302 and page.headers["Location"].startswith("/signup?next=")
        assert student.ws_refused("/api/kernels/x/channels") == 403
        # the teacher approves: now it works
        teacher = make_user(multi, role="teacher", prefix="teach")
        pending = [u for u in teacher.get("/api/users").json()["users"] if u["status"] == "pending"]
        assert student.name in [u["name"] for u in pending]
        assert teacher.patch(f"/api/users/{student.name}", json={"status": "active"}).json()["user"]["status"] == "active"
        assert student.get("/api/contents").status_code == 200
    finally:
        multi.patch("/api/join", json={"approval_required": False})


def test_signup_without_approval_is_active_and_code_can_change(multi):
    old = multi.get("/api/join").json()["class_code"]
    new = multi.patch("/api/join", json={"regenerate_code": True}).json()["class_code"]
    assert new != old
    student = Person(multi, unique("walkin"))
    body = {"username": student.name, "password": PASSWORD}
    assert student.s.post(multi.url("/api/signup"), json={**body, "class_code": old}).status_code == 403
    r = student.s.post(multi.url("/api/signup"), json={**body, "class_code": new})
    assert r.status_code == 201 and r.json()["user"]["status"] == "active"
    assert student.get("/api/contents").status_code == 200
    assert Person(multi, student.name).login().status_code == 302


def test_login_bad_credentials_page(multi):
    person = make_user(multi)
    fresh = Person(multi, person.name, "wrong password!")
    r = fresh.login()
    assert r.status_code == 403 and "Wrong username or password" in r.text
    assert fresh.get("/api/me").status_code == 403
    assert Person(multi, "nosuchuser", PASSWORD).login().status_code == 403


def test_password_change_ends_other_sessions(multi):
    laptop = make_user(multi)
    phone = Person(multi, laptop.name)
    assert phone.login().status_code == 302
    assert phone.get("/api/contents").status_code == 200
    assert laptop.post("/api/me/password", json={"old_password": "nope", "new_password": "x" * 10}).status_code == 403
    assert laptop.post("/api/me/password", json={"old_password": PASSWORD, "new_password": "short"}).status_code == 400
    r = laptop.post("/api/me/password", json={"old_password": PASSWORD, "new_password": "a new password"})
    assert r.status_code == 204
    assert laptop.get("/api/contents").status_code == 200  # this browser stays in
    assert phone.get("/api/contents").status_code == 403  # the other is out
    assert Person(multi, laptop.name).login().status_code == 403
    assert Person(multi, laptop.name, "a new password").login().status_code == 302


def test_teacher_reset_forces_change_and_ends_sessions(multi):
    student = make_user(multi)
    teacher = make_user(multi, role="teacher", prefix="teach")
    otp = teacher.post(f"/api/users/{student.name}/reset-password").json()["one_time_password"]
    assert student.get("/api/contents").status_code == 403
    fresh = Person(multi, student.name, otp)
    r = fresh.login(next_="/notebooks/a.ipynb")
    assert r.status_code == 302 and r.headers["Location"].startswith("/change-password?next=")
    refused = fresh.get("/api/contents")
    assert refused.status_code == 403 and refused.json()["reason"] == "must_change_password"
    assert fresh.get("/files/").headers["Location"].startswith("/change-password?next=")
    assert fresh.post("/api/me/password", json={"old_password": otp, "new_password": "mine at last"}).status_code == 204
    assert fresh.get("/api/contents").status_code == 200
    # a teacher manages students only
    admin_name = multi.get("/api/me").json()["user"]["name"]
    assert teacher.post(f"/api/users/{admin_name}/reset-password").status_code == 403
    assert teacher.post("/api/users", json={"username": unique("t"), "role": "teacher"}).status_code == 403


def test_csv_import_one_time_passwords(multi):
    a, b = unique("csva"), unique("csvb")
    existing = make_user(multi)
    csv = f"username,display_name\n{a},Ada Lovelace\n{b},\"Babbage, Charles\"\n9bad,Nine\n{existing.name},Again\n"
    r = multi.post("/api/users/import", data=csv.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [c["username"] for c in out["created"]] == [a, b]
    assert out["created"][1]["display_name"] == "Babbage, Charles"
    assert [e["line"] for e in out["errors"]] == [4, 5]
    assert "starts with a letter" in out["errors"][0]["message"] and "taken" in out["errors"][1]["message"]
    first = Person(multi, a, out["created"][0]["one_time_password"])
    assert first.login().headers["Location"].startswith("/change-password")
    assert multi.post("/api/users/import", json={"x": 1}).status_code == 400  # JSON is not a class list


def test_remove_user_keeps_projects_archived(multi):
    person = make_user(multi)
    home = person.home()
    assert multi.delete(f"/api/users/{person.name}").status_code == 204
    assert person.get("/api/me").status_code == 403
    projects = {p["id"]: p for p in multi.get("/api/projects?archived=1").json()}
    assert projects[home]["archived"] is True
    assert (multi.data_dir / "projects" / home).is_dir()


def test_passwords_hashed_with_argon2id(multi):
    person = make_user(multi)
    db = sqlite3.connect(multi.data_dir / "salvus.db")
    (stored,) = db.execute("select password_hash from users where name = ?", (person.name,)).fetchone()
    db.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
