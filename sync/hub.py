"""The hub's own copy of a project: the same merge rules as a laptop, run when a push arrives.

The hub's work tree is edited in its browser UI while laptops push.  git's ``updateInstead``
refuses a push whenever the work tree has edits, so the hub receives pushes with
``receive.denyCurrentBranch=ignore`` (the ref moves, the files do not) and then integrates:

1. ``before_push``: under the sync lock, remember the commit the work tree stands at (``old``),
   in sync.json first, so a hub killed mid-push finishes the integration on its next request.
2. git receive-pack checks the pack and moves the branch (fast-forward only) to ``new``.
3. ``after_push``: the hub's edits since ``old`` become a commit on ``old`` (built in a private
   index), which merges with ``new`` by the laptop's rules (``Syncer.merge``: notebooks cell-wise,
   other conflicts kept beside as ``NAME (from LAPTOP, DATE).EXT`` and listed in the hub's
   sync state); the work tree then moves file by file (``Syncer.update_work_tree``), and the
   branch from ``new`` to the merge.  Nothing the hub's user typed is lost, nothing pushed is lost.

``before_request`` (every git request) finishes a pending integration; before a fetch it also
commits the hub's edits, so the fetch sees them.  Not before a push: the push would then be
refused as not fast-forward, and the hub's edits are merged into it instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from .engine import Syncer
from .state import sync_lock

HUB_MACHINE = "hub"
HUB_AUTHOR = "salvus-local hub <hub@salvus.local>"


class HubRepo:
    """One project's repository on the hub."""

    def __init__(self, root: str | os.PathLike[str], max_file_mb: float = 100) -> None:
        self.syncer = Syncer(root, HUB_MACHINE, author=HUB_AUTHOR, max_file_mb=max_file_mb)
        self.syncer.merge_label = "a push"
        self.git = self.syncer.git
        self._lock: Any = None

    # --- Around every git request ---------------------------------------------------------------
    def before_request(self, commit: bool = True) -> None:
        """Finish a push a killed hub left half-integrated, clear stale locks, commit the hub's edits (if commit)."""
        with sync_lock(self.syncer.dir):
            self._reload()
            self.git.clear_stale_locks()
            self._finish_pending()
            if self.syncer.state.journal:  # a work-tree update a kill interrupted
                j = self.syncer.state.journal
                self.syncer.update_work_tree(j["old"] or None, j["new"], j.get("expect"))
            if commit:
                self.syncer.commit_local_work()

    def before_push(self) -> None:
        """Take the sync lock for the whole push and record where the work tree stands."""
        self._lock = sync_lock(self.syncer.dir)
        self._lock.__enter__()
        try:
            self._reload()
            self.git.clear_stale_locks()
            self._finish_pending()
            state = self.syncer.state
            state.pending_push = self.git.rev("HEAD") or ""
            state.save(self.syncer.dir)
        except BaseException:
            self._release()
            raise

    def after_push(self) -> list[dict[str, str]]:
        """Integrate what the push brought (see the module docstring); release the lock; the new conflicts."""
        try:
            return self._finish_pending()
        finally:
            self._release()

    # --- Steps ---------------------------------------------------------------------------------------
    def _finish_pending(self) -> list[dict[str, str]]:
        state = self.syncer.state
        if state.pending_push is None:
            return []
        old = state.pending_push or None
        self._adopt_pushed_branch()
        new = self.git.rev("HEAD")
        conflicts: list[dict[str, str]] = []
        if new and new != old:
            conflicts = self._integrate(old, new)
        state.pending_push = None
        if conflicts:
            seen = {(c["path"], c.get("other", "")) for c in conflicts}
            state.conflicts = conflicts + [c for c in self.syncer.open_conflicts(state.conflicts)
                                           if (c["path"], c.get("other", "")) not in seen]
        state.save(self.syncer.dir)
        return conflicts

    def _integrate(self, old: str | None, new: str) -> list[dict[str, str]]:
        """Merge the hub's uncommitted edits (on old) with the pushed new; move work tree and branch."""
        syncer = self.syncer
        syncer.report.conflicts = []
        local = self._edits_as_commit(old)
        if local == old or (local and not self._adds_anything(local, new)):
            target, base = new, old  # no edits on the hub: a plain update of the files
        else:
            target, base = syncer.merge(local, new), local
        syncer.update_work_tree(base, target, expect=new)
        return list(syncer.report.conflicts)

    def _adds_anything(self, local: str, new: str) -> bool:
        """True when local has a file that new lacks or holds differently (else new already has it all)."""
        out = self.git.run("diff-tree", "-r", "--name-only", "--diff-filter=AMT", "--no-renames", new, local).stdout
        return bool(out.strip())

    def _edits_as_commit(self, old: str | None) -> str | None:
        """The work tree as a commit whose parent is old (old itself when nothing changed); HEAD, index untouched."""
        index = self.syncer.dir / "hub-index"
        env = {"GIT_INDEX_FILE": str(index)}
        try:
            # Start from a copy of the hub's own index: its files' stat data lets git skip every
            # unchanged file, where a bare read-tree would make it read and hash the whole tree.
            # --reset then makes it exactly old (keeping stat data only where the content matches).
            if old:
                self._copy_index(index)
                self.git.run("read-tree", "--reset", old, env=env)
            else:
                self.git.run("read-tree", "--empty", env=env)
            self.syncer.stage_work_tree(env)
            tree = self.git.out("write-tree", env=env)
        finally:
            index.unlink(missing_ok=True)
        if old and tree == self.git.out("rev-parse", f"{old}^{{tree}}"):
            return old
        if not old and tree == "4b825dc642cb6eb9a060e54bf8d69288fbee4904":
            return None  # an empty hub project: nothing of its own
        message = f"Work on {HUB_MACHINE}\n\nSalvus-Machine: {HUB_MACHINE}\n"
        return self.git.out("commit-tree", tree, *(["-p", old] if old else []), "-F", "-", input=message.encode(),
                            env=self.syncer._identity())

    def _copy_index(self, to: Path) -> None:
        """Copy the repository's index to ``to`` (nothing when it has none), with the folder owner's rights."""
        from salvus_local.store.owner import as_owner

        to.unlink(missing_ok=True)
        with as_owner(self.git.root):  # .git/index could be a link a session planted: never read it as root
            try:
                with open(self.git.git_dir / "index", "rb") as src, open(to, "xb") as dst:
                    shutil.copyfileobj(src, dst)
            except FileNotFoundError:
                pass

    def _adopt_pushed_branch(self) -> None:
        """A project with no commit yet checks out the branch its first push made (main, master, …)."""
        if self.git.rev("HEAD"):
            return
        heads = self.git.out("for-each-ref", "--format=%(refname)", "refs/heads/").split()
        if len(heads) == 1:
            self.git.run("symbolic-ref", "HEAD", heads[0])
            self.syncer.state.branch = heads[0][len("refs/heads/"):]

    def _reload(self) -> None:
        from .state import SyncState

        self.syncer.state = SyncState.load(self.syncer.dir)

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.__exit__(None, None, None)


def project_meta(root: str | os.PathLike[str]) -> dict[str, Any]:
    """The pushed ``.salvus/project.json`` ({id, title, …}; {} when absent or unreadable)."""
    import json

    try:
        data = json.loads((Path(root) / ".salvus" / "project.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
