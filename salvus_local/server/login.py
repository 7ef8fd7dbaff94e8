"""The login page (username + password with accounts, else paste the token) and logout."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template, request

from .auth import safe_next, xsrf_ok, xsrf_value

bp = Blueprint("login", __name__)



def _page(error: str = "", status: int = 200) -> Response:
    """Render the login form (the _xsrf cookie is set by auth's after_request)."""
    # The form (pages/templates/login.html): username + password with accounts, else the token.
    multi_user = bool(getattr(current_app.extensions["salvus"].config, "multi_user", False))
    html = render_template("login.html", error=error, xsrf=xsrf_value(), next=safe_next(request.values.get("next")),
                           multi_user=multi_user, username=request.values.get("username", "").strip()[:64],
                           root=request.script_root + "/")
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
