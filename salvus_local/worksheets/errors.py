"""The one error worksheet import raises."""

from __future__ import annotations


class WorksheetError(ValueError):
    """A worksheet file that cannot be imported; the message says why (shown to the user)."""
