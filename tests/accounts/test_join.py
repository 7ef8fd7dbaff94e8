"""Joining a class: the mDNS announcement and the join QR code."""

from __future__ import annotations

import socket

import segno

from tests.conftest import wait_for


def test_multi_user_server_is_announced_by_mdns(multi):
    """Registers ``salvus-local on HOST._http._tcp.local.`` (or ``… (2)`` when that name is taken) with the
    server's port; multicast works on this machine."""
    from zeroconf import ServiceBrowser, Zeroconf

    host = socket.gethostname().split(".")[0]
    zc = Zeroconf()
    names: set[str] = set()

    class Listener:
        def add_service(self, zc, type_, name):
            names.add(name)

        def update_service(self, zc, type_, name):
            names.add(name)

        def remove_service(self, zc, type_, name):
            names.discard(name)

    def ours():
        for name in list(names):
            info = zc.get_service_info("_http._tcp.local.", name, timeout=2000)
            if info is not None and info.port == multi.port:
                return name, info
        return None

    browser = ServiceBrowser(zc, "_http._tcp.local.", Listener())
    try:
        name, info = wait_for(ours, timeout=60, what="the mDNS announcement")
    finally:
        browser.cancel()
        zc.close()
    assert name.startswith(f"salvus-local on {host}")
    assert info.properties[b"app"] == b"salvus-local"
    assert "127.0.0.1" in info.parsed_addresses()


def test_join_qr_code_carries_the_signup_url(multi):
    join = multi.get("/api/join").json()
    assert join["url"] == f"{multi.base_url}/signup?code={join['class_code']}"
    assert join["lan_urls"] == [join["url"]]  # bound to loopback only: no LAN addresses to offer
    expected = segno.make(join["url"], error="m").svg_inline(scale=8, border=2, dark="#000", light="#fff")
    assert join["qr_svg"] == expected and join["qr_svg"].startswith("<svg")
    me = multi.get("/api/me").json()
    assert me["join_url"] == join["url"]
