"""Talking to the remote: fetch into refs/salvus/remote, push fast-forward only, snapshots on request.

A mixin of ``engine.Syncer`` (which supplies ``git``, ``state``, ``report``, ``branch``, ``machine``,
``max_bytes``, ``progress`` and ``with_history``).  Nothing here touches the work tree: a fetch writes
its ref only after every object arrived, and a push moves the remote branch atomically or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .git import Git
from .messages import explain
from .objects import oversize_blobs
from .report import SyncError

SNAPSHOTS = "refs/salvus/snapshots"


class Transport:
    """fetch / send / send_history for a Syncer."""

    git: Git
    state: Any
    report: Any
    machine: str
    max_bytes: int
    progress: Any
    with_history: bool
    branch: str
    _remote_url: str | None = None

    def fetch(self, missing_ok: bool = True) -> str | None:
        """Download the remote branch into refs/salvus/remote/<branch>; its tip, or None when it has none yet.

        missing_ok: a remote repository that does not exist yet counts as empty (a hub creates a
        project on its first push); pull says it is missing instead.
        """
        # git writes the ref only after every object arrived: an interrupted fetch changes nothing here.
        branch = self.branch
        proc = self.git.run("fetch", "--no-tags", "--no-write-fetch-head", *self.progress_args(), self.remote_name,
                            f"+refs/heads/{branch}:refs/salvus/remote/{branch}", check=False,
                            **self.progress_kw())
        if proc.returncode:
            err = self.git.last_line(proc.stderr)
            if "couldn't find remote ref" in err:
                return None  # the remote exists but has no such branch yet: the first push creates it
            failure = explain(self.git.scrub(proc.stderr), self.remote_url(), bool(self.git.token), "fetch from")
            if failure.kind == "not_found" and missing_ok:
                return None
            raise SyncError(failure.message, kind=failure.kind)
        tip = self.git.rev(f"refs/salvus/remote/{branch}")
        self.report.fetched = tip
        return tip

    def send(self, head: str, remote_tip: str | None) -> bool:
        """Push head to the remote branch (fast-forward only, atomic); False when the remote moved meanwhile."""
        self.refuse_oversize(head, remote_tip)
        self._clear_remote_locks()
        proc = self.git.run("push", "--porcelain", "--atomic", *self.progress_args(), self.remote_name,
                            f"{head}:refs/heads/{self.branch}", check=False, **self.progress_kw())
        output = self.git.scrub(proc.stdout) + self.git.scrub(proc.stderr)
        if proc.returncode:
            if "[rejected]" in output or "non-fast-forward" in output or "fetch first" in output:
                return False
            failure = explain(output, self.remote_url(), bool(self.git.token), "push to")
            raise SyncError(failure.message, kind=failure.kind)
        # Both bookkeeping refs in one transaction (one git process).
        refs = "".join(f"update {ref}/{self.branch} {head}\n" for ref in ("refs/salvus/remote", "refs/salvus/synced"))
        self.git.run("update-ref", "--stdin", input=refs.encode())
        if "[up to date]" not in output:
            self.report.pushed = head
        if self.with_history:
            self.send_history()
        return True

    def send_history(self) -> None:
        """Push local snapshots to refs/salvus/machines/<machine>/snapshots (a ref only this machine writes)."""
        # Separate from the branch push: a snapshot history restarted on this machine (a deleted
        # .git) is refused as a non-fast-forward by a hub, and that must not stop the work from syncing.
        tip = self.git.rev(SNAPSHOTS)
        if not tip:
            return
        target = f"refs/salvus/machines/{self._machine_ref()}/snapshots"
        proc = self.git.run("push", "--porcelain", *self.progress_args(), self.remote_name, f"{tip}:{target}",
                            check=False, **self.progress_kw())
        if proc.returncode:
            self.report.history_error = self.git.last_line(proc.stderr + proc.stdout)
        else:
            self.report.history = target

    def refuse_oversize(self, head: str, remote_tip: str | None) -> None:
        """Refuse, before any transfer, to send files over the size limit (commits made outside sync)."""
        big = oversize_blobs(self.git, head, remote_tip, self.max_bytes)
        if big:
            limit = self.max_bytes / 1024 / 1024
            raise SyncError(f"not pushed: files over {limit:g} MB in commits to send: {', '.join(big)}")

    def progress_args(self) -> list[str]:
        """``--progress`` when someone shows it (git prints progress only to a terminal otherwise)."""
        return ["--progress"] if self.progress else []

    def progress_kw(self) -> dict[str, Any]:
        """Keyword arguments of Git.run that stream stderr lines to the progress callback."""
        return {"on_stderr": self.progress} if self.progress else {}

    def _machine_ref(self) -> str:
        """This machine's name as one valid ref component."""
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in self.machine).strip(".-") or "machine"
        return safe[:64]

    @property
    def remote_name(self) -> str:
        """The git remote synced with."""
        if not self.state.remote:
            raise SyncError("this project is not linked to a remote: run `salvus-local sync link PROJECT URL`")
        return self.state.remote

    def remote_url(self) -> str:
        """The remote's URL as configured (never carries a token); read once per command."""
        if self._remote_url is None:
            self._remote_url = self.git.run("remote", "get-url", self.remote_name, check=False).stdout.decode().strip()
        return self._remote_url

    def _set_ref(self, ref: str, commit: str) -> None:
        self.git.run("update-ref", ref, commit)

    def _clear_remote_locks(self) -> None:
        """A remote on this machine (a path or file:// URL) may hold locks of a killed push: clear stale ones."""
        url = self.remote_url()
        path = url[len("file://"):] if url.startswith("file://") else url if url.startswith("/") else None
        if path and Path(path).is_dir():
            Git(path).clear_stale_locks()
