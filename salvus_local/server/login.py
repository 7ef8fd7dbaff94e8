"""The login page (paste the token) and logout."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template_string, request

from .auth import safe_next, xsrf_ok, xsrf_value

bp = Blueprint("login", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · salvus-local</title>
<style>
 body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; color: #222; margin: 0;
        display: flex; min-height: 100vh; align-items: center; justify-content: center; }
 main { background: #fff; padding: 2rem 2.5rem; border-radius: 10px; box-shadow: 0 2px 12px #0002;
        width: min(26rem, 90vw); }
 h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
 p { color: #555; font-size: .9rem; }
 input[type=password] { width: 100%; box-sizing: border-box; padding: .55rem; font: inherit;
        border: 1px solid #bbb; border-radius: 6px; }
 button { margin-top: 1rem; padding: .5rem 1.2rem; font: inherit; border: 0; border-radius: 6px;
        background: #2a6ebb; color: #fff; cursor: pointer; }
 .error { color: #b00020; }
 code { background: #eee; padding: 0 .2rem; border-radius: 3px; }
</style></head>
<body><main>
<h1>salvus-local</h1>
<p>Paste the token from the URL that <code>salvus-local</code> printed when it started
(the part after <code>?token=</code>).</p>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login">
 <input type="hidden" name="_xsrf" value="{{ xsrf }}">
 <input type="hidden" name="next" value="{{ next }}">
 <label for="token">Token</label>
 <input type="password" id="token" name="token" autocomplete="current-password" autofocus required>
 <button type="submit">Sign in</button>
</form>
</main></body></html>
"""


def _page(error: str = "", status: int = 200) -> Response:
    """Render the login form (the _xsrf cookie is set by auth's after_request)."""
    html = render_template_string(PAGE, error=error, xsrf=xsrf_value(),
                                  next=safe_next(request.values.get("next")))
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/login")
def login_form() -> Response:
    """Show the login form, or go on to ``next`` when already signed in."""
    if g.get("auth_method"):
        return redirect(safe_next(request.args.get("next")))
    return _page()


@bp.post("/login")
def login_submit() -> Response:
    """Check the pasted token, set the login cookie and go on to ``next``."""
    auth = current_app.extensions["salvus"].auth
    if not xsrf_ok():
        return _page("Your session form expired; please try again.", 403)
    if not auth.token_ok(request.form.get("token", "").strip()):
        return _page("That token is not valid for this server.", 403)
    response = redirect(safe_next(request.form.get("next")))
    auth.set_login_cookie(response)
    return response


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    """Forget the login cookie."""
    response = redirect("/login")
    response.delete_cookie(current_app.extensions["salvus"].auth.cookie_name, path="/")
    return response


def init_app(app: Flask) -> None:
    """Register the login routes."""
    app.register_blueprint(bp)
