"""The login page (token in single-user mode; username and password in multi-user mode) and logout.

``GET /logout`` only shows a confirm form: signing out changes state, so it needs ``POST /logout``
with the XSRF value (a link or an image on another site cannot sign anyone out).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template, request

from salvus_local.accounts.errors import TooManyAttempts

from .accounts.identity import Identity
from .auth import safe_next, xsrf_ok, xsrf_value

bp = Blueprint("login", __name__)


def _page(error: str = "", status: int = 200, kind: str | None = None, retry_after: int | None = None) -> Response:
    """Render the login (or logout) form (the _xsrf cookie is set by auth's after_request)."""
    auth = current_app.extensions["salvus"].auth
    kind = kind or ("password" if auth.multi_user else "token")
    # The template lives with the pages (server/pages/templates/login.html).
    html = render_template("login.html", error=error, xsrf=xsrf_value(), kind=kind, root=request.script_root,
                           title="Sign out" if kind == "logout" else "Sign in",
                           next=safe_next(request.values.get("next")),
                           username=str(request.form.get("username", ""))[:64])
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.get("/login")
def login_form() -> Response:
    """Show the login form, or go on to ``next`` when already signed in."""
    if g.get("auth_method"):
        return redirect(safe_next(request.args.get("next")))
    return _page()


@bp.post("/login")
def login_submit() -> Response:
    """Check the token (or username and password), start a login session and go on to ``next``."""
    auth = current_app.extensions["salvus"].auth
    if not xsrf_ok():
        return _page("Your session form expired; please try again.", 403)
    token = request.form.get("token", "").strip()
    if token or not auth.multi_user:
        if not auth.token_ok(token):
            return _page("That token is not valid for this server.", 403)
        user = auth.console_user()
    else:
        username, password = request.form.get("username", ""), request.form.get("password", "")
        keys = auth.accounts.throttle.keys(request.remote_addr or "", username)
        try:
            auth.accounts.throttle.check(keys)
        except TooManyAttempts as exc:
            return _page(exc.message, 429, retry_after=exc.retry_after)
        user = auth.accounts.users.verify(username, password)
        if user is None:
            auth.accounts.throttle.failed(keys)
            return _page("Wrong username or password.", 403)
        auth.accounts.throttle.succeeded(keys)
    target = safe_next(request.form.get("next"))
    if user.get("must_change_password"):
        target = "/change-password?next=" + quote(target, safe="")
    response = redirect(request.script_root + target if target.startswith("/") else target)
    auth.login(response, user)
    return response


@bp.get("/logout")
def logout_form() -> Response:
    """Ask before signing out (a GET changes nothing)."""
    if not g.get("auth_method"):
        return redirect(request.script_root + "/login")
    return _page(kind="logout")


@bp.post("/logout")
def logout() -> Response:
    """Sign out: end the login session (multi-user) and forget the cookie; needs the XSRF value."""
    auth = current_app.extensions["salvus"].auth
    identity = g.get("identity") or Identity()
    if (identity.method == "cookie" or identity.cookie_conflict) and not xsrf_ok():
        return _page("Your session form expired; please try again.", 403, kind="logout")
    if identity.session_id and auth.multi_user:
        auth.accounts.sessions.revoke(identity.session_id)
    g.identity = Identity()
    response = redirect(request.script_root + "/login")
    response.delete_cookie(auth.cookie_name, path=(request.script_root or "") + "/")
    return response


def init_app(app: Flask) -> None:
    """Register the login routes."""
    app.register_blueprint(bp)
