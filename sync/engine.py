"""Sync one project with its git remote: the ordered steps of pull, push and sync.

Each step is one method; the sequence in ``pull`` / ``push`` / ``sync`` reads as the algorithm,
and each step's comment names the way of losing work it prevents.  Merges follow ancestry
(``git merge-tree``), never clocks or mtimes; the work tree changes only in ``update_work_tree``,
after the fetch completed and the merge commit exists.
"""

from __future__ import annotations

import errno
import getpass
import os
import time
from pathlib import Path
from typing import Any

from salvus_local.store.errors import StoreError

from .git import Git, GitError
from .messages import explain
from .objects import (merge_conflict_lists, notebooks_changed_on_both_sides, open_conflicts, other_host,
                      oversize_blobs, parse_merge_tree, read_blob, taken_in, tree_with, write_blob)
from .report import Report, SyncError
from .rules import Entry, resolve_path
from .state import SyncState, private_dir, sync_lock
from .worktree import apply_tree

ZERO = "0" * 40
SNAPSHOTS = "refs/salvus/snapshots"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class Syncer:
    """Pull, push and sync one work tree against one git remote (any URL git understands)."""

    def __init__(self, root: str | os.PathLike[str], machine: str, author: str | None = None, token: str | None = None,
                 max_file_mb: float = 100) -> None:
        self.git = Git(root, token=token)
        self.root = self.git.root
        self.machine = machine
        self.author = author
        self.max_bytes = int(max_file_mb * 1024 * 1024)
        self.dir = private_dir(self.git.git_dir)
        self.state = SyncState.load(self.dir)
        self.report = Report()
        self.merge_label: str | None = None  # what merge commits say they merged (default: remote/branch)
        self.with_history = False  # also push refs/salvus/snapshots to refs/salvus/machines/<machine>/snapshots
        self.progress: Any = None  # callable(line) for git's --progress lines (the CLI's bars), or None

    # --- The three commands ------------------------------------------------------------------------
    def pull(self) -> Report:
        """Bring the remote's work into this copy (committing local work first)."""
        with self._session():
            self.prepare()
            remote_tip = self.fetch(missing_ok=False)
            if remote_tip:
                self.integrate(remote_tip)
        return self.report

    def push(self) -> Report:
        """Send this copy's work; refuses (changing nothing) when the remote has work this copy lacks."""
        with self._session():
            self.prepare()
            remote_tip = self.fetch()
            head = self.git.rev("HEAD")
            if remote_tip and not (head and self.git.is_ancestor(remote_tip, head)):
                raise SyncError("the remote has work this copy does not have yet: run `salvus-local sync` to merge it")
            if head and head != remote_tip:
                self.send(head, remote_tip)
        return self.report

    def sync(self, attempts: int = 3) -> Report:
        """Pull, then push; when someone pushed in between, merge again (a bounded number of times)."""
        with self._session():
            self.prepare()
            for _ in range(attempts):
                remote_tip = self.fetch()
                if remote_tip:
                    self.integrate(remote_tip)
                head = self.git.rev("HEAD")
                if not head or head == remote_tip or self.send(head, remote_tip):
                    return self.report
            raise SyncError(f"the remote kept changing during {attempts} attempts: try again")

    # --- The steps, in order --------------------------------------------------------------------------
    def prepare(self) -> None:
        """Recover from a killed sync, then commit local work."""
        # A sync killed while writing the work tree finishes that update first; otherwise its
        # half-written state would be committed below as if the user had made it.
        if self.state.journal:
            journal = self.state.journal
            self.update_work_tree(journal["old"] or None, journal["new"], journal.get("expect"))
        # A git killed earlier leaves index.lock / ref locks behind and every later git would fail.
        self.git.clear_stale_locks()
        self.commit_local_work()

    def commit_local_work(self) -> None:
        """Commit every change in the work tree on the current branch (author: the account; message: the machine)."""
        # Local work must be a commit before anything merges into it: a merge can then never
        # overwrite an edit, and the edit travels with its ancestry instead of a timestamp.
        keep = self.stage_work_tree()
        if self.git.run("diff", "--cached", "--quiet", check=False).returncode == 0 and self.git.rev("HEAD"):
            return
        if not keep and not self.git.rev("HEAD"):
            return  # an empty new repository: nothing to commit yet
        message = f"Work on {self.machine}\n\nSalvus-Machine: {self.machine}\n"
        self.git.run("commit", "-q", "--no-verify", "-F", "-", input=message.encode(), env=self._identity())
        self.report.committed = self.git.rev("HEAD")

    def stage_work_tree(self, env: dict[str, str] | None = None) -> list[str]:
        """``git add`` every changed file under the size limit (into env's GIT_INDEX_FILE, if any); the paths."""
        listed = self.git.run("ls-files", "-z", "-m", "-d", "-o", "--exclude-standard", env=env).stdout
        paths = sorted({p for p in listed.decode("utf-8", "surrogateescape").split("\0") if p and not p.endswith("/")})
        keep = []
        for rel in paths:
            full = self.root / rel
            if full.is_file() and not full.is_symlink() and full.stat().st_size > self.max_bytes:
                self.report.refused.append(rel)  # over the limit: never committed, so never transferred
            else:
                keep.append(rel)
        if keep:
            data = "\0".join(keep).encode("utf-8", "surrogateescape") + b"\0"
            self.git.run("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul", input=data,
                         env={"GIT_LITERAL_PATHSPECS": "1", **(env or {})})
        return keep

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

    def integrate(self, remote_tip: str) -> None:
        """Keep rewritten history, merge, then update the work tree to the merge."""
        head = self.git.rev("HEAD")
        self.keep_rewritten_history(remote_tip, head)
        merged = self.merge(head, remote_tip)
        if merged != head:
            self.update_work_tree(head, merged)
            self.report.merged = merged
        self._set_ref(f"refs/salvus/synced/{self.branch}", remote_tip)

    def keep_rewritten_history(self, remote_tip: str, head: str | None) -> None:
        """When the remote's history was rewritten (force-push), save local commits on refs/salvus/backup/<date>."""
        # The merge below still keeps local work, but a backup ref makes the pre-merge state
        # findable by name; we never `reset --hard` to the remote.
        synced = self.git.rev(f"refs/salvus/synced/{self.branch}")
        if head and synced and not self.git.is_ancestor(synced, remote_tip):
            name = "refs/salvus/backup/" + time.strftime("%Y%m%d-%H%M%S", time.gmtime())
            self._set_ref(name, head)
            self.report.backup = name

    def merge(self, head: str | None, remote_tip: str) -> str:
        """The commit to move to: fast-forward, unchanged, or a merge commit made in the object store."""
        if head is None or self.git.is_ancestor(head, remote_tip):
            return remote_tip
        if self.git.is_ancestor(remote_tip, head):
            return head
        proc = self.git.run("merge-tree", "--write-tree", "-z", "--allow-unrelated-histories", head, remote_tip,
                            check=False)
        if proc.returncode not in (0, 1):
            raise SyncError(f"git merge-tree failed: {self.git.last_line(proc.stderr)}")
        tree, stages = parse_merge_tree(proc.stdout)
        updates: dict[str, Entry | None] = {}
        taken = taken_in(self.git, tree)
        now = time.time()
        for path in sorted(stages):
            outcome = resolve_path(path, stages[path], lambda oid: read_blob(self.git, oid),
                                   lambda data: write_blob(self.git, data),
                                   self._other_host(remote_tip, path), now, lambda p: p in updates or taken(p))
            updates.update(outcome.entries)
            self.report.conflicts += outcome.conflicts
        # Notebooks that git merged as text without a conflict still merge cell-wise: a text merge
        # of JSON can be invalid or mix two cells.
        merged_notebooks, conflicts = notebooks_changed_on_both_sides(self.git, head, remote_tip, stages)
        updates.update(merged_notebooks)
        self.report.conflicts += conflicts
        if updates:
            tree = tree_with(self.git, self.dir / "merge-index", tree, updates)
        names = ", ".join(c["path"] for c in self.report.conflicts)
        label = self.merge_label or f"{self.remote_name}/{self.branch}"
        message = (f"Sync on {self.machine}: merge {label}"
                   + (f"\n\nConflicts (both versions kept): {names}" if names else "")
                   + f"\n\nSalvus-Machine: {self.machine}\n")
        commit = self.git.out("commit-tree", tree, "-p", head, "-p", remote_tip, "-F", "-", input=message.encode(),
                              env=self._identity())
        return commit

    def update_work_tree(self, old: str | None, new: str, expect: str | None = None) -> None:
        """Move the work tree, index and branch from commit old to new, journaled so a kill can be finished.

        ``expect``: the branch's value now when it is not old (the hub: a push already moved it).
        """
        self.state.journal = {"old": old or "", "new": new, **({"expect": expect} if expect else {})}
        self.state.save(self.dir)
        when = time.time()
        self.report.conflicts += apply_tree(self.git, old or EMPTY_TREE, new, self.machine, when,
                                            lambda path: self._other_host(new, path))
        # Index last but one, branch last: a kill before this point leaves HEAD at old and the
        # journal, and the next sync finishes the same update.
        self.git.run("read-tree", new)
        self.git.run("update-index", "-q", "--refresh", check=False)
        current = expect or old
        if current != new and self.git.rev(f"refs/heads/{self.branch}") != new:  # not done by a killed run
            self.git.run("update-ref", "-m", f"salvus sync on {self.machine}", f"refs/heads/{self.branch}", new,
                         current or ZERO)
        self.state.journal = None
        self.state.save(self.dir)

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
        self._set_ref(f"refs/salvus/remote/{self.branch}", head)
        self._set_ref(f"refs/salvus/synced/{self.branch}", head)
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

    # --- Helpers ----------------------------------------------------------------------------------------
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
    def branch(self) -> str:
        """The branch synced: the configured one, else the current branch."""
        if not self.state.branch:
            name = self.git.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.decode().strip()
            if not name:
                raise SyncError("the project is not on a branch (detached HEAD): check out a branch first")
            self.state.branch = name
        return self.state.branch

    @property
    def remote_name(self) -> str:
        """The git remote synced with."""
        if not self.state.remote:
            raise SyncError("this project is not linked to a remote: run `salvus-local sync link PROJECT URL`")
        return self.state.remote

    def remote_url(self) -> str:
        """The remote's URL as configured (never carries a token)."""
        return self.git.run("remote", "get-url", self.remote_name, check=False).stdout.decode().strip()

    def _session(self) -> Any:
        """The sync lock, with the outcome (time, error, offline, conflicts) recorded in sync.json."""
        return _Session(self)

    def open_conflicts(self, conflicts: list[dict[str, str]]) -> list[dict[str, str]]:
        """The conflicts still to look at (see objects.open_conflicts)."""
        return open_conflicts(self.root, conflicts)

    def _identity(self) -> dict[str, str]:
        """GIT_AUTHOR_* / GIT_COMMITTER_* of the account (or the OS user at this machine)."""
        author = self.author or f"{getpass.getuser()} <{getpass.getuser()}@{self.machine}>"
        name, _, email = author.partition("<")
        name, email = name.strip() or "salvus-local", email.rstrip(">").strip() or "sync@salvus.local"
        return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email}

    def _set_ref(self, ref: str, commit: str) -> None:
        self.git.run("update-ref", ref, commit)

    def _other_host(self, commit: str, path: str) -> str:
        return other_host(self.git, commit, path, self.state.remote or "remote")

    def _clear_remote_locks(self) -> None:
        """A remote on this machine (a path or file:// URL) may hold locks of a killed push: clear stale ones."""
        url = self.remote_url()
        path = url[len("file://"):] if url.startswith("file://") else url if url.startswith("/") else None
        if path and Path(path).is_dir():
            Git(path).clear_stale_locks()


class _Session:
    """Hold the repository's sync lock around one command; record its outcome in sync.json at the end."""

    def __init__(self, syncer: Syncer) -> None:
        self.syncer = syncer
        self.lock: Any = None

    def __enter__(self) -> None:
        syncer = self.syncer
        self.lock = sync_lock(syncer.dir)
        self.lock.__enter__()
        syncer.state = SyncState.load(syncer.dir)
        syncer.state.last_attempt = time.time()

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        syncer = self.syncer
        try:
            state = syncer.state
            state.offline = bool(isinstance(exc, SyncError) and exc.offline)
            exc = as_sync_error(exc)
            state.last_error = (getattr(exc, "message", None) or str(exc)) if exc else None
            state.last_error_kind = getattr(exc, "kind", "other") if exc else None
            if exc is None:
                state.last_sync = time.time()
                state.conflicts = merge_conflict_lists(syncer.report.conflicts, state.conflicts, syncer.root)
            try:
                state.save(syncer.dir)
            except (OSError, StoreError):
                if exc is None:
                    raise  # the sync worked but cannot be recorded (a full disk): say so
                # else the sync's own failure is what to report (its record waits for free space)
        finally:
            self.lock.__exit__(kind, exc, tb)


def as_sync_error(exc: BaseException | None) -> BaseException | None:
    """git, disk and store failures as a SyncError with a one-line message (others unchanged)."""
    if isinstance(exc, GitError):
        return SyncError(exc.message)
    if isinstance(exc, StoreError):  # atomic writes: 507 when the disk is full
        return SyncError(f"{exc.message}: nothing was lost; free some space and sync again",
                         kind="disk_full" if exc.status == 507 else "other")
    if isinstance(exc, OSError):  # a full disk here, a vanished folder
        return SyncError(f"{exc.strerror or exc} ({exc.filename or 'this machine'}): nothing was lost; fix it and "
                         "sync again", kind="disk_full" if exc.errno == errno.ENOSPC else "other")
    return exc
