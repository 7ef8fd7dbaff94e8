"""Sync in the browser: approving `sync login` on the hub's page; badges, Sync button, conflict list, background sync.

A hub (multi-user salvus-local) and a laptop (single-user salvus-local with a short sync interval),
each on its own data dir, the real git between them, Chromium on both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.accounts.conftest import PYTHON_ONLY, make_user
from tests.conftest import REPO, Server, wait_for
from tests.sync.conftest import sync_token

SHOTS = os.environ.get("SALVUS_SCREENSHOTS")
CODE = re.compile(r"enter the code ([A-Z0-9]{4}-[A-Z0-9]{4})")

pytest.importorskip("playwright.sync_api")


@pytest.fixture
def hub(start_server, tmp_path: Path) -> Server:
    data = tmp_path / "hub"
    data.mkdir()
    return start_server("--multi-user", env=PYTHON_ONLY, data_dir=data)


def shot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def person_page(browser: object, server: Server, name: str, path: str, width: int = 1280, height: int = 800) -> object:
    """A browser of user name, signed in through the login form, on path."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(server.url("/login", next=path))
    page.fill("#username", name)
    page.fill("#password", "correct horse 42")
    page.click("form.password-login button[type=submit]")
    return page


def sync_now(laptop: Server, pid: str) -> dict:
    """POST …/sync, waiting while a background sync of the project runs (409)."""
    got: list[dict] = []

    def attempt() -> bool:
        r = laptop.post(f"/api/projects/{pid}/sync", json={"action": "sync"})
        if r.status_code == 409:
            return False
        assert r.status_code == 200, r.text
        got.append(r.json())
        return True

    wait_for(attempt, timeout=120, what="the project's sync")
    return got[0]


def test_device_login_is_approved_on_the_hub_page(browser: object, hub: Server, tmp_path: Path) -> None:
    alice = make_user(hub, prefix="alice")
    laptop_data = tmp_path / "laptop"
    argv = [sys.executable, "-m", "salvus_local", "sync", "--data-dir", str(laptop_data), "--machine", "my-laptop",
            "login", hub.base_url, "--no-browser"]
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True).start()
    wait_for(lambda: any(CODE.search(ln) for ln in lines), timeout=60, what="the code")
    code = next(CODE.search(ln).group(1) for ln in lines if CODE.search(ln))
    for width, height in ((1280, 800), (390, 844)):
        page = person_page(browser, hub, alice.name, f"/sync/device?code={code}", width, height)
        page.wait_for_selector(".device-machine")
        assert page.inner_text(".device-machine") == "my-laptop" and page.inner_text(".device-code") == code
        shot(page, f"sync-device-{width}.png")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        if width == 390:
            page.click("button.device-allow")
            page.wait_for_selector(".device-done")
            assert "my-laptop can now sync" in page.inner_text(".device-done")
            shot(page, f"sync-device-done-{width}.png")
        assert not page.errors, page.errors
        page.context.close()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and f"as {alice.name}" in out, "".join(lines)
    # Without a code the page asks for it; a wrong one says so.
    page = person_page(browser, hub, alice.name, "/sync/device")
    page.fill("#f-user_code", "BBBB-BBBB")
    page.click("form.device-form button[type=submit]")
    page.wait_for_selector(".form-error:not([hidden])")
    assert "No sign-in is waiting for that code" in page.inner_text(".form-error")


def test_badges_sync_button_conflicts_and_background_sync(browser: object, hub: Server, start_server,
                                                          tmp_path: Path) -> None:
    alice = make_user(hub, prefix="alice")
    home = alice.home()
    laptop_data = tmp_path / "laptop"
    laptop_data.mkdir()
    # Timer syncs far apart: the background syncs here are the one after linking and the ones after saves.
    laptop = start_server("--sync-interval", "3600", env=PYTHON_ONLY, data_dir=laptop_data)
    subprocess.run([sys.executable, "-m", "salvus_local", "sync", "--data-dir", str(laptop_data), "login",
                    hub.base_url, "--token", sync_token(alice)], cwd=REPO, check=True, capture_output=True)
    r = laptop.post("/api/projects", json={"title": "Thesis"})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    put = lambda srv, prefix, path, text: srv.put(f"{prefix}/api/contents/{path}",
                                                  json={"type": "file", "format": "text", "content": text})
    put(laptop, f"/p/{pid}", "same.txt", "base\n")
    r = laptop.put(f"/api/projects/{pid}/sync", json={"remote": hub.url(f"/git/{alice.name}/{pid}.git")})
    assert r.status_code == 200 and r.json()["remote"], r.text
    # The first background sync creates the project on the hub (first push) and pushes the file.
    wait_for(lambda: alice.get(f"/p/{pid}/api/contents/same.txt").status_code == 200, timeout=120,
             what="the background sync to push to the hub")
    wait_for(lambda: laptop.get(f"/api/projects/{pid}/sync").json()["state"] == "synced", timeout=60,
             what="the laptop to say synced")
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(laptop.url("/projects", token=laptop.token))
    card = page.locator(f'.project-card[data-id="{pid}"]')
    card.locator(".sync-badge.sync-synced").wait_for()
    # When it synced depends on the machine's pace; that it shows a time (not "never") does not.
    expect(card.locator(".sync-when")).to_have_text(re.compile(r"last sync (just now|\d+ min ago)"))
    # A save on the laptop syncs by itself soon after (no button pressed).
    put(laptop, f"/p/{pid}", "saved.txt", "saved on the laptop\n")
    wait_for(lambda: alice.get(f"/p/{pid}/api/contents/saved.txt").status_code == 200, timeout=120,
             what="the save to be synced in the background")
    # Both sides change the same file: the Sync button merges, the badge says conflict.
    assert put(alice, f"/p/{pid}", "same.txt", "the hub's version\n").status_code == 200
    put(laptop, f"/p/{pid}", "same.txt", "the laptop's version\n")
    result = sync_now(laptop, pid)
    assert result["ok"] and result["status"]["state"] == "conflict", result
    page.reload()
    card = page.locator(f'.project-card[data-id="{pid}"]')
    card.locator(".sync-badge.sync-conflict").wait_for()
    card.locator("button.sync-now").click()
    card.locator(".sync-badge.sync-conflict").wait_for()
    shot(page, "sync-projects-1280.png")
    # The project page: the badge in the top bar opens the conflict list linking both versions.
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(laptop.url(f"/p/{pid}/files/"))
        page.locator(".sync-summary .sync-conflict").click()
        mine = page.locator(".sync-conflicts .sync-mine")
        theirs = page.locator(".sync-conflicts .sync-theirs")
        mine.wait_for()
        assert mine.inner_text() == "same.txt" and theirs.inner_text().startswith("same (from hub, ")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"sync-panel-{width}.png")
    other = theirs.inner_text()
    theirs.click()
    page.wait_for_url(re.compile(r"/edit/"))
    expect(page.locator(".cm-content")).to_contain_text("the hub's version")  # the editor fills after it shows
    assert laptop.get(f"/p/{pid}/api/contents/same.txt").json()["content"] == "the laptop's version\n"
    # Deleting the other version resolves the conflict; the badge follows.
    assert laptop.delete(f"/p/{pid}/api/contents/{other}").status_code == 204
    sync_now(laptop, pid)
    page.goto(laptop.url("/projects"))
    page.locator(f'.project-card[data-id="{pid}"] .sync-badge.sync-synced').wait_for()
    # The hub goes away: the next sync says offline (and editing goes on).
    hub.stop()
    result = sync_now(laptop, pid)
    assert not result["ok"] and result["kind"] == "offline" and result["status"]["state"] == "offline"
    page.reload()
    page.locator(f'.project-card[data-id="{pid}"] .sync-badge.sync-offline').wait_for()
    shot(page, "sync-projects-offline-1280.png")
    assert put(laptop, f"/p/{pid}", "offline.txt", "still editing\n").status_code in (200, 201)
    assert not page.errors, page.errors
