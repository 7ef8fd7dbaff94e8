"""salvus_sync: push and pull projects between machines through any git remote, never losing work.

Offline-first: each machine commits its own work, then merges by ancestry (``engine.Syncer``:
the ordered steps), with per-file rules for what git cannot merge (``rules``) and a work-tree
update that replaces files one by one atomically (``worktree``).  The git CLI does the transport
(``git``: no prompts, the token only in the environment).  No Flask here: the server and the
command line (``cli``) both drive ``Syncer``.
"""

from __future__ import annotations

from .engine import Report, SyncError, Syncer
from .git import GitError, git_env

__all__ = ["GitError", "Report", "SyncError", "Syncer", "git_env"]
