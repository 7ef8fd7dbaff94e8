"""Hold a browser request until the test lets it go: the slow side of a race is then slow every time.

A race between two loads (a listing and a tab clicked meanwhile, a file read and a change event)
shows only when the first answer arrives after the second.  Under load that happens now and then;
with ``Hold`` it happens on every run, so a test pins the order down instead of hoping for it.
Nothing is mocked: the held request goes to the real server once released.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

WAIT_S = 60.0  # a loaded 2-core machine can take this long to issue a page's first requests


class Hold:
    """Hold the first ``count`` requests of ``page`` whose URL matches ``pattern`` (a regex); let later ones through.

    read_now: the server answers at once and only the answer is held (an old read arriving late);
    else the request itself waits and reaches the server on release.
    """

    def __init__(self, page: Any, pattern: str, count: int = 1, method: str = "GET", read_now: bool = False) -> None:
        self.page, self.count, self.method, self.read_now = page, count, method, read_now
        self.regex = re.compile(pattern)
        self.held: list[Any] = []
        self.answers: list[Any] = []
        self.released = False
        page.route(self.regex, self._route)

    def _route(self, route: Any) -> None:
        if not self.released and route.request.method == self.method and len(self.held) < self.count:
            self.answers.append(route.fetch() if self.read_now else None)
            self.held.append(route)
        else:
            route.continue_()

    def wait(self, n: int = 1, what: str = "the request to be held") -> None:
        """Wait until n requests are held."""
        pump_until(self.page, lambda: len(self.held) >= n, what)

    def release(self) -> None:
        """Let every held request (and any later one) go to the server."""
        self.released = True
        for route, answer in zip(self.held, self.answers, strict=True):
            if answer is None:
                route.continue_()
            else:
                route.fulfill(response=answer)


def pump_until(page: Any, predicate: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll predicate while Playwright delivers the page's events (route handlers run only then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.evaluate("() => 0")  # a round trip to the page (no page timer: the page's clock may be paused)
        time.sleep(0.02)


def settle(page: Any) -> None:
    """Let the page finish what the answers it already has set off (two frames and a task each)."""
    for _ in range(2):
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))")


def release_and_settle(page: Any, hold: Hold) -> None:
    """Release the held requests, wait for their answers to reach the page, and let it act on them."""
    with page.expect_response(lambda r: any(r.request == route.request for route in hold.held)) as info:
        hold.release()
    info.value.finished()
    settle(page)
