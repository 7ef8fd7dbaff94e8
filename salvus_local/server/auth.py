"""Token and cookie authentication, XSRF, Host and Origin checks (like ``jupyter lab``).

Every request passes :func:`check_request` before its view runs, so blueprints need no
auth code of their own and a websocket is refused before its upgrade.

- The token (printed in the start URL) is accepted as ``?token=`` or ``Authorization: token …``.
- A page request with a valid ``?token=`` gets a signed HttpOnly cookie and is redirected to
  the same URL without the token.  The cookie carries an HMAC of the token, so a new token
  invalidates old cookies; its name includes the port so two servers on localhost don't clash.
- Cookie-authenticated POST/PUT/PATCH/DELETE need an ``X-XSRFToken`` header equal to the
  ``_xsrf`` cookie (double submit); token-authenticated requests are exempt.
- The Host header must be loopback, ``config.ip`` or in ``config.allow_hosts`` (DNS rebinding);
  a websocket's Origin must be absent or equal to the server's own or one in ``allow_origins``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask, Request, Response, current_app, g, redirect, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from salvus_local.config import Config

from .errors import is_api_path, json_error

COOKIE_MAX_AGE = 30 * 24 * 3600
XSRF_COOKIE = "_xsrf"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_IPS = frozenset({"", "0.0.0.0", "::"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Reachable without auth: the login page and the client's static assets (no secrets there).
PUBLIC_PREFIXES = ("/login", "/logout", "/static/", "/favicon.ico")
_AUTH_HEADER = re.compile(r"(?:token|bearer)\s+(\S+)\s*$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def load_secret(data_dir: str | Path) -> bytes:
    """Return the cookie-signing secret from ``<data_dir>/secret`` (mode 0600), creating it once."""
    path = Path(data_dir) / "secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def split_host(host: str) -> tuple[str, int | None]:
    """Split a Host header into a lower-case host name and an optional port."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    return name.rstrip("."), int(port) if port.isdigit() else None


def origin_key(url: str) -> tuple[str, str, int | None] | None:
    """Return (scheme, host, port) of an origin URL with default ports filled in, or None if unparsable."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return None
    if not scheme or not host:
        return None
    return scheme, host, port or _DEFAULT_PORTS.get(scheme)


def safe_next(target: str | None, base: str = "/") -> str:
    """Return target when it is a local path on this server, else the base URL."""
    if not target or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return base
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return base
    return target


class Auth:
    """The server's token, cookie signer and host/origin policy."""

    def __init__(self, config: Config) -> None:
        if not config.token:
            config.token = secrets.token_urlsafe(32)
        self.config = config
        self._secret = load_secret(config.data_dir)
        self._signer = URLSafeTimedSerializer(self._secret, salt="salvus-local-login")
        self.cookie_name = f"salvus-local-{config.port}"
        self.allowed_hosts = set(LOOPBACK_HOSTS) | {h.lower().rstrip(".") for h in config.allow_hosts}
        if config.ip not in WILDCARD_IPS:
            self.allowed_hosts.add(split_host(config.ip)[0])
        self.allowed_origins = {key for key in map(origin_key, config.allow_origins) if key}

    def token_ok(self, candidate: str | None) -> bool:
        """Tell whether candidate is the server's token (constant-time)."""
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self.config.token.encode())

    def _token_mac(self) -> str:
        """Return an HMAC of the current token: cookies made for another token no longer verify."""
        return hmac.new(self._secret, self.config.token.encode(), hashlib.sha256).hexdigest()

    def make_cookie(self) -> str:
        """Return a signed login cookie value."""
        return self._signer.dumps(self._token_mac())

    def cookie_ok(self, value: str | None) -> bool:
        """Tell whether a login cookie is signed by us, unexpired and made for the current token."""
        if not value:
            return False
        try:
            mac = self._signer.loads(value, max_age=COOKIE_MAX_AGE)
        except BadSignature:
            return False
        return isinstance(mac, str) and hmac.compare_digest(mac.encode(), self._token_mac().encode())

    def host_ok(self, host: str) -> bool:
        """Tell whether a Host header names this server (DNS-rebinding guard)."""
        return split_host(host)[0] in self.allowed_hosts

    def origin_ok(self, req: Request) -> bool:
        """Tell whether a websocket's Origin is absent, our own, or explicitly allowed."""
        origin = req.headers.get("Origin")
        if origin is None:
            return True  # not a browser: non-browser clients send no Origin
        key = origin_key(origin)
        name, port = split_host(req.host)
        own = (req.scheme, name, port or _DEFAULT_PORTS.get(req.scheme))
        return key is not None and (key == own or key in self.allowed_origins)

    def set_login_cookie(self, response: Response) -> None:
        """Attach the signed login cookie to a response."""
        response.set_cookie(self.cookie_name, self.make_cookie(), max_age=COOKIE_MAX_AGE, path="/",
                            httponly=True, samesite="Lax", secure=request.is_secure)


def request_token() -> str | None:
    """Return the token offered by the request (query or Authorization header), if any."""
    match = _AUTH_HEADER.match(request.headers.get("Authorization", ""))
    return match.group(1) if match else request.args.get("token")


def is_websocket() -> bool:
    """Tell whether the request asks for a websocket upgrade."""
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _strip_token_url() -> str:
    """Return the request's local URL without its token parameter."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    return request.path + ("?" + urlencode(query) if query else "")


def _refuse(reason: str) -> Response:
    """Answer an unauthorized or forbidden request."""
    return json_error(403, "Forbidden", reason)


def check_request() -> Response | None:
    """Authenticate and police every request before its view runs (and before any upgrade)."""
    auth: Auth = current_app.extensions["salvus"].auth
    g.auth_method = None
    if not auth.host_ok(request.host):
        return _refuse("Host not allowed; add it with --allow-host")
    websocket = is_websocket()
    if websocket and not auth.origin_ok(request):
        return _refuse("Origin not allowed")
    if auth.token_ok(request_token()):
        g.auth_method = "token"
    elif auth.cookie_ok(request.cookies.get(auth.cookie_name)):
        g.auth_method = "cookie"
    if request.path.startswith(PUBLIC_PREFIXES):
        return None
    if g.auth_method is None:
        if websocket or is_api_path(request.path) or request.method not in ("GET", "HEAD"):
            return _refuse("Authentication required: pass the token as ?token= or 'Authorization: token …'")
        return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
    if g.auth_method == "cookie" and request.method in UNSAFE_METHODS and not xsrf_ok():
        return _refuse("XSRF check failed: send the _xsrf cookie's value in the X-XSRFToken header")
    if "token" in request.args and request.method == "GET" and not websocket and not is_api_path(request.path):
        response = redirect(_strip_token_url())
        auth.set_login_cookie(response)
        return response
    current_app.extensions["salvus"].touch()
    return None


def xsrf_ok() -> bool:
    """Tell whether the request carries the _xsrf cookie's value in a header or form field."""
    cookie = request.cookies.get(XSRF_COOKIE, "")
    offered = request.headers.get("X-XSRFToken") or request.headers.get("X-CSRFToken") or ""
    if not offered and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        offered = request.form.get(XSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), offered.encode())


def xsrf_value() -> str:
    """Return this browser's _xsrf value (from its cookie, or a new one set on this response)."""
    value = request.cookies.get(XSRF_COOKIE)
    if not value:
        value = g.setdefault("new_xsrf", secrets.token_urlsafe(24))
    return value


def set_xsrf_cookie(response: Response) -> Response:
    """Give browsers an _xsrf cookie (readable by scripts) to echo in X-XSRFToken."""
    if XSRF_COOKIE not in request.cookies and not is_websocket():
        response.set_cookie(XSRF_COOKIE, xsrf_value(), path="/", samesite="Lax", secure=request.is_secure)
    return response


def init_app(app: Flask) -> None:
    """Install the auth checks and the login pages."""
    from . import login

    app.extensions["salvus"].auth = Auth(app.extensions["salvus"].config)
    app.before_request(check_request)
    app.after_request(set_xsrf_cookie)
    login.init_app(app)
