"""Command-line client: ``salvus-local run FILE``, ``salvus-local exec CODE``, ``salvus-local export FILE``."""

from __future__ import annotations

from .commands import export, exec_, run

__all__ = ["exec_", "export", "run"]
