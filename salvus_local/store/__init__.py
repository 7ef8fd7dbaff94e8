"""Persistent state: SQLite (projects, settings, computation history) and project directories.

Nothing here opens a database connection or a git repository at import time: the web server
imports this package, and a process that later forks must not carry an open SQLite handle.
"""

from __future__ import annotations
