"""Snapshots: commits on ``refs/salvus/snapshots`` built with a private index, like ``git stash create``.

The user's branches, HEAD and index are never touched: we stage into a private index
(GIT_INDEX_FILE), write a tree, and commit it with the previous snapshot as parent.  The private
index persists between snapshots so an unchanged project costs one stat pass.  A cross-process
flock serializes snapshotters; holding it proves that any ``index.lock`` or
``refs/salvus/snapshots.lock`` left behind is stale (its writer was killed), so we remove them.
Objects and refs are written with ``core.fsync=committed,reference``.

Where that state lives: a server passes the project's :class:`~salvus_local.store.state.ProjectState`,
and the lock (the server's) and the index (the owner's: git runs as the owner) live there, out of
the project, where sessions cannot plant links.  Without one (tools, tests on a folder nobody else
writes) they live in ``<gitdir>/salvus``.  Everything this class does inside the project runs with
the project owner's rights (git as that user, the rest through ``store.owner.as_owner``).

The repository lives in the project, so a session may delete ``.git`` (``rm -rf .[!.]*``): that
wipes the history and cannot be prevented.  The next snapshot then starts a new repository
(``git init`` as the owner, a fresh private index) whose first commit says so, and logs a warning,
so snapshots keep working and the history list shows where the old one ended.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import rawstage
from .errors import BadRequest, InsufficientStorage, NotFound, StoreError
from .owner import as_owner
from .state import ProjectState

log = logging.getLogger(__name__)

REF = "refs/salvus/snapshots"
# How git says a write found no room (untranslated: ENV sets LC_ALL=C).
DISK_FULL = (b"No space left on device", b"Out of diskspace", b"Disk quota exceeded")
RESTARTED = "History inside the folder was deleted (.git removed); a new history starts here"
ENV = {
    "GIT_AUTHOR_NAME": "salvus-local", "GIT_AUTHOR_EMAIL": "snapshots@salvus.local",
    "GIT_COMMITTER_NAME": "salvus-local", "GIT_COMMITTER_EMAIL": "snapshots@salvus.local",
    "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
}
CONFIG = ("-c", "core.fsync=committed,reference", "-c", "core.fsyncMethod=batch", "-c", "core.quotepath=off", "-c", "gc.auto=0")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class Snapshot:
    """The outcome of one snapshot: the new commit (None if nothing changed), changed and skipped paths."""

    commit: str | None
    changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Snapshots:
    """Snapshot, history, read, diff of one project repository."""

    def __init__(self, root: str | os.PathLike[str], max_file_size: int = 50 * 1024 * 1024,
                 state: ProjectState | None = None) -> None:
        self.root = Path(root)
        self.max_file_size = max_file_size
        self.state = state
        self._git_dir: Path | None = None

    # Plumbing
    def git(self, *args: str, input: bytes | None = None, index: bool = False, check: bool = True) -> bytes:
        """Run git in the project (as the work tree's owner, see ``owner``); with ``index`` the private index is used."""
        env = {**os.environ, **ENV}
        if index:
            env["GIT_INDEX_FILE"] = str(self.private_dir / "index")
        owner = self.owner()
        run_as: dict[str, Any] = {}
        if owner:
            env.update(HOME=_home_of(owner[0]), GIT_CONFIG_GLOBAL=os.devnull)
            run_as = {"user": owner[0], "group": owner[1], "extra_groups": []}
        # safe.directory: a folder opened in place may belong to another user than the server's.
        proc = subprocess.run(["git", *CONFIG, "-c", f"safe.directory={self.root}", *args], cwd=self.root, env=env,
                              input=input, capture_output=True, check=False, **run_as)
        if check and proc.returncode:
            if any(sign in proc.stderr for sign in DISK_FULL):
                raise InsufficientStorage("The disk is full: no snapshot was taken (the files are as they were); "
                                          "free some space")
            raise StoreError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
        return proc.stdout

    def owner(self) -> tuple[int, int] | None:
        """(uid, gid) that git runs as: the work tree's owner when the server is root and the tree is not root's."""
        # Kernels and terminals run as that uid and can write .git/config: git run as root would
        # execute the filters, hooks and fsmonitor named there as root, and leave root-owned
        # objects that the user's own `git commit` cannot extend.
        if os.geteuid() != 0:
            return None
        st = os.stat(self.root)
        return (st.st_uid, st.st_gid) if st.st_uid != 0 else None

    @property
    def git_dir(self) -> Path:
        """The repository's git dir (``.git`` may be a file for worktrees)."""
        if self._git_dir is None:
            out = self.git("rev-parse", "--absolute-git-dir").decode().strip()
            self._git_dir = Path(out)
        return self._git_dir

    @property
    def private_dir(self) -> Path:
        """The folder of the private index: in the project's state folder (the owner's), else ``<gitdir>/salvus``."""
        owner = self.owner()
        if owner:
            self._adopt_once(owner)
        if self.state is not None:
            return self.state.owner_folder("git", owner)
        if owner:
            raise StoreError("Snapshots of a project sessions can write need the server's state folder")
        d = self.git_dir / "salvus"
        d.mkdir(exist_ok=True)
        return d

    def _adopt_once(self, owner: tuple[int, int]) -> None:
        """Hand a ``.git`` that root made (git init as root, an older version) to the work tree's owner."""
        if getattr(self, "_adopted", False):
            return
        _adopt(self.root, owner)
        self._adopted = True

    def head(self) -> str | None:
        """The newest snapshot commit, or None."""
        out = self.git("rev-parse", "-q", "--verify", f"{REF}^{{commit}}", check=False).strip()
        return out.decode() or None

    @contextmanager
    def _locked(self) -> Iterator[bool]:
        """Hold the project's snapshot lock; yields True when .git had been deleted and was re-created."""
        with _locks_guard:
            lock = _locks.setdefault(str(self.root.resolve()), threading.Lock())
        with lock:
            restarted = self._ensure_repository()
            fd = self.state.open_lock("snapshot.lock") if self.state else _open_plain_lock(self.private_dir / "lock")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                # We hold the lock: any lock file of ours is left over from a killed snapshotter.
                # The index folder is only written by git and us; the ref lock sits in the
                # project's .git, so it is removed with the owner's rights (never root's).
                _unlink_quietly(self.private_dir / "index.lock")
                ref_lock = self.git_dir / f"{REF}.lock"
                with as_owner(self.root):
                    _unlink_quietly(ref_lock)
                yield restarted
            finally:
                os.close(fd)

    # Snapshots
    def take(self, message: str = "snapshot") -> Snapshot:
        """Commit the work tree's current state if it differs from the last snapshot."""
        with self._locked() as restarted:
            if restarted:
                message = f"{RESTARTED}. {message}"
            parent = self.head()
            if not (self.private_dir / "index").exists():
                self._seed_index(parent)
            changed, skipped = self._stage()
            tree = self.git("write-tree", index=True).decode().strip()
            if parent and self.git("rev-parse", f"{parent}^{{tree}}").decode().strip() == tree:
                return Snapshot(None, changed, skipped)
            args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
            commit = self.git(*args).decode().strip()
            self.git("update-ref", REF, commit, parent or "0" * 40)
            return Snapshot(commit, changed, skipped)

    def _ensure_repository(self) -> bool:
        """Re-create a ``.git`` that a session deleted (call under the lock); True when it did."""
        if os.path.lexists(self.root / ".git") or not self.root.is_dir():
            return False
        log.warning("project %s: .git was deleted, so its snapshot history is lost; starting a new one", self.root)
        self.git("init", "-q", "--initial-branch=main")
        self._git_dir = None
        self._adopted = False
        # The private index (server state; without one it was inside the deleted .git) names
        # objects of the deleted repository: rebuild it from scratch.
        if self.state is not None:
            _unlink_quietly(self.private_dir / "index")
        return True

    def _seed_index(self, parent: str | None) -> None:
        """Start the private index from the last snapshot or HEAD, so unchanged files are not re-added."""
        base = parent or self.git("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).decode().strip()
        if base:
            self.git("read-tree", base, index=True)  # (its files are compared in _stage: no --refresh)

    def _stage(self) -> tuple[list[str], list[str]]:
        """Stage the work tree's raw bytes (no attribute, filter or driver applies) into the private index."""
        # Never `update-index --add` / `--refresh`: they apply the project's .gitattributes (a
        # working-tree-encoding failed every snapshot, a filter ran its command); see rawstage.
        return rawstage.stage(lambda *args, input=None: self.git(*args, input=input, index=True), self.root,
                              self.private_dir / "stat-cache.json", self.max_file_size, lambda: as_owner(self.root))

    # History
    def history(self, path: str | None = None, limit: int = 200) -> list[dict[str, object]]:
        """Snapshots that changed ``path`` (or any file), newest first."""
        if not self.head():
            return []
        args = ["log", "-z", f"--max-count={limit}", "--format=%H%x1f%ct%x1f%s", REF]
        out = self.git(*args, *(["--", path] if path else []))
        versions = []
        for record in filter(None, out.decode("utf-8", "replace").split("\0")):
            sha, ts, subject = record.strip("\n").split("\x1f", 2)
            versions.append({"id": sha, "time": int(ts), "message": subject})
        return versions

    def read(self, version: str, path: str) -> bytes:
        """Return a file's bytes at a snapshot."""
        self._check_version(version)
        if self.git("cat-file", "-t", f"{version}:{path}", check=False).strip() != b"blob":
            raise NotFound(f"{path} does not exist in version {version[:12]}")
        return self.git("cat-file", "blob", f"{version}:{path}")

    def diff(self, a: str, b: str, path: str | None = None) -> str:
        """Unified diff between two snapshots (of one path, or all)."""
        self._check_version(a)
        self._check_version(b)
        out = self.git("diff", "--no-color", "--no-ext-diff", "--no-textconv", a, b, "--", *([path] if path else []))
        return out.decode("utf-8", "replace")

    def _check_version(self, version: str) -> None:
        if not version or not all(c in "0123456789abcdef" for c in version) or not 4 <= len(version) <= 64:
            raise BadRequest(f"Not a version id: {version!r}")
        if self.git("cat-file", "-t", version, check=False).strip() != b"commit":
            raise NotFound(f"No such version: {version}")


def _home_of(uid: int) -> str:
    """The home folder of a uid (git reads its config there), or a folder that does not exist."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return "/nonexistent"


def _open_plain_lock(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC, 0o600)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)  # unlink never follows a link in the last component
    except FileNotFoundError:
        pass


def _adopt(root: Path, owner: tuple[int, int]) -> None:
    """Give everything in ``<root>/.git`` that root owns to the work tree's owner, without following links."""
    # Opened with O_NOFOLLOW and walked by folder descriptors (os.fwalk): a session that swaps
    # .git or a folder in it for a link mid-walk only makes an open fail.
    try:
        top = os.open(root / ".git", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return  # no .git folder of its own (a worktree's .git file): nothing of root's to hand over
    try:
        if os.fstat(top).st_uid == 0:
            os.fchown(top, *owner)
        for _base, dirs, files, dirfd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            for name in dirs + files:
                st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
                if st.st_uid == 0:
                    os.chown(name, *owner, dir_fd=dirfd, follow_symlinks=False)
    finally:
        os.close(top)
