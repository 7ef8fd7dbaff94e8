"""The project list: create, rename, archive, delete to the trash and restore, clone with progress."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import signin
from .hold import Hold, release_and_settle
from .workspace_helpers import unique


@pytest.fixture
def cleanup(client: Server) -> Iterator[list[str]]:
    """Project ids a test made; deleted (to the trash) at the end."""
    ids: list[str] = []
    yield ids
    for pid in ids:
        client.delete(f"/api/projects/{pid}")


def card(page: object, title: str) -> object:
    return page.locator(".project-card", has=page.locator(".project-title", has_text=re.compile(rf"^{re.escape(title)}$")))


def test_create_rename_archive_delete_restore(page: object, client: Server, cleanup: list[str]) -> None:
    title = unique("Course")
    signin(page, client, "/projects")
    page.locator(".create-project input").fill(title)
    page.locator(".create-project button").click()
    page.wait_for_url(re.compile(r"/p/[^/]+/files/$"))
    pid = page.url.split("/p/", 1)[1].split("/", 1)[0]
    cleanup.append(pid)
    expect(page.locator(".project-switch")).to_have_text(title)  # the switcher names the project

    page.goto(client.url("/projects"))
    page.locator(".tab[data-view=active]").wait_for()
    card(page, title).locator(".rename-project").click()
    page.locator(".ask-dialog .dialog-input").fill(f"{title} 2")
    page.locator(".ask-dialog .dialog-input").press("Enter")
    expect(card(page, f"{title} 2")).to_be_visible()
    assert client.get(f"/api/projects/{pid}").json()["title"] == f"{title} 2"
    title = f"{title} 2"

    card(page, title).locator(".archive-project").click()
    expect(card(page, title)).to_have_count(0)
    page.locator(".tab[data-view=archived]").click()
    card(page, title).locator(".unarchive-project").click()
    expect(card(page, title)).to_have_count(0)
    page.locator(".tab[data-view=active]").click()
    expect(card(page, title)).to_be_visible()

    card(page, title).locator(".delete-project").click()
    page.locator(".ask-dialog button[type=submit]").click()
    expect(card(page, title)).to_have_count(0)
    assert client.get(f"/api/projects/{pid}").status_code == 404
    page.locator(".tab[data-view=trash]").click()
    card(page, title).locator(".restore-project").click()
    expect(card(page, title)).to_have_count(0)
    assert client.get(f"/api/projects/{pid}").status_code == 200
    assert not page.errors


def test_clone_shows_progress_and_lands_in_the_list(page: object, client: Server, cleanup: list[str], tmp_path) -> None:
    repo = tmp_path / unique("origin")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README.md").write_text("# cloned\n")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "one"], check=True)
    signin(page, client, "/projects")
    page.locator(".clone-project input").fill(str(repo))
    page.locator(".clone-project button").click()
    expect(page.locator(".toast", has_text="Cloned into")).to_be_visible(timeout=60_000)
    expect(card(page, repo.name)).to_be_visible()
    pid = card(page, repo.name).get_attribute("data-id")
    cleanup.append(pid)
    assert client.get(f"/p/{pid}/api/contents/README.md").json()["content"] == "# cloned\n"


def test_bad_clone_url_is_reported(page: object, client: Server) -> None:
    signin(page, client, "/projects")
    page.locator(".clone-project input").fill("/no/such/repository")
    page.locator(".clone-project button").click()
    expect(page.locator(".job.failed")).to_contain_text("Failed", timeout=60_000)


def test_a_tab_clicked_while_the_first_list_loads_keeps_its_own_list(page: object, client: Server,
                                                                       cleanup: list[str]) -> None:
    """The first listing answers after the Archived tab's: the Archived tab must still show archived projects."""
    title = unique("Shelved")
    r = client.post("/api/projects", json={"title": title})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    cleanup.append(pid)
    assert client.patch(f"/api/projects/{pid}", json={"archived": True}).status_code == 200
    hold = Hold(page, r"/api/projects$")  # the first listing ("Projects" tab): held
    signin(page, client, "/projects")
    hold.wait(what="the first project listing")
    page.locator(".tab[data-view=archived]").click()
    expect(card(page, title)).to_be_visible()
    release_and_settle(page, hold)  # the older answer arrives last
    expect(card(page, title)).to_be_visible()
    expect(page.locator(".tab[data-view=archived]")).to_have_attribute("aria-selected", "true")
    assert not page.errors
