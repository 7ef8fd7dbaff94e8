"""The top bar stays one row on desktop widths, whatever the title (issue 8, item 7)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import wait_idle

LONG = "A rather long notebook title about elliptic curves and modular forms, draft 3"


@pytest.mark.parametrize("width", [1024, 1200, 1280, 1440])
def test_search_box_stays_on_the_title_row(browser: object, contents_client: Server, width: int, tmp_path: Path) -> None:
    name = f"{LONG} {width}.ipynb"
    r = contents_client.put(f"/api/contents/{quote(name)}", json={"type": "notebook", "content": {
        "cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}})
    assert r.status_code in (200, 201), r.text
    context = browser.new_context(viewport={"width": width, "height": 700})
    page = context.new_page()
    try:
        page.goto(contents_client.url(f"/notebooks/{quote(name)}", token=contents_client.token))
        wait_idle(page)
        expect(page.locator(".save-state")).to_have_text("All changes saved")
        box = lambda sel: page.locator(sel).first.bounding_box()  # noqa: E731
        bar, title, search, badge = box(".topbar"), box(".nb-title"), box(".search-input"), box(".kernel-status")
        page.screenshot(path=str(tmp_path / f"header-{width}.png"))
        assert bar["height"] < 60, bar  # one row
        for item in (search, badge):
            assert item["y"] < title["y"] + title["height"] and item["x"] + item["width"] <= width, (item, title)
        assert title["x"] + title["width"] <= badge["x"]  # the title gave way (ellipsis), nothing overlaps
        assert page.locator(".nb-title").get_attribute("title").startswith(name)  # the full name on hover
        assert page.locator(".save-state").evaluate("el => el.scrollWidth <= el.clientWidth")  # not cut
    finally:
        context.close()
        contents_client.delete(f"/api/contents/{quote(name)}")
