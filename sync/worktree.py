"""Move the work tree from one commit to another, one file at a time, each replaced atomically.

Unlike ``git checkout``, which truncates and rewrites files in place, every file is written to a
temp file and renamed, so a kill leaves each file whole (old or new).  Every step checks the file
still holds what the old commit says: a file edited since the sync began is never overwritten
(the incoming version is saved beside it), and an untracked file at a path the remote adds is
renamed out of the way first.  Running it again for the same (old, new) finishes an interrupted
run: files already at the new version are skipped.

Paths come from a remote that may be hostile: every path git's verify_path would refuse ('..',
'.', '.git' and its NTFS/HFS aliases, empty parts, a leading '/', a backslash) stops the update
before anything is written; no symlink is followed on the way to a file (each folder is checked
with lstat, a link where a folder is needed is an error); and when we run as root every file
operation happens with the project folder owner's rights (store.owner.as_owner).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from salvus_local.store.atomic import atomic_write
from salvus_local.store.owner import as_owner

from .git import Blobs, Git
from .report import SyncError
from .rules import beside_name

GITLINK = "160000"
SYMLINK = "120000"


def blob_id(data: bytes, algo: str = "sha1") -> str:
    """The git blob id of data."""
    return hashlib.new(algo, b"blob %d\0" % len(data) + data).hexdigest()


def disk_id(path: Path, algo: str = "sha1", root: Path | None = None) -> str | None:
    """The git blob id of what is at path now (a symlink's target text), or None when nothing is there.

    root: when given, a path reached through a symlinked folder counts as nothing there.
    """
    if root is not None and _real_parent(root, str(path.relative_to(root))) is None:
        return None
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(st.st_mode):
        return blob_id(os.fsencode(os.readlink(path)), algo)
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    return blob_id(path.read_bytes(), algo)


def apply_tree(git: Git, old: str, new: str, machine: str, when: float,
               other_host: Callable[[str], str]) -> list[dict[str, str]]:
    """Change the work tree from commit/tree old to new; return conflicts ({path, kind, other})."""
    algo = "sha256" if len(new) == 64 else "sha1"  # the object format, from the length of an id
    raw = git.run("diff-tree", "-r", "-z", "--no-renames", old, new).stdout.split(b"\0")
    changes = []
    for i in range(0, len(raw) - 1, 2):
        if not raw[i].startswith(b":"):
            continue
        old_mode, new_mode, old_id, new_id, status = raw[i][1:].decode().split(" ")
        changes.append((status, old_mode, new_mode, old_id, new_id, raw[i + 1].decode("utf-8", "surrogateescape")))
    bad = [c[5] for c in changes if c[0] != "D" and not path_ok(c[5], c[2])]
    if bad:
        raise SyncError(f"The remote's commit {new[:12]} holds an unsafe path {bad[0]!r} (like '..' or '.git'); "
                        "nothing was changed here. Do not sync with that remote.", kind="unsafe_path")
    with as_owner(git.root), git.blobs() as blobs:
        return _apply(blobs, changes, algo, machine, when, other_host)


def _apply(blobs: Blobs, changes: list[tuple[str, str, str, str, str, str]], algo: str, machine: str, when: float,
           other_host: Callable[[str], str]) -> list[dict[str, str]]:
    conflicts: list[dict[str, str]] = []
    root = blobs.git.root

    def taken(rel: str) -> bool:
        return os.path.lexists(root / rel)

    # Deletions first, so a path that turns from file into folder (or back) is free when written.
    for status, old_mode, new_mode, old_id, new_id, rel in sorted(changes, key=lambda c: c[0] != "D"):
        path = root / rel
        current = disk_id(path, algo, root)
        if status == "D":
            if current is None or old_mode == GITLINK:
                continue
            if current == old_id:
                path.unlink()
                _prune_empty(path.parent, root)
            else:  # edited here since the sync began: the edit survives the other side's delete
                conflicts.append({"path": rel, "kind": "edit-vs-delete", "kept": "local"})
            continue
        if new_mode == GITLINK or current == new_id:
            continue  # a submodule (not ours to check out), or already there (a finished earlier run)
        if status == "A" or current is None:
            _clear_the_way(root, rel, machine, when, conflicts)
        elif current != old_id:
            # Edited here since the sync began: keep the edit, save the incoming version beside it.
            other = beside_name(rel, other_host(rel), when, taken)
            _write(blobs, root / other, new_mode, new_id)
            conflicts.append({"path": rel, "kind": "edited-during-sync", "other": other})
            continue
        _write(blobs, path, new_mode, new_id)
    return conflicts


_NTFS_GIT = (".git", "git~1")
# Code points HFS+ ignores when comparing names (git's is_hfs_dotgit), so ".g\u200cit" is ".git" there.
_HFS_IGNORED = dict.fromkeys(map(ord, "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                      "\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"))


def path_ok(rel: str, mode: str = "100644") -> bool:
    """Whether git's verify_path (protectNTFS and protectHFS on) would accept rel as a work tree path."""
    if not rel or rel.startswith("/") or "\\" in rel or "\0" in rel:
        return False
    parts = rel.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            return False
        low = part.lower()
        if low.translate(_HFS_IGNORED) == ".git" or low.split(":")[0].rstrip(" .") in _NTFS_GIT:
            return False
    return not (mode == SYMLINK and parts[-1].lower().rstrip(" .") == ".gitmodules")


def _real_parent(root: Path, rel: str, create: bool = False) -> Path | None:
    """root/dirname(rel) after checking no part of it is a symlink; missing folders made when create, else None."""
    folder = root
    for part in rel.split("/")[:-1]:
        folder = folder / part
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            if not create:
                return None
            os.mkdir(folder)  # as the owner (as_owner): a session could not plant a link here meanwhile for root
            continue
        if not stat.S_ISDIR(st.st_mode):
            if not create:
                return None
            raise SyncError(f"{rel!r}: {folder.relative_to(root)} is a link or a file, not a folder; "
                            "nothing is written through a link", kind="unsafe_path")
    return folder


def _clear_the_way(root: Path, rel: str, machine: str, when: float, conflicts: list[dict[str, str]]) -> None:
    """Rename what is untracked at rel, or a file where rel needs a folder, to a name beside it: never overwrite it."""
    parts = Path(rel).parts
    for depth in range(1, len(parts) + 1):
        sub = "/".join(parts[:depth])
        path = root / sub
        if not os.path.lexists(path):
            return
        if depth < len(parts) and path.is_dir() and not path.is_symlink():
            continue  # a folder on the way: fine
        moved = beside_name(sub, machine, when, lambda p: os.path.lexists(root / p))
        os.rename(path, root / moved)
        conflicts.append({"path": sub, "kind": "untracked-renamed", "other": moved})
        return


def _write(blobs: Blobs, path: Path, mode: str, oid: str) -> None:
    """Put blob oid at path atomically (temp file + rename), with its mode; never through a symlinked folder."""
    data = blobs.read(oid)
    path = _real_parent(blobs.git.root, str(path.relative_to(blobs.git.root)), create=True) / path.name  # type: ignore[operator]
    if mode == SYMLINK:
        tmp = path.with_name(f".{path.name}.salvus-sync-link")
        if os.path.lexists(tmp):
            tmp.unlink()
        os.symlink(os.fsdecode(data), tmp)
        os.replace(tmp, path)
        return
    if path.is_symlink():
        path.unlink()
    atomic_write(path, data, path.name)
    want = 0o755 if mode == "100755" else 0o644
    if path.stat().st_mode & 0o777 != want:
        os.chmod(path, want)


def _prune_empty(folder: Path, root: Path) -> None:
    """Remove folders a deletion left empty, up to (not including) the root, as git does."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
