"""Work in git's object store: merge-tree output, trees built in a private index, blobs, notebook merges.

Nothing here touches the work tree, the user's index or a branch: the engine builds the merge
commit with these first, and only then moves files (``worktree``) and refs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .git import Git
from .rules import Entry, merge_notebooks

ZERO = "0" * 40


def read_blob(git: Git, oid: str) -> bytes:
    """The bytes of a blob."""
    return git.run("cat-file", "blob", oid).stdout


def write_blob(git: Git, data: bytes) -> str:
    """Store bytes as a blob; its id."""
    return git.out("hash-object", "-w", "--no-filters", "--stdin", input=data)


def parse_merge_tree(out: bytes) -> tuple[str, dict[str, dict[int, Entry]]]:
    """Parse `git merge-tree --write-tree -z`: the tree, and {path: {stage: Entry}} of conflicted files."""
    fields = out.split(b"\0")
    tree = fields[0].decode().strip()
    stages: dict[str, dict[int, Entry]] = {}
    for item in fields[1:]:
        if not item:
            break  # an empty field ends the conflicted-file list; informational messages follow
        meta, _, name = item.partition(b"\t")
        mode, oid, stage = meta.decode().split(" ")
        stages.setdefault(name.decode("utf-8", "surrogateescape"), {})[int(stage)] = Entry(mode, oid)
    return tree, stages


def taken_in(git: Git, tree: str) -> Callable[[str], bool]:
    """A predicate: is this path in tree (so a file saved beside must not use it)?"""
    out = git.run("ls-tree", "-r", "-z", "--name-only", tree).stdout.decode("utf-8", "surrogateescape")
    names = set(filter(None, out.split("\0")))
    return lambda path: path in names


def tree_with(git: Git, index: Path, tree: str, updates: dict[str, Entry | None]) -> str:
    """tree with paths set or removed, built in the private index file ``index`` (removed afterwards)."""
    env = {"GIT_INDEX_FILE": str(index)}
    git.run("read-tree", tree, env=env)
    lines = []
    for path, entry in updates.items():
        mode, oid = (entry.mode, entry.oid) if entry else ("0", ZERO)
        lines.append(f"{mode} {oid}\t{path}".encode("utf-8", "surrogateescape"))
    git.run("update-index", "-z", "--index-info", input=b"\0".join(lines) + b"\0", env=env)
    new_tree = git.out("write-tree", env=env)
    index.unlink(missing_ok=True)
    return new_tree


def notebooks_changed_on_both_sides(git: Git, head: str, remote_tip: str, conflicted: dict[str, Any]
                                    ) -> tuple[dict[str, Entry], list[dict[str, str]]]:
    """Cell-wise merges of notebooks both sides changed that git merged as text without conflict; (entries, conflicts)."""
    bases = git.run("merge-base", head, remote_tip, check=False).stdout.decode().split()
    if len(bases) != 1:
        return {}, []
    changed = []
    for side in (head, remote_tip):
        out = git.run("diff", "--name-only", "-z", "--no-renames", bases[0], side, "--", "*.ipynb").stdout
        changed.append({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p})
    result: dict[str, Entry] = {}
    conflicts: list[dict[str, str]] = []
    for path in sorted((changed[0] & changed[1]) - set(conflicted)):
        blobs = [git.run("cat-file", "blob", f"{c}:{path}", check=False) for c in (bases[0], head, remote_tip)]
        if blobs[1].returncode or blobs[2].returncode:
            continue
        merged = merge_notebooks(blobs[0].stdout if not blobs[0].returncode else None, blobs[1].stdout,
                                 blobs[2].stdout)
        if merged is None:
            continue
        data, had_conflict = merged
        mode = git.out("ls-tree", head, "--", path).split(" ", 1)[0] or "100644"
        result[path] = Entry(mode, write_blob(git, data))
        if had_conflict:
            conflicts.append({"path": path, "kind": "notebook"})
    return result, conflicts


def other_host(git: Git, commit: str, path: str, fallback: str) -> str:
    """The machine that last changed path on the other side (the Salvus-Machine trailer), else fallback."""
    fmt = "--format=%(trailers:key=Salvus-Machine,valueonly,separator=%x2C)"
    out = git.run("log", "-1", fmt, commit, "--", path, check=False).stdout.decode().strip()
    return out.split(",")[0].strip() or fallback


def open_conflicts(root: Path, conflicts: list[dict[str, str]]) -> list[dict[str, str]]:
    """The conflicts still to look at: the other version's file still exists, or the notebook still shows both."""
    kept: dict[tuple[str, str], dict[str, str]] = {}
    for c in conflicts:
        if c.get("other"):
            still = os.path.lexists(root / c["other"])
        elif c["kind"] == "notebook":
            try:
                still = "<<<<<<< local" in (root / c["path"]).read_text("utf-8", "replace")
            except OSError:
                still = False
        else:
            still = False  # edit-vs-delete: informational, shown once
        if still:
            kept[(c["path"], c.get("other", ""))] = c
    return list(kept.values())


def merge_conflict_lists(fresh: list[dict[str, str]], earlier: list[dict[str, str]], root: Path
                         ) -> list[dict[str, str]]:
    """This sync's conflicts, then the earlier ones still open (each once)."""
    seen = {(c["path"], c.get("other", "")) for c in fresh}
    return fresh + [c for c in open_conflicts(root, earlier) if (c["path"], c.get("other", "")) not in seen]


def oversize_blobs(git: Git, head: str, remote_tip: str | None, max_bytes: int) -> list[str]:
    """Paths of files over max_bytes in the commits head has and remote_tip lacks (sorted, each once)."""
    spec = [head] + ([f"^{remote_tip}"] if remote_tip else [])
    objects = git.run("rev-list", "--objects", *spec).stdout.decode("utf-8", "surrogateescape")
    lines = [ln for ln in objects.splitlines() if " " in ln]
    if not lines:
        return []
    query = "\n".join(ln.split(" ", 1)[0] for ln in lines).encode() + b"\n"
    sizes = git.run("cat-file", "--batch-check=%(objecttype) %(objectsize)", input=query).stdout.split(b"\n")
    return sorted({ln.split(" ", 1)[1] for ln, info in zip(lines, sizes)
                   if info.startswith(b"blob ") and int(info.split()[1]) > max_bytes})
