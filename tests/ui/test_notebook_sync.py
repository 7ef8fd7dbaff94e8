"""An open notebook and changes made to its file elsewhere: reload when clean, conflict when not."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import new_notebook_path, open_notebook
from .workspace_helpers import project_root


def notebook_with(source: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": source, "outputs": [],
                                  "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_external_change_reloads_a_saved_notebook(page: object, contents_client: Server) -> None:
    client = contents_client
    path = new_notebook_path()
    open_notebook(page, client, path)
    (project_root(client) / path).write_text(notebook_with("changed_elsewhere = 1"))
    expect(page.locator(".cell .cm-content").first).to_have_text("changed_elsewhere = 1", timeout=20_000)
    expect(page.locator(".conflict-bar")).to_be_hidden()
    client.delete(f"/api/contents/{path}")


def test_external_change_with_unsaved_edits_asks(page: object, contents_client: Server) -> None:
    client = contents_client
    path = new_notebook_path()
    open_notebook(page, client, path)
    # Hold the autosave back so the edit below stays unsaved while the file changes.
    page.evaluate("window.salvus.page.saver.save = async () => {}")
    page.locator(".cell .cm-content").first.click()
    page.keyboard.insert_text("mine = 1")
    (project_root(client) / path).write_text(notebook_with("theirs = 2"))
    bar = page.locator(".conflict-bar")
    expect(bar).to_contain_text("changed on disk", timeout=20_000)
    expect(page.locator(".cell .cm-content").first).to_have_text("mine = 1")  # nothing replaced
    page.evaluate("delete window.salvus.page.saver.save")  # the real save again
    bar.locator("button", has_text="Keep mine").click()
    expect(page.locator(".save-state")).to_have_text("All changes saved")
    saved = client.get(f"/api/contents/{path}").json()["content"]
    assert saved["cells"][0]["source"] == "mine = 1"
    client.delete(f"/api/contents/{path}")
