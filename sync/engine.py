"""Sync one project with its git remote: the ordered steps of pull, push and sync.

Each step is one method; the sequence in ``pull`` / ``push`` / ``sync`` reads as the algorithm,
and each step's comment names the way of losing work it prevents.  Merges follow ancestry
(``git merge-tree``), never clocks or mtimes; the work tree changes only in ``update_work_tree``,
after the fetch completed and the merge commit exists.
"""

from __future__ import annotations

import getpass
import os
import time
from pathlib import Path
from typing import Any

from salvus_local.store.owner import as_owner
from salvus_local.store.rawstage import stage

from .git import Git
from .objects import (ZERO, notebooks_changed_on_both_sides, open_conflicts, other_host, parse_merge_tree, read_blob,
                      taken_in, tree_with, write_blob)
from .report import Report, SyncError
from .rules import Entry, resolve_path
from .session import Session, as_sync_error
from .state import SyncState, private_dir
from .transport import SNAPSHOTS, Transport
from .worktree import apply_tree

__all__ = ["Report", "SNAPSHOTS", "SyncError", "Syncer", "as_sync_error"]

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class Syncer(Transport):
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
            # No fetch first: git itself refuses a push that is not a fast-forward (the remote has work
            # this copy lacks) and moves nothing, so a fetch would only add two round trips.
            head = self.git.rev("HEAD")
            if head and not self.send(head, self.git.rev(f"refs/salvus/remote/{self.branch}")):
                raise SyncError("the remote has work this copy does not have yet: run `salvus-local sync` to merge it")
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
        # Plumbing only (write-tree, commit-tree, update-ref): `git commit` refreshes the index
        # through the project's .gitattributes filters and runs hooks.
        self.stage_work_tree()
        tree = self.git.out("write-tree")
        head = self.git.rev("HEAD")
        if tree == (self.git.out("rev-parse", f"{head}^{{tree}}") if head else EMPTY_TREE):
            return
        message = f"Work on {self.machine}\n\nSalvus-Machine: {self.machine}\n"
        commit = self.git.out("commit-tree", tree, *(["-p", head] if head else []), "-F", "-",
                              input=message.encode(), env=self._identity())
        self.git.run("update-ref", "-m", f"salvus sync on {self.machine}: work", "HEAD", commit, head or ZERO)
        self.report.committed = commit

    def stage_work_tree(self, env: dict[str, str] | None = None) -> list[str]:
        """Stage the work tree's raw bytes, files under the size limit (into env's GIT_INDEX_FILE, if any); changed paths."""
        # Raw bytes, never `git add`: a collaborator's `working-tree-encoding` made every sync fail,
        # `eol`/`ident`/`filter` altered what was sent and a filter ran a command (store.rawstage).
        index = Path((env or {}).get("GIT_INDEX_FILE") or self.git.git_dir / "index")
        changed, skipped = stage(lambda *args, input=None: self.git.run(*args, input=input, env=env).stdout,
                                 self.root, self.dir / f"stat-{index.name}.json", self.max_bytes,
                                 lambda: as_owner(self.root))
        # Over the limit: never committed, so never transferred (nested repositories are not ours).
        self.report.refused += [p for p in skipped if not p.endswith("/")]
        return changed

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
                            check=False, **self._no_attributes())
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
        # --reset keeps the stat data of unchanged entries; no --refresh: it reads files through the
        # project's filters (stage_work_tree compares raw bytes with its own stat cache instead).
        self.git.run("read-tree", "--reset", new)
        current = expect or old
        if current != new and self.git.rev(f"refs/heads/{self.branch}") != new:  # not done by a killed run
            self.git.run("update-ref", "-m", f"salvus sync on {self.machine}", f"refs/heads/{self.branch}", new,
                         current or ZERO)
        self.state.journal = None
        self.state.save(self.dir)

    # --- Helpers ----------------------------------------------------------------------------------------
    @property
    def branch(self) -> str:
        """The branch synced: the configured one, else the current branch."""
        if not self.state.branch:
            name = self.git.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.decode().strip()
            if not name:
                raise SyncError("the project is not on a branch (detached HEAD): check out a branch first")
            self.state.branch = name
        return self.state.branch

    def _session(self) -> Any:
        """The sync lock, with the outcome (time, error, offline, conflicts) recorded in sync.json."""
        return Session(self)

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

    def _no_attributes(self) -> dict[str, Any]:
        """Keyword arguments of Git.run under which git sees no .gitattributes (so no merge driver or filter runs)."""
        # git 2.39 reads in-tree attributes from the work tree (relative to its working directory),
        # then the index: run it in an empty folder given as the work tree, with an empty index.
        empty = self.dir / "no-attributes"
        with as_owner(self.root):
            empty.mkdir(exist_ok=True)
        env = {"GIT_DIR": str(self.git.git_dir), "GIT_WORK_TREE": str(empty), "GIT_INDEX_FILE": str(empty / "index"),
               "GIT_ATTR_NOSYSTEM": "1"}
        return {"env": env, "cwd": empty}

    def _other_host(self, commit: str, path: str) -> str:
        return other_host(self.git, commit, path, self.state.remote or "remote")
