"""The account pages of the client (multi-user mode; harmless in single-user mode).

``/signup`` (with ``?code=``) makes an account, ``/change-password`` is where a one-time
password leads, ``/settings`` holds the password and API tokens, ``/teacher`` the classroom
view, ``/teacher/slips`` printable login slips, ``/join`` the join QR code full screen.
They are static client pages: who may do what is decided by the API they call.
"""

from __future__ import annotations

from flask import Blueprint

# (url, client page, title, what it shows)
ACCOUNT_PAGES = [
    ("/signup", "signup", "Sign up", "Make an account with the class code (no sign-in needed)."),
    ("/change-password", "password", "Choose your password", "Change your password; forced after a one-time password."),
    ("/settings", "settings", "Settings", "Your password and API tokens."),
    ("/teacher", "teacher", "Teacher", "Join link and QR, approvals, who is online, sessions, accounts, class list import."),
    ("/teacher/slips", "slips", "Login slips", "Printable login slips of the last class list import (this tab only)."),
    ("/join", "join", "Join", "The join QR code full screen, for a projector."),
]


def register(bp: Blueprint) -> None:
    """Add the account pages to the pages blueprint."""
    from . import add_pages

    add_pages(bp, ACCOUNT_PAGES, "account")
