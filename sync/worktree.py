"""Move the work tree from one commit to another, one file at a time, each replaced atomically.

Unlike ``git checkout``, which truncates and rewrites files in place, every file is written to a
temp file and renamed, so a kill leaves each file whole (old or new).  Every step checks the file
still holds what the old commit says: a file edited since the sync began is never overwritten
(the incoming version is saved beside it), and an untracked file at a path the remote adds is
renamed out of the way first.  Running it again for the same (old, new) finishes an interrupted
run: files already at the new version are skipped.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from salvus_local.store.atomic import atomic_write, make_dirs

from .git import Git
from .rules import beside_name

GITLINK = "160000"
SYMLINK = "120000"


def blob_id(data: bytes, algo: str = "sha1") -> str:
    """The git blob id of data."""
    return hashlib.new(algo, b"blob %d\0" % len(data) + data).hexdigest()


def disk_id(path: Path, algo: str = "sha1") -> str | None:
    """The git blob id of what is at path now (a symlink's target text), or None when nothing is there."""
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
    algo = "sha256" if git.out("rev-parse", "--show-object-format") == "sha256" else "sha1"
    raw = git.run("diff-tree", "-r", "-z", "--no-renames", old, new).stdout.split(b"\0")
    changes = []
    for i in range(0, len(raw) - 1, 2):
        if not raw[i].startswith(b":"):
            continue
        old_mode, new_mode, old_id, new_id, status = raw[i][1:].decode().split(" ")
        changes.append((status, old_mode, new_mode, old_id, new_id, raw[i + 1].decode("utf-8", "surrogateescape")))
    conflicts: list[dict[str, str]] = []
    root = git.root

    def taken(rel: str) -> bool:
        return os.path.lexists(root / rel)

    # Deletions first, so a path that turns from file into folder (or back) is free when written.
    for status, old_mode, new_mode, old_id, new_id, rel in sorted(changes, key=lambda c: c[0] != "D"):
        path = root / rel
        current = disk_id(path, algo)
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
            _write(git, root / other, new_mode, new_id)
            conflicts.append({"path": rel, "kind": "edited-during-sync", "other": other})
            continue
        _write(git, path, new_mode, new_id)
    return conflicts


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


def _write(git: Git, path: Path, mode: str, oid: str) -> None:
    """Put blob oid at path atomically (temp file + rename), with its mode."""
    data = git.run("cat-file", "blob", oid).stdout
    make_dirs(path.parent)
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
