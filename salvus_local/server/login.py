"""The login page (token in single-user mode; username and password in multi-user mode) and logout.

``GET /logout`` only shows a confirm form: signing out changes state, so it needs ``POST /logout``
with the XSRF value (a link or an image on another site cannot sign anyone out).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template_string, request

from salvus_local.accounts.errors import TooManyAttempts

from .accounts.identity import Identity
from .auth import safe_next, xsrf_ok, xsrf_value

bp = Blueprint("login", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · salvus-local</title>
<style>
 body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; color: #222; margin: 0;
        display: flex; min-height: 100vh; align-items: center; justify-content: center; }
 main { background: #fff; padding: 2rem 2.5rem; border-radius: 10px; box-shadow: 0 2px 12px #0002;
        width: min(26rem, 90vw); }
 h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
 p { color: #555; font-size: .9rem; }
 label { display: block; margin-top: .7rem; }
 input[type=password], input[type=text] { width: 100%; box-sizing: border-box; padding: .55rem; font: inherit;
        border: 1px solid #bbb; border-radius: 6px; }
 button { margin-top: 1rem; padding: .5rem 1.2rem; font: inherit; border: 0; border-radius: 6px;
        background: #2a6ebb; color: #fff; cursor: pointer; }
 .error { color: #b00020; }
 code { background: #eee; padding: 0 .2rem; border-radius: 3px; }
</style></head>
<body><main>
<h1>salvus-local</h1>
{% if kind == "logout" %}
<p>Sign out of salvus-local on this browser?</p>
<form method="post" action="{{ root }}/logout">
 <input type="hidden" name="_xsrf" value="{{ xsrf }}">
 <button type="submit">Sign out</button>
</form>
{% else %}
{% if kind == "token" %}<p>Paste the token from the URL that <code>salvus-local</code> printed when it started
(the part after <code>?token=</code>).</p>{% else %}<p>Sign in with your username and password.</p>{% endif %}
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ root }}/login">
 <input type="hidden" name="_xsrf" value="{{ xsrf }}">
 <input type="hidden" name="next" value="{{ next }}">
 {% if kind == "token" %}
 <label for="token">Token</label>
 <input type="password" id="token" name="token" autocomplete="current-password" autofocus required>
 {% else %}
 <label for="username">Username</label>
 <input type="text" id="username" name="username" value="{{ username }}" autocomplete="username"
        autocapitalize="none" autofocus required>
 <label for="password">Password</label>
 <input type="password" id="password" name="password" autocomplete="current-password" required>
 {% endif %}
 <button type="submit">Sign in</button>
</form>
{% if kind == "password" %}<p>New here? Your teacher gives you a sign-up link or a class code:
<a href="{{ root }}/signup">sign up</a>.</p>{% endif %}
{% endif %}
</main></body></html>
"""


def _page(error: str = "", status: int = 200, kind: str | None = None, retry_after: int | None = None) -> Response:
    """Render the login (or logout) form (the _xsrf cookie is set by auth's after_request)."""
    auth = current_app.extensions["salvus"].auth
    kind = kind or ("password" if auth.multi_user else "token")
    html = render_template_string(PAGE, error=error, xsrf=xsrf_value(), kind=kind, root=request.script_root,
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
    if identity.method == "cookie" and not xsrf_ok():
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
