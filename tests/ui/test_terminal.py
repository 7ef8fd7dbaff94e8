"""Terminals: xterm.js over the terminado websocket; several terminals; a lost connection comes back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import Server, wait_for

from .conftest import signin


@pytest.fixture
def terms(client: Server) -> Iterator[None]:
    """Close the terminals a test started (the server is shared)."""
    before = {t["name"] for t in client.get("/api/terminals").json()}
    yield
    for t in client.get("/api/terminals").json():
        if t["name"] not in before:
            client.delete(f"/api/terminals/{t['name']}")


def line(page: object, text: str) -> object:
    """The first terminal row that reads exactly ``text`` (xterm draws one div per row)."""
    return page.locator(".term-screen .xterm-rows > div").filter(has_text=re.compile(rf"^{re.escape(text)}\s*$")).first


def test_echo_hello(page: object, client: Server, terms: None) -> None:
    signin(page, client, "/terminals/")
    expect(page).to_have_url(re.compile(r"/terminals/\d+$"))
    expect(page.locator(".term-status")).to_have_attribute("data-state", "connected")
    page.locator(".term-screen").click()
    page.keyboard.type("echo hel''lo\n")  # the quotes: only the command's output reads "hello"
    expect(line(page, "hello")).to_be_visible(timeout=20_000)
    assert not page.errors


def test_several_terminals_and_close(page: object, client: Server, terms: None) -> None:
    signin(page, client, "/terminals/")
    expect(page).to_have_url(re.compile(r"/terminals/\d+$"))
    first = page.url.rsplit("/", 1)[1]
    page.locator("button.new-terminal").click()
    expect(page).not_to_have_url(re.compile(rf"/terminals/{first}$"))
    second = page.url.rsplit("/", 1)[1]
    expect(page.locator(".term-list li")).to_have_count(len(client.get("/api/terminals").json()))
    expect(page.locator(f".term-list li[data-name='{second}']")).to_have_class("current")
    page.locator(f".term-list li[data-name='{second}'] .close-terminal").click()
    expect(page.locator(f".term-list li[data-name='{second}']")).to_have_count(0)
    assert client.get(f"/api/terminals/{second}").status_code == 404
    expect(page.locator(".term-status")).to_have_attribute("data-state", "connected")


def test_reconnects_after_a_dropped_connection(page: object, client: Server, terms: None) -> None:
    signin(page, client, "/terminals/")
    expect(page).to_have_url(re.compile(r"/terminals/\d+$"))
    expect(page.locator(".term-status")).to_have_attribute("data-state", "connected")
    page.locator(".term-screen").click()
    page.keyboard.type("export MARK=kept; echo be''fore\n")
    expect(line(page, "before")).to_be_visible(timeout=20_000)
    page.evaluate("() => { window.dropped = window.salvus.page.ws; window.dropped.close(); }")  # as a network drop would
    # Typed at once, while the socket is still closing: the keys wait for the new connection.
    page.keyboard.type("echo $MARK\n")  # the same shell
    wait_for(lambda: page.evaluate("() => { const ws = window.salvus.page.ws; return !!ws && ws !== window.dropped"
                                   " && ws.readyState === WebSocket.OPEN; }"), 30, "a new terminal connection")
    expect(page.locator(".term-status")).to_have_attribute("data-state", "connected", timeout=20_000)
    expect(line(page, "before")).to_be_visible()  # the scrollback came back
    expect(line(page, "kept")).to_be_visible(timeout=20_000)
    page.keyboard.type("echo a''gain\n")  # and typing goes on as usual
    expect(line(page, "again")).to_be_visible(timeout=20_000)


def test_unknown_terminal_says_so(page: object, client: Server) -> None:
    signin(page, client, "/terminals/99999")
    expect(page.locator(".term-banner")).to_contain_text("no longer exists", timeout=20_000)
    expect(page.locator(".term-banner button")).to_have_text("Start a new terminal")
