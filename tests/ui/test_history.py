"""History: versions of a file, a diff, and one-click recovery of a file blanked by accident."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import signin
from .workspace_helpers import get_text, mkdir, put_text, unique


def snapshot(client: Server) -> None:
    r = client.post("/api/projects/default/snapshots", json={"message": "test"})
    assert r.status_code == 200, r.text


def test_blanked_file_is_one_click_from_recovery(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("hist")
    mkdir(client, folder)
    path = f"{folder}/thesis.tex"
    put_text(client, path, "\\section{Results}\nA long proof.\n")
    snapshot(client)
    put_text(client, path, "")  # the accident
    signin(page, client, f"/edit/{path}")
    expect(page.locator(".save-state")).to_have_attribute("data-state", "saved")
    page.locator("button.history-button").click()
    panel = page.locator(".history-panel")
    expect(panel.locator(".version")).to_have_count(2)
    panel.locator("button.restore-previous").click()
    expect(page.locator(".cm-content")).to_contain_text("A long proof.")
    assert get_text(client, path) == "\\section{Results}\nA long proof.\n"
    # The restore is a new version: the blank one is still there to go back to.
    expect(panel.locator(".version")).to_have_count(3)
    assert not page.errors


def test_view_and_diff_versions(page: object, contents_client: Server) -> None:
    client = contents_client
    folder = unique("hist")
    mkdir(client, folder)
    path = f"{folder}/a.py"
    put_text(client, path, "one\ntwo\n")
    snapshot(client)
    put_text(client, path, "one\nTWO\nthree\n")
    signin(page, client, f"/edit/{path}")
    page.locator("button.history-button").click()
    panel = page.locator(".history-panel")
    expect(panel.locator(".version")).to_have_count(2)
    panel.locator(".version").first.locator("button", has_text="Changes").click()
    dialog = page.locator(".diff-dialog")
    expect(dialog.locator(".cm-deletedLine, .cm-changedLine").first).to_be_visible()
    expect(dialog).to_contain_text("three")
    dialog.locator("button.icon-button").click()
    panel.locator(".version").nth(1).locator("button", has_text="View").click()
    expect(page.locator(".diff-dialog button", has_text="Restore this version")).to_be_visible()
    page.locator(".diff-dialog button", has_text="Restore this version").click()
    expect(page.locator(".cm-content")).not_to_contain_text("three")
    assert get_text(client, path) == "one\ntwo\n"
