"""Joining a class: the join link and QR code (segno, SVG) with the LAN address, and the mDNS announcement.

The QR code carries the LAN IP URL, not ``HOST.local``: many phones do not resolve mDNS names.  The
server is also announced as ``_http._tcp`` (python-zeroconf) so ``http://HOST.local:PORT`` works on
laptops; that is best effort, in a background thread, and never delays or breaks the start.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request

from salvus_local.server.errors import get_json_body

from .me import accounts

log = logging.getLogger("salvus_local.server")
bp = Blueprint("accounts_join", __name__)


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback and link-local, sorted."""
    import psutil

    found = set()
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET:
                ip = ipaddress.ip_address(a.address)
                if not ip.is_loopback and not ip.is_link_local:
                    found.add(a.address)
    return sorted(found)


def join_urls() -> list[str]:
    """Sign-up URLs with the class code: one per LAN address when listening on all, else the request's host."""
    config = current_app.extensions["salvus"].config
    code = accounts().join_settings()["class_code"]
    path = f"{request.script_root}/signup?code={quote(code)}"
    if config.ip in ("0.0.0.0", "::"):
        urls = [f"http://{ip}:{config.port}{path}" for ip in lan_addresses()]
        if urls:
            return urls
    return [f"{request.host_url.rstrip('/')}{path}"]


def qr_svg(url: str) -> str:
    """An SVG QR code of url (dark modules on white, scalable)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#000", light="#fff")


def get_join() -> Response:
    """``{url, lan_urls, class_code, approval_required, qr_svg}`` for the teacher's join screen."""
    settings = accounts().join_settings()
    urls = join_urls()
    return jsonify({"url": urls[0], "lan_urls": urls, "class_code": settings["class_code"],
                    "approval_required": settings["approval_required"], "qr_svg": qr_svg(urls[0])})


def patch_join() -> Response:
    """``{approval_required?, regenerate_code?: true}`` → the join settings as GET answers them."""
    body = get_json_body(required=True) or {}
    accounts().update_join(body.get("approval_required"), body.get("regenerate_code"))
    return get_join()


bp.add_url_rule("/api/join", view_func=get_join, methods=["GET"])
bp.add_url_rule("/api/join", view_func=patch_join, methods=["PATCH"])


class Announcer:
    """Registers ``salvus-local on HOST._http._tcp.local.`` with zeroconf in a background thread."""

    def __init__(self, port: int, addresses: list[str]) -> None:
        self.port, self.addresses = port, addresses
        self.zeroconf: Any = None
        self.info: Any = None
        self.error: str | None = None
        self.registered = threading.Event()
        threading.Thread(target=self._run, name="mdns", daemon=True).start()

    def _run(self) -> None:
        try:
            from zeroconf import ServiceInfo, Zeroconf

            host = socket.gethostname().split(".")[0]
            self.info = ServiceInfo("_http._tcp.local.", f"salvus-local on {host}._http._tcp.local.",
                                    addresses=[socket.inet_aton(a) for a in self.addresses], port=self.port,
                                    properties={"path": "/", "app": "salvus-local"}, server=f"{host}.local.")
            self.zeroconf = Zeroconf()
            self.zeroconf.register_service(self.info, allow_name_change=True)
            self.registered.set()
        except Exception as exc:  # no multicast, no network: the server works without it
            self.error = str(exc) or type(exc).__name__
            log.warning("mDNS announcement failed (%s); use the IP address URL", self.error)

    def close(self) -> None:
        """Withdraw the announcement."""
        if self.zeroconf is not None:
            try:
                if self.registered.is_set():
                    self.zeroconf.unregister_service(self.info)
                self.zeroconf.close()
            except Exception:  # shutting down anyway
                pass


def start_announcer(config: Any) -> Announcer | None:
    """Announce a multi-user server by mDNS when enabled (never raises)."""
    if not config.mdns or not config.port:
        return None
    wildcard = config.ip in ("0.0.0.0", "::", "")
    addresses = (lan_addresses() if wildcard else [config.ip]) or ["127.0.0.1"]
    try:
        ipaddress.IPv4Address(addresses[0])
    except ValueError:
        return None
    return Announcer(config.port, addresses)
