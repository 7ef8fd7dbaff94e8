"""Search over past computations: the top bar finds a cell's computation and opens it at that cell."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import KERNEL_TIMEOUT_MS, new_notebook_path, open_notebook, run_in_new_cell, signin, wait_done


def test_search_finds_a_computation_and_opens_its_cell(page: object, contents_client: Server) -> None:
    client = contents_client
    path = new_notebook_path()
    needle = f"needle{uuid.uuid4().hex[:8]}"
    open_notebook(page, client, path)
    wait_done(run_in_new_cell(page, "1 + 1"))
    cell = run_in_new_cell(page, f"{needle} = 6*7; {needle}")
    wait_done(cell)
    uid = cell.get_attribute("data-uid")
    page.locator(".save-state").filter(has_text="All changes saved").wait_for(timeout=KERNEL_TIMEOUT_MS)

    # From another page, the top bar's search box finds it.
    signin(page, client, "/files/")
    box = page.locator(".search-input")
    box.click()
    box.fill(needle)
    hit = page.locator(".search-hit").filter(has_text=path)
    expect(hit).to_be_visible(timeout=20_000)
    expect(hit.locator(".hit-project")).to_have_text("Default")
    expect(hit.locator(".hit-input mark").first).to_have_text(needle)
    expect(hit.locator(".hit-output")).to_contain_text("42")
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url(f"**/notebooks/{path}#cell={uid}")
    found = page.locator(f".cell[data-uid='{uid}']")
    # The notebook page still loads (its file, the kernel list) after the URL changed: a slow machine's pace.
    expect(found).to_have_class(re.compile(r"\bfound\b"), timeout=KERNEL_TIMEOUT_MS)
    expect(found).to_have_class(re.compile(r"\bselected\b"))
    expect(found).to_be_in_viewport()
    # The highlight fades (CSS), but the cell stays marked until another cell is selected: a check that
    # comes late (a loaded machine) still finds it.
    found.evaluate("el => Promise.all(el.getAnimations().map((a) => a.finished)).then(() => true)")
    expect(found).to_have_class(re.compile(r"\bfound\b"))
    page.locator(".cell").first.locator(".prompt").click()
    expect(found).not_to_have_class(re.compile(r"\bfound\b"))
    client.delete(f"/api/contents/{path}")


def test_search_without_words_and_without_hits(page: object, client: Server) -> None:
    signin(page, client, "/projects")
    box = page.locator(".search-input")
    box.fill(f"nothing{uuid.uuid4().hex}")
    expect(page.locator(".search-empty")).to_contain_text("No computation or chat message matches")
    box.fill("  ")
    expect(page.locator(".search-results")).to_be_hidden()
    r = client.get("/api/search?q=%20%20")
    assert r.status_code == 400  # the API refuses an empty query; the box never sends one
