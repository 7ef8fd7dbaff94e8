"""The account pages of the client (multi-user mode; harmless in single-user mode).

``/signup`` (with ``?code=``) makes an account, ``/change-password`` is where a one-time
password leads, ``/settings`` holds the password and API tokens, ``/teacher`` the classroom
view, ``/teacher/slips`` printable login slips, ``/join`` the join QR code full screen.
They are static client pages: who may do what is decided by the API they call.
"""

from __future__ import annotations

from flask import Blueprint, Response

# (url, client page, title, what it shows)
ACCOUNT_PAGES = [
    ("/signup", "signup", "Sign up", "Make an account with the class code (no sign-in needed)."),
    ("/change-password", "password", "Choose your password", "Change your password; forced after a one-time password."),
    ("/settings", "settings", "Settings", "Your password and API tokens."),
    ("/teacher", "teacher", "Teacher", "Join link and QR, approvals, who is online, sessions, accounts, class list import."),
    ("/teacher/slips", "slips", "Login slips", "Printable login slips of the last class list import (this tab only)."),
    ("/join", "join", "Join", "The join QR code full screen, for a projector."),
]


def _view(page: str, title: str, doc: str):
    def view() -> Response:
        from . import render_page

        return render_page(page, title)

    view.__doc__ = doc
    return view


def register(bp: Blueprint) -> None:
    """Add the account pages to the pages blueprint."""
    for rule, page, title, doc in ACCOUNT_PAGES:
        bp.add_url_rule(rule, endpoint=f"account_{page}", view_func=_view(page, title, doc), methods=["GET"])
