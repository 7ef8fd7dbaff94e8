"""Authentication, XSRF, Host and Origin checks; in multi-user mode also who may do what.

Every request passes :func:`check_request` before its view runs, so blueprints need no auth code
of their own and a websocket is refused before its upgrade.  Who is asking was resolved once,
before routing, by :mod:`salvus_local.server.accounts.identity` (``g.identity``).

- The server's token (printed in the start URL) is accepted as ``?token=`` or ``Authorization:
  token|Bearer …``.  In multi-user mode it is the first admin's console key, and a user's API
  token (``slt_…``) is accepted the same way.
- A page request with the server token in ``?token=`` gets a signed HttpOnly SameSite=Lax cookie
  (Secure under TLS, scoped to the base path) and is redirected to the same URL without it.
  Single-user mode: the cookie carries an HMAC of the token, so a new token invalidates it.
  Multi-user mode: it carries a server-side login session id (revoked by logout, password change).
- Cookie-authenticated POST/PUT/PATCH/DELETE need an ``X-XSRFToken`` header (or ``_xsrf`` form
  field on the login/logout forms) equal to HMAC(secret, login session): a value a page on another
  port of 127.0.0.1 can neither compute nor plant.  Before login (the login form) it is the
  ``_xsrf`` cookie (double submit).  Unsafe requests with a foreign ``Origin`` are refused, and
  JSON endpoints refuse form-encoded and text/plain bodies (what a cross-site form can send).
- The Host header must be loopback, ``config.ip`` or in ``config.allow_hosts`` (DNS rebinding);
  a websocket's Origin must be absent or equal to the server's own or one in ``allow_origins``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Flask, Request, Response, current_app, g, redirect, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from salvus_local.config import Config

from .accounts.identity import ENV_KEY, SINGLE_USER, Identity, IdentityMiddleware
from .errors import is_api_path, json_error

COOKIE_MAX_AGE = 30 * 24 * 3600
XSRF_COOKIE = "_xsrf"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_IPS = frozenset({"", "0.0.0.0", "::"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Reachable without auth: the login and sign-up pages and the client's static assets (no secrets there).
PUBLIC_PREFIXES = ("/login", "/logout", "/signup", "/api/signup", "/static/", "/favicon.ico",
                   "/sandbox/", "/nbextensions/")  # the sandboxed output frame and three.js
# Bodies a cross-site <form> can send without a CORS preflight: never accepted by a JSON endpoint.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
_AUTH_HEADER = re.compile(r"(?:token|bearer)\s+(\S+)\s*$", re.IGNORECASE)
# Besides the URL's own prefixes, expire copies at the app's top folders (a copy at a deeper path elsewhere goes
# with the first request under it).
_PLANT_PATHS = ("/api", "/p", "/notebooks", "/files", "/edit", "/terminals")
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
    """The server's token, cookie signer, host/origin policy and (multi-user mode) accounts."""

    def __init__(self, config: Config, accounts: Any = None) -> None:
        if not config.token:
            config.token = secrets.token_urlsafe(32)
        self.config = config
        self.multi_user = bool(getattr(config, "multi_user", False))
        self.accounts = accounts  # salvus_local.accounts.Accounts in multi-user mode
        self.workspace: Any = None  # set by init_app: home projects are made through it
        self.kernel_users: dict[str, int] = {}  # kernel id → id of the user who started it
        self.kernel_started: dict[str, str] = {}  # kernel id → when (ISO 8601 UTC)
        self._secret = load_secret(config.data_dir)
        self._signer = URLSafeTimedSerializer(self._secret, salt="salvus-local-login")
        self._session_signer = URLSafeTimedSerializer(self._secret, salt="salvus-local-session")
        self.cookie_name = f"salvus-local-{config.port}"
        self.allowed_hosts = set(LOOPBACK_HOSTS) | {h.lower().rstrip(".") for h in config.allow_hosts}
        if config.ip not in WILDCARD_IPS:
            self.allowed_hosts.add(split_host(config.ip)[0])
        self.allowed_origins = {key for key in map(origin_key, config.allow_origins) if key}
        # Services reachable without login add a check here (shares, embedding); see register_public.
        self.public_checks: list[Callable[[], bool]] = []

    # -- credentials ---------------------------------------------------------------------
    def token_ok(self, candidate: str | None) -> bool:
        """Tell whether candidate is the server's token (constant-time)."""
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self.config.token.encode())

    def _token_mac(self) -> str:
        """Return an HMAC of the current token: cookies made for another token no longer verify."""
        return hmac.new(self._secret, self.config.token.encode(), hashlib.sha256).hexdigest()

    def make_cookie(self, session_id: str | None = None) -> str:
        """Return a signed login cookie value (for a login session in multi-user mode)."""
        if session_id is not None:
            return self._session_signer.dumps(session_id)
        return self._signer.dumps(self._token_mac())

    def cookie_ok(self, value: str | None) -> bool:
        """Tell whether a single-user login cookie is signed by us, unexpired and made for the current token."""
        if not value:
            return False
        try:
            mac = self._signer.loads(value, max_age=COOKIE_MAX_AGE)
        except BadSignature:
            return False
        return isinstance(mac, str) and hmac.compare_digest(mac.encode(), self._token_mac().encode())

    def session_of_cookie(self, value: str | None) -> str | None:
        """Return the login session id inside a multi-user cookie signed by us, or None."""
        if not value:
            return None
        try:
            session_id = self._session_signer.loads(value, max_age=COOKIE_MAX_AGE)
        except BadSignature:
            return None
        return session_id if isinstance(session_id, str) else None

    def console_user(self) -> dict[str, Any]:
        """The user the server token stands for: the single user, or the first admin."""
        return SINGLE_USER if not self.multi_user else self.accounts.ensure_admin()

    def resolve(self, req: Request) -> Identity:
        """Work out who sends req (see module docstring); an Identity without user when nobody."""
        token = request_token(req)
        if token and self.token_ok(token):
            user = self.console_user()
            if self.multi_user:
                self.accounts.users.seen(user["id"])  # throttled; cookie logins are recorded by sessions.lookup
            return Identity(user, "token")
        if token and self.multi_user:
            found = self.accounts.tokens.verify(token)
            if found:
                self.accounts.users.seen(found[1]["id"])
                return Identity(found[1], "apitoken", scope=found[0]["scope"], token_id=found[0]["id"])
        cookie = req.cookies.get(self.cookie_name)
        if not self.multi_user:
            return Identity(SINGLE_USER, "cookie") if self.cookie_ok(cookie) else Identity()
        # Cookies are not isolated by port: a page on another 127.0.0.1 port can plant our cookie names
        # (see docs/internals.md, "Login cookies").  Flask keeps one value per name, so read the raw header.
        raw = req.headers.get("Cookie", "")
        logins, bindings = cookie_values(raw, self.cookie_name), cookie_values(raw, XSRF_COOKIE)
        if not logins:
            return Identity()
        if len(logins) > 1 or len(bindings) > 1:
            return Identity(cookie_conflict=True)
        session_id = self.session_of_cookie(logins[0])
        found = self.accounts.sessions.lookup(session_id) if session_id else None
        if not found:
            return Identity()
        # The session is honoured only with the _xsrf cookie the server set beside it at login: a
        # session cookie swapped in alone (another account's) does not match the victim's binding.
        if not bindings or not hmac.compare_digest(bindings[0].encode(), self._xsrf_of(session_id).encode()):
            return Identity(cookie_conflict=True)
        return Identity(found[1], "cookie", session_id=session_id)

    def home_project(self, user: dict[str, Any]) -> str:
        """The user's home project id (multi-user mode), made on first use."""
        return self.accounts.home_project(user, self.workspace.projects)

    def xsrf_expected(self, identity: Identity | None) -> str | None:
        """The XSRF value bound to a cookie login (None when not signed in by cookie)."""
        if identity is None or identity.method != "cookie":
            return None
        return self._xsrf_of(identity.session_id if self.multi_user else self._token_mac())

    def _xsrf_of(self, binding: str | None) -> str:
        """HMAC(secret, binding): the _xsrf value of a login session (or of the token in single-user mode)."""
        return hmac.new(self._secret, f"xsrf|{binding}".encode(), hashlib.sha256).hexdigest()

    # -- policy --------------------------------------------------------------------------
    def host_ok(self, host: str) -> bool:
        """Tell whether a Host header names this server (DNS-rebinding guard)."""
        return split_host(host)[0] in self.allowed_hosts

    def origin_ok(self, req: Request) -> bool:
        """Tell whether a request's Origin is absent, our own, or explicitly allowed."""
        origin = req.headers.get("Origin")
        if origin is None:
            return True  # not a browser: non-browser clients send no Origin
        key = origin_key(origin)
        name, port = split_host(req.host)
        own = (req.scheme, name, port or _DEFAULT_PORTS.get(req.scheme))
        return key is not None and (key == own or key in self.allowed_origins)

    def set_login_cookie(self, response: Response, session_id: str | None = None) -> None:
        """Attach the signed login cookie to a response (HttpOnly, SameSite=Lax, base path, Secure under TLS)."""
        response.set_cookie(self.cookie_name, self.make_cookie(session_id), max_age=COOKIE_MAX_AGE,
                            path=(request.script_root or "") + "/", httponly=True, samesite="Lax",
                            secure=request.is_secure)

    def login(self, response: Response, user: dict[str, Any]) -> None:
        """Sign user in on this response: a new login session (multi-user) and its cookie."""
        session_id = None
        if self.multi_user:
            session_id = self.accounts.sessions.create(user["id"], request.remote_addr or "",
                                                       request.headers.get("User-Agent", ""))
        self.set_login_cookie(response, session_id)
        g.identity = Identity(user, "cookie", session_id=session_id)  # after_request binds _xsrf to it


def cookie_values(header: str, name: str) -> list[str]:
    """Every value the raw Cookie header gives for name (a browser sends one per path it matches)."""
    values = []
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            values.append(value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value)
    return values


def clear_cookies(response: Response, names: tuple[str, ...]) -> None:
    """Expire names at every path the request's URL matches (any copy the browser just sent is gone) and more."""
    path = (request.script_root or "") + request.path  # a conflicted request is anonymous: never rewritten
    parts = [p for p in path.split("/") if p][:16]
    prefixes = {"/"} | {"/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)}
    prefixes |= {(request.script_root or "") + p for p in _PLANT_PATHS}
    prefixes |= {p + "/" for p in prefixes if p != "/"}
    for prefix in sorted(prefixes):
        for name in names:
            response.delete_cookie(name, path=prefix)


def request_token(req: Request | None = None) -> str | None:
    """Return the token offered by the request (query or Authorization header), if any."""
    req = req if req is not None else request
    match = _AUTH_HEADER.match(req.headers.get("Authorization", ""))
    return match.group(1) if match else req.args.get("token")


def is_websocket() -> bool:
    """Tell whether the request asks for a websocket upgrade."""
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _strip_token_url() -> str:
    """Return the request's local URL (as the client asked for it) without its token parameter."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    return request.script_root + _quoted_path() + ("?" + urlencode(query) if query else "")


def requested_url() -> str:
    """The path and query the client asked for, encoded once: a safe ``next=`` for the login page."""
    return _quoted_path() + ("?" + request.query_string.decode("latin-1") if request.query_string else "")


def _quoted_path() -> str:
    """The path the client asked for, percent-encoded once (WSGI hands it over decoded)."""
    asked = g.identity.rewritten_from
    if not asked:
        return quote(request.path, safe="/")
    try:
        return quote(asked.encode("latin-1"), safe="/")  # PATH_INFO: the URL's bytes as latin-1 (PEP 3333)
    except UnicodeEncodeError:
        return quote(asked, safe="/")


def _refuse(reason: str, status: int = 403) -> Response:
    """Answer an unauthorized or forbidden request."""
    return json_error(status, "Forbidden" if status == 403 else "Unsupported Media Type", reason)


def check_request() -> Response | None:
    """Authenticate and police every request before its view runs (and before any upgrade)."""
    auth: Auth = current_app.extensions["salvus"].auth
    identity: Identity = request.environ.get(ENV_KEY) or Identity()
    g.identity = identity
    g.auth_method = {"apitoken": "token"}.get(identity.method or "", identity.method)
    if not auth.host_ok(request.host):
        return _refuse("Host not allowed; add it with --allow-host")
    g.public = False
    explicit = identity.method in ("token", "apitoken")  # a token in the request: never anonymous
    if auth.public_checks and not explicit and any(c() for c in auth.public_checks):
        g.public = True  # an anonymous request its service vouched for (it checks Origin itself)
        return None
    websocket = is_websocket()
    if (websocket or request.method in UNSAFE_METHODS) and not auth.origin_ok(request):
        return _refuse("Origin not allowed")
    # A form body is what a cross-site page can make a browser send with its cookies; a request that carries a
    # token itself cannot be forged that way (so `curl -d '{...}' -H "Authorization: token …"` keeps working).
    if (is_api_path(request.path) and request.method in UNSAFE_METHODS and request.mimetype in FORM_TYPES
            and not explicit and request.endpoint not in ("accounts.import_users",)):
        return _refuse("JSON endpoints take JSON: send the body with Content-Type: application/json", 415)
    if ("token" in request.args and request.method == "GET" and not websocket and not is_api_path(request.path)
            and identity.method in ("token", "apitoken")):
        # Out of the address bar (history, screenshots, Referer): a token in a page URL becomes a login cookie.
        # A sync-scoped token may not browse: the clean URL then asks for a login.
        response = redirect(_strip_token_url())
        if identity.method == "token" or identity.scope == "api":
            auth.login(response, identity.user or SINGLE_USER)
        return response
    if request.path.startswith(PUBLIC_PREFIXES):
        return None
    if identity.method is None:
        if request_token() and request.path.startswith(("/git/", "/api/sync/")):
            # A token that no longer verifies: 401 (not 403), so `salvus-local sync` can say to sign in again.
            return json_error(401, "This token was revoked or has expired: run `salvus-local sync login` again",
                              "token")
        if identity.cookie_conflict and (websocket or is_api_path(request.path)):
            return _refuse("Your login cookies do not match (another page on this machine may have set one); "
                           "they were cleared: sign in again")
        if websocket or is_api_path(request.path) or request.method not in ("GET", "HEAD"):
            return _refuse("Authentication required: pass the token as ?token= or 'Authorization: token …'")
        # The path arrives decoded: encode it again, or "x #1.ipynb" would lose "#1.ipynb" on the way back.
        return redirect("/login?" + urlencode({"next": requested_url()}))
    if identity.method == "cookie" and request.method in UNSAFE_METHODS and not xsrf_ok():
        return _refuse("XSRF check failed: send the _xsrf cookie's value in the X-XSRFToken header")
    if auth.multi_user:
        from .accounts.policy import authorize

        refusal = authorize(auth, identity)
        if refusal is not None:
            return refusal
    current_app.extensions["salvus"].touch()
    return None


def xsrf_ok() -> bool:
    """Tell whether the request carries this login's XSRF value (or, before login, the _xsrf cookie's)."""
    offered = request.headers.get("X-XSRFToken") or request.headers.get("X-CSRFToken") or ""
    if not offered and not is_api_path(request.path) and request.mimetype in FORM_TYPES:
        offered = request.form.get(XSRF_COOKIE, "")  # the login and logout forms
    expected = current_app.extensions["salvus"].auth.xsrf_expected(g.get("identity"))
    if expected is None:
        expected = request.cookies.get(XSRF_COOKIE, "")
    return bool(expected) and hmac.compare_digest(expected.encode(), offered.encode())


def xsrf_value() -> str:
    """Return this browser's _xsrf value (bound to its login; else its cookie, or a new one set on this response)."""
    expected = current_app.extensions["salvus"].auth.xsrf_expected(g.get("identity"))
    if expected:
        return expected
    identity = g.get("identity")
    value = None if identity is not None and identity.cookie_conflict else request.cookies.get(XSRF_COOKIE)
    if not value:
        value = g.setdefault("new_xsrf", secrets.token_urlsafe(24))
    return value


def set_xsrf_cookie(response: Response) -> Response:
    """Give browsers an _xsrf cookie (readable by scripts) to echo in X-XSRFToken; re-bind it after login."""
    if is_websocket():
        return response
    identity = g.get("identity") or Identity()
    if identity.cookie_conflict:  # planted or stale copies: expire them all, then start afresh below
        clear_cookies(response, (current_app.extensions["salvus"].auth.cookie_name, XSRF_COOKIE))
    current = None if identity.cookie_conflict else request.cookies.get(XSRF_COOKIE)
    value = xsrf_value()
    if current != value:
        response.set_cookie(XSRF_COOKIE, value, path=(request.script_root or "") + "/", samesite="Lax",
                            secure=request.is_secure)
    return response


def register_public(app: Flask, check: Callable[[], bool]) -> None:
    """Let requests for which ``check()`` is true through without login (``g.public`` set, no cookie rights)."""
    app.extensions["salvus"].auth.public_checks.append(check)


def init_app(app: Flask) -> None:
    """Install the identity middleware, the auth checks and the login pages."""
    from . import login

    services = app.extensions["salvus"]
    accounts = None
    if getattr(services.config, "multi_user", False):
        from salvus_local.accounts import Accounts

        from .projects.workspace import init_workspace

        workspace = init_workspace(app)
        accounts = Accounts(workspace.store)
        accounts.ensure_admin(getattr(services.config, "admin_user", "") or None)
    services.auth = Auth(services.config, accounts)
    if accounts is not None:
        services.auth.workspace = workspace
    app.wsgi_app = IdentityMiddleware(app.wsgi_app, app)  # type: ignore[method-assign]
    # The middleware asks these which URLs exist per project (websocket routes match only ws://).
    services.url_adapters = {False: app.url_map.bind("localhost"), True: app.url_map.bind("localhost", url_scheme="ws")}
    app.before_request(check_request)
    app.after_request(set_xsrf_cookie)
    if accounts is not None:
        from .accounts.policy import record_kernel_owner

        app.after_request(record_kernel_owner)
    login.init_app(app)
