"""The account pages in real Chromium against a real ``salvus-local --multi-user``: each browser
context is another person (the teacher through the printed token URL, students by password).

Sign-up with the class code and approval, the class list import with login slips and the forced
password change, a password change signing out another browser, collaborators (a viewer sees
"Shared with me" and cannot write), the teacher stopping a student's session, API tokens, and
every account page fitting a desktop and a phone screen.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import Server, wait_for

from .conftest import KERNEL_TIMEOUT_MS

PASSWORD = "correct horse battery"
# Set SALVUS_SCREENSHOTS=DIR to keep the screenshots the layout test takes.
SHOTS = os.environ.get("SALVUS_SCREENSHOTS")


@pytest.fixture(scope="module")
def multi(browser: object) -> Iterator[Server]:
    """One multi-user server for this module (each test makes its own accounts)."""
    try:
        srv = Server("--multi-user")
    except RuntimeError as exc:
        if "--multi-user" in str(exc):
            pytest.skip("salvus-local has no --multi-user yet")
        raise
    r = srv.get("/api/me")
    if r.status_code == 404:
        srv.stop()
        pytest.skip("the server has no accounts yet (GET /api/me is 404)")
    assert r.json()["mode"] == "multi", r.text
    yield srv
    srv.stop()


def name(prefix: str = "s") -> str:
    """A username no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def make_user(server: Server, username: str, role: str = "student", password: str = PASSWORD) -> dict:
    """Make an active account with a known password through the admin's API (the server token)."""
    r = server.post("/api/users", json={"username": username, "password": password, "role": role,
                                        "display_name": username.title()})
    assert r.status_code == 201, r.text
    return r.json()["user"]


def context(browser: object, width: int = 1280, height: int = 800) -> object:
    """A fresh browser context (another person's browser) with page-error recording."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    ctx.errors = []
    ctx.on("page", lambda p: p.on("pageerror", lambda exc: ctx.errors.append(str(exc))))
    return ctx


def teacher_page(browser: object, server: Server, path: str = "/teacher") -> object:
    """The admin (the person at the keyboard) opening the printed token URL."""
    page = context(browser).new_page()
    page.goto(server.url(path, token=server.token))
    return page


def login(page: object, server: Server, username: str, password: str = PASSWORD, path: str = "/") -> None:
    """Sign in through the login form."""
    page.goto(server.url("/login", next=path))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.password-login button[type=submit]")


def student_page(browser: object, server: Server, username: str, path: str = "/", **size: int) -> object:
    """A student's browser, signed in by password, on path."""
    page = context(browser, **size).new_page()
    login(page, server, username, path=path)
    page.wait_for_url(re.compile(re.escape(server.url(path)) + r"$"))
    return page


def api_json(page: object, method: str, path: str, body: object = None) -> tuple[int, object]:
    """Call the API from inside a page, as its scripts do (cookie + X-XSRFToken)."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
            const r = await fetch(path, {method, headers: {"Content-Type": "application/json",
                "X-XSRFToken": decodeURIComponent(xsrf)}, body: body == null ? undefined : JSON.stringify(body)});
            let data = null; try { data = await r.json(); } catch {}
            return [r.status, data];
        }""",
        [method, path, body],
    )


def test_login_page_asks_for_username_and_password(browser: object, multi: Server) -> None:
    page = context(browser).new_page()
    page.goto(multi.url("/projects"))
    page.wait_for_url(re.compile(r"/login\?next="))
    expect(page.locator("#username")).to_be_visible()
    expect(page.locator("#password")).to_be_visible()
    expect(page.locator("#token")).to_have_count(0)
    expect(page.locator("a[href$='/signup']")).to_be_visible()
    login(page, multi, "nobody-here", "wrong password")
    expect(page.locator(".error")).to_be_visible()
    page.context.close()


def test_single_user_login_keeps_the_token_form(browser: object, client: Server) -> None:
    page = context(browser).new_page()
    page.goto(client.url("/login"))
    expect(page.locator("#token")).to_be_visible()
    expect(page.locator("#username")).to_have_count(0)
    page.fill("#token", client.token)
    page.click("button[type=submit]")
    page.wait_for_url(client.url("/"))
    expect(page.locator(".user-menu")).to_have_count(0)  # one user: no account menu
    page.context.close()


def test_signup_with_class_code_waits_for_approval(browser: object, multi: Server) -> None:
    assert multi.patch("/api/join", json={"approval_required": True}).status_code == 200
    code = multi.get("/api/join").json()["class_code"]
    teacher = teacher_page(browser, multi)
    username = name()

    student = context(browser, 390, 844).new_page()
    student.goto(multi.url("/signup", code=code))
    expect(student.locator("#f-class_code")).to_have_value(code)
    student.fill("#f-username", username)
    student.fill("#f-password", PASSWORD)
    student.fill("#f-password2", PASSWORD)
    student.click(".signup-form button[type=submit]")
    expect(student.locator(".auth-card h1")).to_have_text("Waiting for approval")

    # Signed in but pending: every page leads back to the waiting card; the API refuses.
    student.goto(multi.url("/projects"))
    student.wait_for_url(re.compile(r"/signup\?next="))
    expect(student.locator(".auth-card h1")).to_have_text("Waiting for approval")
    status, body = api_json(student, "GET", "/api/projects")
    assert status == 403 and body["message"], body

    row = teacher.locator(".pending-row", has_text=username)
    expect(row).to_be_visible(timeout=15_000)  # the teacher's view polls
    row.locator(".approve").click()
    expect(row).to_have_count(0)
    # The waiting page notices the approval and goes on where the student was going.
    student.wait_for_url(multi.url("/projects"), timeout=30_000)
    expect(student.locator(".user-button")).to_have_text(username)

    laptop = context(browser).new_page()  # and the password works in another browser
    login(laptop, multi, username, path="/projects")
    laptop.wait_for_url(multi.url("/projects"))
    laptop.context.close()
    assert not student.context.errors and not teacher.context.errors
    student.context.close()
    teacher.context.close()


def test_rejected_signup_is_told(browser: object, multi: Server) -> None:
    assert multi.patch("/api/join", json={"approval_required": True}).status_code == 200
    code = multi.get("/api/join").json()["class_code"]
    username = name()
    student = context(browser).new_page()
    student.goto(multi.url("/signup", code=code))
    student.fill("#f-username", username)
    student.fill("#f-password", PASSWORD)
    student.fill("#f-password2", PASSWORD)
    student.click(".signup-form button[type=submit]")
    expect(student.locator(".auth-card h1")).to_have_text("Waiting for approval")
    teacher = teacher_page(browser, multi)
    teacher.locator(".pending-row", has_text=username).locator(".reject").click()
    teacher.locator(".ask-dialog button[type=submit]").click()
    expect(teacher.locator(".pending-row", has_text=username)).to_have_count(0)
    expect(student.locator(".auth-card h1")).to_have_text("Not approved", timeout=30_000)
    student.context.close()
    teacher.context.close()


def test_wrong_class_code_is_refused_with_a_message(browser: object, multi: Server) -> None:
    page = context(browser).new_page()
    page.goto(multi.url("/signup", code="NOT-THE-CODE"))
    page.fill("#f-username", name())
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password2", PASSWORD)
    page.click(".signup-form button[type=submit]")
    expect(page.locator(".form-error")).to_be_visible()
    expect(page.locator(".form-error")).not_to_be_empty()
    page.fill("#f-password2", PASSWORD + "x")  # a typo in the second password is caught here
    page.click(".signup-form button[type=submit]")
    expect(page.locator(".form-error")).to_have_text("The two passwords differ.")
    page.context.close()


def test_csv_import_prints_slips_and_first_login_forces_a_new_password(browser: object, multi: Server) -> None:
    a, b = name("ada"), name("alan")
    teacher = teacher_page(browser, multi)
    teacher.fill(".csv-input", f"{a},Ada Lovelace\n{b},Alan Turing\nBad Name!,Nobody\n")
    teacher.click(".import-button")
    expect(teacher.locator(".import-summary")).to_contain_text("2 accounts made")
    expect(teacher.locator(".import-errors li")).to_have_count(1)
    expect(teacher.locator(".user-row", has_text=a)).to_be_visible()
    teacher.click(".print-slips")
    teacher.wait_for_url(multi.url("/teacher/slips"))
    slip = teacher.locator(".slip", has_text=a)
    expect(slip.locator(".slip-user")).to_have_text(a)
    expect(slip.locator(".slip-name")).to_have_text("Ada Lovelace")
    one_time = slip.locator(".slip-password").inner_text().strip()
    assert len(one_time) >= 6
    expect(teacher.locator(".slip")).to_have_count(2)

    student = context(browser, 390, 844).new_page()
    login(student, multi, a, one_time, path="/projects")
    student.wait_for_url(re.compile(r"/change-password"))
    expect(student.locator(".auth-card h1")).to_have_text("Choose your password")
    student.fill("#f-old_password", one_time)
    student.fill("#f-new_password", PASSWORD)
    student.fill("#f-new_password2", PASSWORD)
    student.click(".password-form button[type=submit]")
    student.wait_for_url(multi.url("/projects"))
    status, me = api_json(student, "GET", "/api/me")
    assert status == 200 and me["user"]["name"] == a and not me["user"]["must_change_password"]

    other = context(browser).new_page()  # the one-time password is spent
    login(other, multi, a, one_time)
    expect(other.locator(".error")).to_be_visible()
    for ctx in (teacher.context, student.context, other.context):
        ctx.close()


def test_password_change_signs_out_the_other_browser(browser: object, multi: Server) -> None:
    username = name()
    make_user(multi, username)
    laptop = student_page(browser, multi, username, "/settings")
    phone = student_page(browser, multi, username, "/projects", width=390, height=844)
    assert api_json(phone, "GET", "/api/me")[0] == 200

    laptop.fill("#f-old_password", PASSWORD)
    laptop.fill("#f-new_password", PASSWORD + "2")
    laptop.fill("#f-new_password2", PASSWORD + "2")
    laptop.click(".password-form button[type=submit]")
    expect(laptop.locator(".toast")).to_contain_text("Password changed")
    assert api_json(laptop, "GET", "/api/me")[0] == 200  # this browser stays signed in

    wait_for(lambda: api_json(phone, "GET", "/api/me")[0] in (401, 403), what="the phone's session revoked")
    phone.goto(multi.url("/projects"))
    phone.wait_for_url(re.compile(r"/login"))
    login(phone, multi, username, PASSWORD + "2", path="/projects")
    phone.wait_for_url(multi.url("/projects"))
    laptop.context.close()
    phone.context.close()


def test_collaborator_viewer_sees_shared_project_and_cannot_write(browser: object, multi: Server) -> None:
    owner, viewer = name("own"), name("view")
    make_user(multi, owner)
    make_user(multi, viewer)
    mine = student_page(browser, multi, owner, "/projects")
    status, project = api_json(mine, "POST", "/api/projects", {"title": f"Shared {owner}"})
    assert status == 201, project
    mine.reload()
    card = mine.locator(".project-card", has_text=project["title"])
    card.locator(".collaborators-button").click()
    dialog = mine.locator(".collab-dialog")
    dialog.locator(".collab-user").fill(viewer)
    dialog.locator(".add-collab .role-select").select_option("viewer")
    dialog.locator(".add-collab button").click()
    expect(dialog.locator(".collab-row", has_text=viewer).locator(".role-select")).to_have_value("viewer")
    dialog.locator(".add-collab .collab-user").fill("no-such-user-here")
    dialog.locator(".add-collab button").click()
    expect(dialog.locator(".form-error")).to_be_visible()
    mine.keyboard.press("Escape")

    theirs = student_page(browser, multi, viewer, "/projects")
    expect(theirs.locator(".project-card", has_text=project["title"])).to_have_count(0)  # not under "Mine"
    theirs.click(".tab[data-view=shared]")
    shared = theirs.locator(".project-card", has_text=project["title"])
    expect(shared.locator(".role-badge")).to_have_text(f"Read only · shared by {owner}")
    expect(shared.locator(".rename-project, .delete-project, .collaborators-button")).to_have_count(0)
    expect(shared.locator("a", has_text="Terminal")).to_have_count(0)

    theirs.goto(multi.url(f"/p/{project['id']}/files/"))  # the project's pages say so and offer no writes
    expect(theirs.locator(".read-only-badge")).to_be_visible()
    expect(theirs.locator(".toolbar .new-notebook")).to_be_hidden()
    expect(theirs.locator(".topnav .navlink", has_text="Terminal")).to_be_hidden()
    theirs.goto(multi.url("/projects"))
    base = f"/p/{project['id']}/api"
    status, _ = api_json(theirs, "GET", f"{base}/contents")
    assert status == 200  # a viewer reads
    status, body = api_json(theirs, "PUT", f"{base}/contents/x.txt", {"type": "file", "format": "text", "content": "hi"})
    assert status == 403 and body["message"], body  # and cannot write
    status, body = api_json(theirs, "POST", f"{base}/kernels", {"name": "python3"})
    assert status == 403, body
    assert multi.get(f"{base}/contents/x.txt").status_code == 404

    # The owner takes it back: the viewer's "Shared with me" empties.
    mine.reload()
    mine.locator(".project-card", has_text=project["title"]).locator(".collaborators-button").click()
    mine.locator(".collab-row", has_text=viewer).locator(".remove-collab").click()
    expect(mine.locator(".collab-row", has_text=viewer)).to_have_count(0)
    theirs.reload()
    theirs.click(".tab[data-view=shared]")
    expect(theirs.locator(".project-card", has_text=project["title"])).to_have_count(0)
    assert not mine.context.errors and not theirs.context.errors
    mine.context.close()
    theirs.context.close()


def test_teacher_sees_and_stops_a_students_session(browser: object, multi: Server) -> None:
    username = name()
    make_user(multi, username)
    student = student_page(browser, multi, username, "/projects")
    status, kernel = api_json(student, "POST", "/api/kernels", {"name": "python3"})
    assert status == 201, kernel

    teacher = teacher_page(browser, multi)
    row = teacher.locator(f".session-row[data-kernel='{kernel['id']}']")
    expect(row).to_be_visible(timeout=KERNEL_TIMEOUT_MS)
    expect(row.locator(".who")).to_contain_text(username.title())
    expect(row.locator(".mem")).to_have_text(re.compile(r"\d+(\.\d)? (MB|GB)"))
    expect(row.locator(".cpu")).to_have_text(re.compile(r"\d+ %"))
    row.locator(".stop-session").click()
    teacher.locator(".ask-dialog button[type=submit]").click()
    expect(row).to_have_count(0, timeout=30_000)
    wait_for(lambda: api_json(student, "GET", f"/api/kernels/{kernel['id']}")[0] == 404, what="the kernel stopped")
    student.context.close()
    teacher.context.close()


def test_teacher_resets_a_password(browser: object, multi: Server) -> None:
    username = name()
    make_user(multi, username)
    student = student_page(browser, multi, username, "/projects")
    teacher = teacher_page(browser, multi)
    teacher.locator(".user-row", has_text=username).locator(".reset-password").click()
    teacher.locator(".ask-dialog button[type=submit]").click()
    one_time = teacher.locator(".secret-dialog .secret-value").input_value()
    assert one_time
    wait_for(lambda: api_json(student, "GET", "/api/me")[0] in (401, 403), what="the student signed out")
    login(student, multi, username, one_time, path="/projects")
    student.wait_for_url(re.compile(r"/change-password"))
    student.context.close()
    teacher.context.close()


def test_api_token_is_shown_once_and_works(browser: object, multi: Server) -> None:
    username = name()
    make_user(multi, username)
    page = student_page(browser, multi, username, "/settings")
    page.fill(".token-form input[name=note]", "my script")
    page.select_option(".token-form select[name=scope]", "api")
    page.click(".create-token")
    token = page.locator(".secret-dialog .secret-value").input_value()
    assert len(token) >= 20
    page.click(".secret-dialog .primary")
    row = page.locator(".token-row", has_text="my script")
    expect(row).to_be_visible()
    prefix = row.locator("code").inner_text().rstrip("…")
    assert token.startswith(prefix) and len(prefix) < len(token)

    for scheme in ("token", "Bearer"):
        r = requests.get(multi.url("/api/me"), headers={"Authorization": f"{scheme} {token}"}, timeout=30)
        assert r.status_code == 200 and r.json()["user"]["name"] == username, r.text
    page.reload()
    expect(row).to_be_visible()
    assert token not in page.content()  # only the prefix is ever shown again

    row.locator(".revoke-token").click()
    page.locator(".ask-dialog button[type=submit]").click()
    expect(row).to_have_count(0)
    r = requests.get(multi.url("/api/me"), headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code in (401, 403)
    page.context.close()


def test_student_cannot_use_the_teacher_page(browser: object, multi: Server) -> None:
    username = name()
    make_user(multi, username)
    page = student_page(browser, multi, username, "/projects")
    for path in ("/teacher", "/join"):
        # The server refuses the page itself, or the page says so (its API calls are refused).
        if page.goto(multi.url(path)).status != 403:
            expect(page.locator("main")).to_contain_text("Only teachers and admins")
    assert api_json(page, "GET", "/api/join")[0] == 403
    page.goto(multi.url("/projects"))
    page.click(".user-button")
    expect(page.locator(".teacher-link")).to_have_count(0)
    page.click(".sign-out")
    page.wait_for_url(re.compile(r"/login"))
    assert api_json(page, "GET", "/api/me")[0] in (401, 403)
    page.context.close()


PAGES = ["/login", "/signup", "/teacher", "/join", "/settings", "/projects", "/teacher/slips", "/change-password"]


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
def test_account_pages_fit_the_screen(browser: object, multi: Server, width: int, height: int) -> None:
    """No account page scrolls sideways on a desktop or a phone; screenshots kept on request."""
    username = name("t")
    make_user(multi, username, role="teacher")
    ctx = context(browser, width, height)
    page = ctx.new_page()
    for path in PAGES:
        if path == "/teacher":
            login(page, multi, username, path="/teacher")
            page.wait_for_url(multi.url("/teacher"))
            assert api_json(page, "POST", "/api/projects", {"title": "Group theory"})[0] == 201
        else:
            page.goto(multi.url(path))
        page.wait_for_load_state("networkidle")
        if path == "/teacher":
            expect(page.locator(".join-qr")).to_be_visible()
        if path == "/projects":
            page.locator(".project-card .collaborators-button").first.click()
            expect(page.locator(".collab-dialog")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}×{height}"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"{path.strip('/').replace('/', '-') or 'home'}-{width}.png"))
        if path == "/projects":
            page.keyboard.press("Escape")
    assert not ctx.errors, ctx.errors
    ctx.close()


def test_first_admin_sets_a_password_without_an_old_one(browser: object, start_server: object) -> None:
    """The printed link signs the first admin in; /settings gives them a password for other browsers."""
    try:
        srv = start_server("--multi-user")
    except RuntimeError as exc:
        pytest.skip(f"no multi-user server: {exc}")
    admin = srv.get("/api/me").json()["user"]["name"]
    page = teacher_page(browser, srv, "/settings")
    expect(page.locator(".who")).to_contain_text(f"Signed in as {admin}")
    expect(page.locator(".password-section .hint").first).to_be_visible()
    page.fill("#f-new_password", PASSWORD)
    page.fill("#f-new_password2", PASSWORD)
    page.click(".password-form button[type=submit]")
    expect(page.locator(".toast")).to_contain_text("Password changed")
    other = context(browser).new_page()
    login(other, srv, admin, path="/teacher")
    other.wait_for_url(srv.url("/teacher"))
    expect(other.locator(".join-qr")).to_be_visible()
    page.context.close()
    other.context.close()


def test_single_user_teacher_page_says_what_it_needs(browser: object, client: Server) -> None:
    page = context(browser).new_page()
    page.goto(client.url("/teacher", token=client.token))
    expect(page.locator(".refusal")).to_contain_text("--lan")
    expect(page.locator(".shared-uid-banner")).to_have_count(0)
    page.goto(client.url("/settings"))
    expect(page.locator(".token-section")).to_contain_text("?token=")
    expect(page.locator(".password-form")).to_have_count(0)
    assert not page.context.errors, page.context.errors
    page.context.close()


def test_shared_uid_warning_on_every_page(browser: object, multi: Server, start_server: object) -> None:
    """With --allow-shared-uid (code of all users under one uid) every page says so; without, none does."""
    plain = teacher_page(browser, multi, "/projects")
    expect(plain.locator(".user-menu")).to_be_visible()
    expect(plain.locator(".shared-uid-banner")).to_have_count(0)
    plain.context.close()
    # As root, a uid range of 0 puts every project under one uid (the shared-uid mode).
    flags = ["--multi-user", "--allow-shared-uid", *(["--project-uid-min", "0"] if os.geteuid() == 0 else [])]
    try:
        srv = start_server(*flags)
    except RuntimeError as exc:
        if "no such option" in str(exc).lower():
            pytest.skip(f"salvus-local lacks an option of {flags}")
        raise
    if not srv.get("/api/me").json()["isolation"].get("shared_uid"):
        pytest.skip("this machine isolates users even with --allow-shared-uid")
    page = teacher_page(browser, srv, "/projects")
    for path in ("/projects", "/files/", "/settings", "/teacher", "/"):
        page.goto(srv.url(path))
        expect(page.locator(".shared-uid-banner")).to_contain_text("--allow-shared-uid")
    page.context.close()


def test_teacher_adds_a_student_and_manages_only_students(browser: object, multi: Server) -> None:
    teacher_name, student = name("t"), name("s")
    make_user(multi, teacher_name, role="teacher")
    page = student_page(browser, multi, teacher_name, "/teacher")
    expect(page.locator(".add-user select[name=role]")).to_have_count(0)  # only admins make teachers
    page.fill(".add-user input[name=username]", student)
    page.fill(".add-user input[name=display_name]", "Emmy Noether")
    page.click(".add-user button")
    one_time = page.locator(".secret-dialog .secret-value").input_value()
    page.click(".secret-dialog .primary")
    row = page.locator(f".user-row[data-name='{student}']")
    expect(row).to_contain_text("Emmy Noether")
    expect(row.locator(".reset-password")).to_be_visible()
    admin = multi.get("/api/me").json()["user"]["name"]
    expect(page.locator(f".user-row[data-name='{admin}'] button")).to_have_count(0)
    expect(page.locator(f".user-row[data-name='{teacher_name}'] button")).to_have_count(0)

    fresh = context(browser).new_page()
    login(fresh, multi, student, one_time, path="/projects")
    fresh.wait_for_url(re.compile(r"/change-password"))
    fresh.context.close()

    row.locator(".remove-user").click()
    expect(page.locator(".ask-dialog")).to_contain_text("archived and kept")
    page.locator(".ask-dialog button[type=submit]").click()
    expect(row).to_have_count(0)
    assert not any(u["name"] == student for u in multi.get("/api/users").json()["users"])
    assert not page.context.errors, page.context.errors
    page.context.close()


def test_teacher_approves_a_whole_class_and_an_admin_changes_a_role(browser: object, multi: Server) -> None:
    assert multi.patch("/api/join", json={"approval_required": True}).status_code == 200
    code = multi.get("/api/join").json()["class_code"]
    names = [name("p") for _ in range(3)]
    for n in names:  # three students sign up (each their own browser, as the API of the page does)
        s = requests.Session()
        s.get(multi.url("/login"))
        r = s.post(multi.url("/api/signup"), json={"username": n, "password": PASSWORD, "class_code": code},
                   headers={"X-XSRFToken": s.cookies.get("_xsrf", "")}, timeout=30)
        assert r.status_code == 201 and r.json()["user"]["status"] == "pending", r.text
    teacher = teacher_page(browser, multi)
    expect(teacher.locator(".approve-all")).to_be_visible()
    teacher.click(".approve-all")
    for n in names:
        expect(teacher.locator(f".user-row[data-name='{n}'] .status")).to_have_text("active")
    row = teacher.locator(f".user-row[data-name='{names[0]}']")
    row.locator(".user-role").select_option("teacher")
    expect(teacher.locator(".toast", has_text="is now a teacher")).to_be_visible()
    assert next(u for u in multi.get("/api/users").json()["users"] if u["name"] == names[0])["role"] == "teacher"
    assert not teacher.context.errors, teacher.context.errors
    teacher.context.close()


def test_admin_sees_other_peoples_projects_in_their_own_tab(browser: object, multi: Server) -> None:
    username = name()
    make_user(multi, username)
    student = student_page(browser, multi, username, "/projects")
    status, project = api_json(student, "POST", "/api/projects", {"title": f"Work of {username}"})
    assert status == 201, project
    admin = teacher_page(browser, multi, "/projects")
    expect(admin.locator(".project-card", has_text=project["title"])).to_have_count(0)  # not among "Mine"
    admin.click(".tab[data-view=others]")
    card = admin.locator(".project-card", has_text=project["title"])
    expect(card.locator(".role-badge")).to_have_text(f"{username}'s project")
    expect(card.locator(".collaborators-button")).to_be_visible()  # an admin may manage it
    student.context.close()
    admin.context.close()
