"""A runaway cell in the notebook page: how responsive the page stays, and how big the saved file gets.

Runs the real server and Debian's Chromium (as tests/ui do), types ``while True: print(1)``, and for
a fixed number of seconds times round trips into the page (a script call waits for the page's main
thread, so its latency is what a click would feel). Then it presses Stop, saves, and reports the
notebook's size. Loopback only; bounded in time.

    .venv/bin/python bench/output_flood.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import Server  # noqa: E402
from tests.ui.conftest import CHROMIUM_ARGS, chromium_path, open_notebook, run_in_new_cell, wait_done  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the flood runs before Stop")
    args = parser.parse_args()
    server = Server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            open_notebook(page, server, "flood.ipynb")
            cell = run_in_new_cell(page, "while True: print(1)")
            cell.locator(".stream-output").wait_for(timeout=120_000)
            latencies = []
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                t = time.perf_counter()
                page.evaluate("1")
                latencies.append((time.perf_counter() - t) * 1000)
                time.sleep(0.1)
            received = cell.locator(".stream-output.stdout").evaluate(
                "el => salvus.nb.cells[0].outputArea.outputs.find(o => o.name === 'stdout').text.length")
            t = time.perf_counter()
            page.locator("button.interrupt").click()
            wait_done(cell)
            stop_ms = (time.perf_counter() - t) * 1000
            page.keyboard.press("Control+s")
            page.locator(".save-state[data-state=saved]").wait_for()
            size = len(server.get("/api/contents/flood.ipynb", params={"type": "file", "format": "text"}).json()["content"])
            browser.close()
    finally:
        server.stop()
    lat = sorted(latencies)
    print(f"flood {args.seconds:.0f} s: {received:,} characters of output reached the page")
    print(f"page round trip during the flood: median {statistics.median(lat):.1f} ms, "
          f"p95 {lat[int(len(lat) * 0.95) - 1]:.1f} ms, max {lat[-1]:.1f} ms ({len(lat)} samples)")
    print(f"Stop click to cell finished: {stop_ms:.0f} ms")
    print(f"saved notebook: {size:,} bytes")


if __name__ == "__main__":
    main()
