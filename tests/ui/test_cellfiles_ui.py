"""Files a cell writes show under its output in the browser, and are still there after a reload."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import Server

from .conftest import KERNEL_TIMEOUT_MS, new_notebook_path, open_notebook, run_in_new_cell, wait_done


def test_written_files_shown_and_survive_reload(page: object, contents_client: Server) -> None:
    path = new_notebook_path()
    stem = path[:-6]
    try:
        open_notebook(page, contents_client, path)
        code = (f"p = plot(sin(x), (x, 0, 3)); p.save('{stem}.png'); p.save('{stem}.svg')\n"
                f"open('{stem}.csv', 'w').write('x,y\\n1,2\\n')")
        cell = run_in_new_cell(page, code)
        wait_done(cell)
        images = cell.locator(".output-area img.image-output")
        expect(images).to_have_count(2, timeout=KERNEL_TIMEOUT_MS)
        page.wait_for_function("() => [...document.querySelectorAll('.output-area img.image-output')]"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        links = cell.locator(".cell-files a.cell-file")
        expect(links).to_have_text([f"{stem}.csv", f"{stem}.png", f"{stem}.svg"])
        with page.expect_download() as dl:
            links.first.click()
        assert open(dl.value.path(), encoding="utf-8").read() == "x,y\n1,2\n"
        # Saved, exactly ("Unsaved changes" also contains "saved"): the reload then reads the file.
        expect(page.locator(".save-state")).to_have_attribute("data-state", "saved", timeout=KERNEL_TIMEOUT_MS)
        page.reload()
        cell = page.locator(".cell").first
        expect(cell.locator(".output-area img.image-output")).to_have_count(2)
        expect(cell.locator(".cell-files a.cell-file")).to_have_count(3)
        expect(page.locator(".save-state")).to_have_attribute("data-state", "saved")
        saved = contents_client.get(f"/api/contents/{path}").json()["content"]
        kinds = [sorted(o.get("data", {})) for o in saved["cells"][0]["outputs"]]
        assert ["application/vnd.salvus.files+json", "text/markdown", "text/plain"] in kinds
        assert not page.errors
    finally:
        for name in (path, f"{stem}.png", f"{stem}.svg", f"{stem}.csv"):
            contents_client.delete(f"/api/contents/{name}")
