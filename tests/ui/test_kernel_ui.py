"""Kernel trouble as the user sees it: a dead kernel and a dropped websocket."""

from __future__ import annotations

from tests.conftest import Server

from .conftest import KERNEL_TIMEOUT_MS, new_notebook_path, open_notebook, run_in_new_cell, wait_done


def test_killed_kernel_shows_dead_and_restart_works(page: object, contents_client: Server) -> None:
    path = new_notebook_path()
    open_notebook(page, contents_client, path)
    run_in_new_cell(page, "import os; os._exit(1)")
    page.locator(".kernel-status[data-status=dead]").wait_for(timeout=KERNEL_TIMEOUT_MS)
    banner = page.locator(".banner")
    banner.filter(has_text="kernel died").wait_for()
    banner.locator("button", has_text="Restart").click()
    page.locator(".kernel-status[data-status=idle]").wait_for(timeout=KERNEL_TIMEOUT_MS)
    assert banner.is_hidden()
    cell = run_in_new_cell(page, "20 + 22")
    cell.locator(".output-area", has_text="42").wait_for(timeout=KERNEL_TIMEOUT_MS)
    contents_client.delete(f"/api/contents/{path}")


def test_websocket_drop_reconnects(page: object, contents_client: Server) -> None:
    path = new_notebook_path()
    open_notebook(page, contents_client, path)
    wait_done(run_in_new_cell(page, "kept = 'still here'"))  # ran before the drop, so only the drop is tested
    page.evaluate("window.salvus.kernel.dropConnection()")
    page.locator(".toast", has_text="Reconnected").wait_for(timeout=KERNEL_TIMEOUT_MS)
    page.locator(".kernel-status[data-status=idle]").wait_for(timeout=KERNEL_TIMEOUT_MS)
    cell = run_in_new_cell(page, "print(kept)")  # same kernel: its variables survived
    cell.locator(".output-area", has_text="still here").wait_for(timeout=KERNEL_TIMEOUT_MS)
    contents_client.delete(f"/api/contents/{path}")
