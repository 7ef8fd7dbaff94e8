"""Chat in real browsers (issue 10): two people on one project's notebook; a message with @mention and math
arrives live on the other's page with an unread badge; markup in messages stays inert; search opens a message."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.accounts.conftest import PASSWORD, Person, make_user, multi  # noqa: F401  (module-scoped server)
from tests.conftest import Server

from .hold import Hold, pump_until, release_and_settle, settle

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
EMPTY_NOTEBOOK = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}


@dataclass
class Pair:
    srv: Server
    project: str
    alice: Person
    bob: Person
    notebook: str


@pytest.fixture(scope="module")
def pair(multi: Server) -> Pair:  # noqa: F811
    alice, bob = make_user(multi, prefix="alice"), make_user(multi, prefix="bob")
    project = alice.home()
    assert alice.put(f"/api/projects/{project}/collaborators/{bob.name}", json={"role": "editor"}).status_code == 200
    notebook = f"chat-{uuid.uuid4().hex[:6]}.ipynb"
    assert alice.put(f"/p/{project}/api/contents/{notebook}", json=EMPTY_NOTEBOOK).status_code in (200, 201)
    return Pair(multi, project, alice, bob, notebook)


def open_as(browser: object, srv: Server, who: Person, path: str, width: int = 1280, height: int = 800,
            frames: list[str] | None = None) -> object:
    """A fresh browser context signed in as who (login form), at path; frames collects what its websockets receive."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    if frames is not None:
        page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(data if isinstance(data, str) else "")))
    page.errors, page.dialogs = [], []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(srv.url("/login", next=path))
    page.fill("#username", who.name)
    page.fill("#password", PASSWORD)
    page.click("form.password-login button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path.split("#")[0]) + r"(#.*)?$"))
    return page


@pytest.fixture
def pages(browser: object, pair: Pair) -> Iterator[tuple[object, object]]:
    url = f"/p/{pair.project}/notebooks/{pair.notebook}"
    a, b = open_as(browser, pair.srv, pair.alice, url), open_as(browser, pair.srv, pair.bob, url)
    yield a, b
    for page in (a, b):
        assert not page.errors, page.errors
        page.context.close()


def test_a_message_appears_live_for_the_other_user(pages: tuple[object, object], pair: Pair) -> None:
    a, b = pages
    expect(b.locator(".chat-toggle")).to_be_visible()
    expect(b.locator(".chat-badge")).to_be_hidden()

    a.locator(".chat-toggle").click()
    box = a.locator(".chat-panel .chat-input")
    expect(box).to_be_focused(timeout=20_000)  # the panel's code loads on first open
    box.press_sequentially(f"@{pair.bob.name[:3]}")
    expect(a.locator(".chat-complete-item").first).to_have_attribute("data-name", pair.bob.name)
    box.press("Tab")
    expect(box).to_have_value(f"@{pair.bob.name} ")
    box.press_sequentially("what is $x^2$ here?")
    box.press("Enter")
    expect(box).to_have_value("")
    # This message's math (other tests of the module may have left messages with math before it).
    expect(a.locator(".chat-msg.mine", has_text="here?").locator(".katex")).to_be_visible()

    # Bob's page, panel closed: the badge counts it, red because it mentions him.
    badge = b.locator(".chat-toggle .chat-badge")
    expect(badge).to_have_text("1", timeout=20_000)
    expect(badge).to_have_class(re.compile(r"\bmention\b"))
    b.locator(".chat-toggle").click()
    message = b.locator(".chat-panel .chat-msg").last
    expect(message.locator(".katex")).to_be_visible(timeout=20_000)  # $x^2$ typeset by KaTeX
    expect(message.locator(".katex-mathml")).to_contain_text("x^2")  # the TeX source, kept as MathML text
    expect(message.locator(".mention.me")).to_have_text(f"@{pair.bob.name}")
    expect(message).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(badge).to_be_hidden()  # seen, so read
    assert pair.bob.get(f"/p/{pair.project}/api/chat/unread").json()["total"] == 0

    # While his panel is open, Alice's next message arrives without a reload; her edit too.
    a.locator(".chat-panel .chat-input").fill("second, with **bold**")
    a.locator(".chat-panel .chat-input").press("Enter")
    expect(b.locator(".chat-panel .chat-msg strong").filter(has_text="bold")).to_be_visible(timeout=20_000)
    a.locator(".chat-msg.mine").last.hover()
    a.locator(".chat-msg.mine").last.get_by_role("button", name="Edit").click()
    a.locator(".chat-edit-input").fill("second, edited")
    a.locator(".chat-edit-input").press("Enter")
    expect(b.locator(".chat-panel .chat-msg").last).to_contain_text("second, edited", timeout=20_000)
    expect(b.locator(".chat-panel .chat-msg").last.locator(".chat-edited")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.screenshot(path=str(SHOTS / "chat-desktop.png"))

    # The "@" tab lists the messages that mention him (in every project), each a link to its chat.
    b.locator(".chat-tab-mentions").click()
    mention = b.locator(".chat-mention").first
    expect(mention).to_contain_text("what is")
    expect(mention).to_have_attribute("href", re.compile(rf"/notebooks/{re.escape(pair.notebook)}#chat=\d+$"))
    expect(b.locator(".chat-compose")).to_be_hidden()
    b.locator(".chat-tab").first.click()
    expect(b.locator(".chat-compose")).to_be_visible()


def test_markup_in_messages_stays_inert(pages: tuple[object, object], pair: Pair) -> None:
    a, b = pages
    evil = ('<img src=x onerror="alert(1)"> <script>alert(2)</script> [click](javascript:alert(3)) '
            '<iframe src="javascript:alert(4)"></iframe> <a href="#" onclick="alert(5)">x</a> '
            '<form action="/api/chat"><button>go</button></form> $\\href{javascript:alert(6)}{y}$')
    assert pair.alice.post(f"/p/{pair.project}/api/chat", json={"body": evil, "path": pair.notebook}).status_code == 201
    b.locator(".chat-toggle").click()
    last = b.locator(".chat-panel .chat-msg").last
    expect(last).to_contain_text("click", timeout=20_000)
    body = last.locator(".chat-body")
    assert body.locator("script, iframe, form, [onerror], [onclick]").count() == 0
    assert all(not (href or "").lower().startswith("javascript:")
               for href in body.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    body.locator("a", has_text="click").click(modifiers=["Control"]) if body.locator("a", has_text="click").count() else None
    assert not b.dialogs and not b.evaluate("window.__pwned === true")


def test_search_opens_the_chat_at_a_message(pages: tuple[object, object], pair: Pair) -> None:
    _, b = pages
    needle = f"needle{uuid.uuid4().hex[:6]}"
    mid = pair.alice.post(f"/p/{pair.project}/api/chat", json={"body": f"the {needle} is here",
                                                                "path": pair.notebook}).json()["id"]
    b.goto(pair.srv.url(f"/p/{pair.project}/files/"))
    box = b.locator(".search-input")
    box.fill(needle)
    hit = b.locator(".search-hit.chat-hit")
    expect(hit).to_contain_text(pair.notebook, timeout=20_000)
    expect(hit.locator("mark")).to_have_text(needle)
    hit.click()
    b.wait_for_url(re.compile(rf"/notebooks/{re.escape(pair.notebook)}#chat={mid}$"))
    expect(b.locator(f".chat-panel .chat-msg[data-id='{mid}']")).to_have_class(re.compile(r"\bfound\b"), timeout=20_000)


def test_a_message_arriving_while_the_chat_loads_stays(browser: object, pair: Pair) -> None:
    """The chat's page is read before a message is posted but arrives after its live event: the message stays."""
    frames: list[str] = []
    b = open_as(browser, pair.srv, pair.bob, f"/p/{pair.project}/notebooks/{pair.notebook}", frames=frames)
    try:
        hold = Hold(b, r"/api/chat\?", read_now=True)  # the panel's first page: read now, delivered late
        b.locator(".chat-toggle").click()
        hold.wait(what="the chat's first page")
        text = f"posted meanwhile {uuid.uuid4().hex[:6]}"
        r = pair.alice.post(f"/p/{pair.project}/api/chat", json={"body": text, "path": pair.notebook})
        assert r.status_code == 201, r.text
        pump_until(b, lambda: any(text in f for f in frames), "the message's live event on Bob's socket")
        settle(b)
        release_and_settle(b, hold)
        expect(b.locator(f".chat-panel .chat-msg[data-id='{r.json()['id']}']")).to_contain_text(text)
        assert not b.errors, b.errors
    finally:
        b.context.close()


def test_phone_layout_is_a_full_screen_sheet(browser: object, pair: Pair) -> None:
    url = f"/p/{pair.project}/notebooks/{pair.notebook}"
    page = open_as(browser, pair.srv, pair.bob, url, width=390, height=844)
    try:
        page.locator(".chat-toggle").click()
        panel = page.locator(".chat-panel")
        expect(panel).to_be_visible(timeout=20_000)
        rect = panel.bounding_box()
        assert rect["x"] == 0 and rect["y"] == 0 and rect["width"] == 390 and rect["height"] >= 800, rect
        expect(page.locator(".chat-panel .chat-input")).to_be_in_viewport()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "chat-phone.png"))
        page.locator(".chat-close").click()
        expect(panel).to_be_hidden()
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_posting_too_fast_shows_why_and_keeps_the_text(browser: object, start_server: object) -> None:
    # One message at once, then one every 100 s: the second message is refused however slow the run is.
    srv = start_server("--multi-user", env={"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python",
                                            "SALVUS_LOCAL_CHAT_BURST": "1", "SALVUS_LOCAL_CHAT_RATE": "0.01"})
    alice = make_user(srv, prefix="alice")
    project = alice.home()
    page = open_as(browser, srv, alice, f"/p/{project}/files/", width=390, height=844)
    try:
        page.locator(".chat-toggle").click()
        box = page.locator(".chat-panel .chat-input")
        expect(box).to_be_focused(timeout=20_000)
        box.fill("first")
        box.press("Enter")
        expect(page.locator(".chat-msg.mine")).to_have_count(1)
        box.fill("second, typed with care")
        box.press("Enter")
        notice = page.locator(".chat-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(re.compile(r"too fast .*try again in \d+ s"))
        expect(box).to_have_value("second, typed with care")
        expect(page.locator(".chat-msg.mine")).to_have_count(1)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "chat-too-fast-phone.png"))
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(SHOTS / "chat-too-fast-desktop.png"))
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_projects_list_shows_unread_chat_per_project(browser: object, pair: Pair) -> None:
    assert pair.bob.post(f"/p/{pair.project}/api/chat", json={"body": f"@{pair.alice.name} see the list"}).status_code == 201
    expected = sum(c["count"] for c in pair.alice.get("/api/notifications").json()["unread"]
                   if c["project_id"] == pair.project)
    for width, height, name in ((1280, 800, "desktop"), (390, 844, "phone")):
        page = open_as(browser, pair.srv, pair.alice, "/projects", width=width, height=height)
        try:
            badge = page.locator(f".project-card[data-id='{pair.project}'] .project-unread")
            expect(badge).to_have_text(str(expected), timeout=20_000)
            expect(badge).to_have_class(re.compile(r"\bmention\b"))
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"projects-unread-{name}.png"))
            assert not page.errors, page.errors
        finally:
            page.context.close()
    # Read, the badge goes.
    pair.alice.post(f"/p/{pair.project}/api/chat/read", json={})
    for c in pair.alice.get("/api/notifications").json()["unread"]:
        if c["project_id"] == pair.project and c["path"]:
            pair.alice.post(f"/p/{pair.project}/api/chat/read", json={"path": c["path"]})
    page = open_as(browser, pair.srv, pair.alice, "/projects")
    try:
        expect(page.locator(f".project-card[data-id='{pair.project}'] .project-title")).to_be_visible()
        expect(page.locator(f".project-card[data-id='{pair.project}'] .project-unread")).to_have_count(0)
    finally:
        page.context.close()
