"""Stage a work tree's raw bytes into a git index: no attribute of the project changes what is stored.

``git add`` / ``update-index --add`` apply the project's ``.gitattributes`` (and config): a
``working-tree-encoding`` that does not fit the file makes them fail ("BOM is required"), ``eol``,
``ident`` and ``filter`` store altered bytes, and a ``filter`` driver runs a command.  Git also
compares file content through those filters whenever it refreshes an index (``ls-files -m``,
``update-index --refresh``, ``commit``).  So snapshots and sync never let git read the work tree's
files: blobs are written with ``hash-object -w --no-filters --stdin-paths`` (one batch), entries with
``update-index --index-info``, and "did this file change" is answered by our own stat cache (a JSON
file beside the index: path → stat and blob id), not by git's index stat data.  ``ls-files -o``
(which only lists names) still applies ``.gitignore``.

``run(*args, input=None) -> bytes`` runs git in the work tree with the index in question; callers
run this with the project owner's file-system rights (``as_owner``) when they are root.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from .atomic import atomic_write

Run = Callable[..., bytes]
Rights = Callable[[], AbstractContextManager[None]]
ZERO = "0" * 40
GITLINK = "160000"
RACY_NS = 2_000_000_000  # a file changed this recently may change again within one timestamp tick: no cache


def stage(run: Run, root: Path, cache_path: Path, max_size: int,
          rights: Rights = nullcontext) -> tuple[list[str], list[str]]:
    """Make the index hold the work tree's raw bytes; (changed paths, skipped paths: too large or nested repos).

    rights: a context in which to touch files (the owner's rights); never around ``run``.
    """
    start = time.time_ns()
    tracked = _tracked(run)
    untracked = _names(run("ls-files", "-z", "-o", "--exclude-standard"))
    with rights():
        cache = _load(cache_path)
        removed, todo, skipped = _scan(root, tracked, untracked, cache, max_size)
    oids = _hash(run, root, todo, rights)
    lines = [f"0 {ZERO}\t{rel}" for rel in removed]
    changed = []
    for (rel, st), oid in zip(todo, oids):
        if oid is None:
            continue
        mode = _mode(st)
        if tracked.get(rel) != (mode, oid):
            lines.append(f"{mode} {oid}\t{rel}")
            changed.append(rel)
        tracked[rel] = (mode, oid)
        # A file changed just now could change again within its timestamp's resolution unseen: hash it next time.
        cache[rel] = _key(st, oid) if st.st_mtime_ns < start - RACY_NS and st.st_ctime_ns < start - RACY_NS else None
    if lines:
        run("update-index", "-z", "--index-info", input="\0".join(lines).encode("utf-8", "surrogateescape") + b"\0")
    gone = set(removed)
    keep = {rel: cache[rel] for rel in tracked if rel not in gone and cache.get(rel)}
    with rights():
        if keep != _load(cache_path):
            atomic_write(cache_path, json.dumps(keep).encode(), "stat cache")
    return sorted(removed + changed), sorted(skipped)


def pending(run: Run, root: Path, cache_path: Path, max_size: int, rights: Rights = nullcontext) -> int:
    """How many paths ``stage`` would change (gone, new, other bytes); hashes files whose stat changed, writes nothing."""
    tracked = _tracked(run)
    untracked = _names(run("ls-files", "-z", "-o", "--exclude-standard"))
    with rights():
        removed, todo, _skipped = _scan(root, tracked, untracked, _load(cache_path), max_size)
    oids = _hash(run, root, todo, rights, write=False)
    return len(removed) + sum(1 for (rel, st), oid in zip(todo, oids) if tracked.get(rel) != (_mode(st), oid))


def _scan(root: Path, tracked: dict[str, tuple[str, str]], untracked: list[str], cache: dict[str, list[object]],
          max_size: int) -> tuple[list[str], list[tuple[str, os.stat_result]], list[str]]:
    """(tracked paths gone, (path, lstat) to hash, paths skipped) by comparing lstat with the cache."""
    skipped = sorted(p for p in untracked if p.endswith("/"))  # a nested repository: not ours to snapshot
    folders: dict[str, bool] = {}
    removed: list[str] = []
    todo: list[tuple[str, os.stat_result]] = []
    for rel, (mode, oid) in tracked.items():
        if mode == GITLINK:
            continue
        st = _lstat(root, rel, folders)
        if st is None or not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            removed.append(rel)  # gone, or now a folder (its files are listed as untracked)
        elif cache.get(rel) != _key(st, oid):
            todo.append((rel, st))
    for rel in untracked:
        st = None if rel.endswith("/") or rel in tracked else _lstat(root, rel, folders)
        if st is not None and (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            todo.append((rel, st))
    add = []
    for rel, st in todo:
        if stat.S_ISREG(st.st_mode) and st.st_size > max_size:
            skipped.append(rel)
        else:
            add.append((rel, st))
    return removed, add, skipped


def _mode(st: os.stat_result) -> str:
    return "120000" if stat.S_ISLNK(st.st_mode) else "100755" if st.st_mode & 0o100 else "100644"


def _tracked(run: Run) -> dict[str, tuple[str, str]]:
    """{path: (mode, blob id)} of the index (a conflicted path counts with its stage-2 entry)."""
    entries: dict[str, tuple[str, str]] = {}
    for item in run("ls-files", "-z", "-s").split(b"\0"):
        if not item:
            continue
        meta, _, name = item.partition(b"\t")
        mode, oid, stage_no = meta.decode().split(" ")
        rel = name.decode("utf-8", "surrogateescape")
        if stage_no in ("0", "2") or rel not in entries:
            entries[rel] = (mode, oid if stage_no == "0" else ZERO)  # ZERO: never equal to a cached id
    return entries


def _names(out: bytes) -> list[str]:
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def _key(st: os.stat_result, oid: str) -> list[object]:
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode, oid]


def _lstat(root: Path, rel: str, folders: dict[str, bool]) -> os.stat_result | None:
    """lstat of root/rel, or None when missing or reached through a link or a file (never followed)."""
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        sub = "/".join(parts[:depth])
        if sub not in folders:
            try:
                folders[sub] = stat.S_ISDIR(os.lstat(root / sub).st_mode)
            except OSError:
                folders[sub] = False
        if not folders[sub]:
            return None
    try:
        return os.lstat(root / rel)
    except OSError:
        return None


def _hash(run: Run, root: Path, entries: list[tuple[str, os.stat_result]], rights: Rights,
          write: bool = True) -> list[str | None]:
    """Blob ids of the entries' raw bytes (written to the object store; None: vanished): one batch, links alone."""
    result: dict[str, str] = {}
    batch = [rel for rel, st in entries
             if stat.S_ISREG(st.st_mode) and "\n" not in rel and not rel.startswith('"')]
    if batch:
        try:
            out = run("hash-object", *(["-w"] if write else []), "--no-filters", "--stdin-paths",
                      input="".join(f"{rel}\n" for rel in batch).encode("utf-8", "surrogateescape"))
            result.update(zip(batch, out.decode().split()))
        except Exception:  # a file deleted meanwhile (or a full disk): one at a time below says which
            pass
    for rel, st in entries:
        if rel in result:
            continue
        try:
            with rights():
                data = os.fsencode(os.readlink(root / rel)) if stat.S_ISLNK(st.st_mode) else _read(root / rel)
        except OSError:
            continue  # gone since it was listed: the next pass sees it gone
        result[rel] = run("hash-object", *(["-w"] if write else []), "--no-filters", "--stdin",
                          input=data).decode().strip()
    return [result.get(rel) for rel, _ in entries]


def _read(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _load(path: Path) -> dict[str, list[object]]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
