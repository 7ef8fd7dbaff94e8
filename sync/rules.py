"""The merge rules for one path that both sides changed: nothing is ever lost.

- notebooks merge cell-wise with nbdime; where both changed the same cell the result is still a
  valid notebook, showing both versions (nbdime's inline markers), and the path is a conflict;
- any other file (text git could not merge, binary, symlink): the local version stays in place and
  the other side's is saved beside it as ``NAME (from HOST, DATE).EXT``, listed as a conflict;
- edit vs delete: the edited side survives (whichever side it is).
"""

from __future__ import annotations

import io
import json
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass

NOTEBOOK_SUFFIX = ".ipynb"
REGULAR = ("100644", "100755")


@dataclass
class Entry:
    """One side of a path in a merge: file mode and blob id."""

    mode: str
    oid: str


@dataclass
class Outcome:
    """How a path was resolved: index entries to set ({path: Entry or None to remove}) and conflicts to list."""

    entries: dict[str, Entry | None]
    conflicts: list[dict[str, str]]


def beside_name(path: str, host: str, when: float, taken: Callable[[str], bool]) -> str:
    """``dir/NAME (from HOST, DATE).EXT`` for path, numbered when that name is taken."""
    folder, leaf = posixpath.split(path)
    stem, ext = posixpath.splitext(leaf)
    if not stem:  # ".bashrc": the whole name is the stem
        stem, ext = leaf, ""
    safe_host = "".join(c if c.isalnum() or c in "-_." else "-" for c in host)[:40] or "remote"
    date = time.strftime("%Y-%m-%d %H-%M", time.localtime(when))
    for n in range(1, 1000):
        suffix = f" {n}" if n > 1 else ""
        candidate = posixpath.join(folder, f"{stem} (from {safe_host}, {date}{suffix}){ext}")
        if not taken(candidate):
            return candidate
    raise RuntimeError(f"no free name beside {path}")


def merge_notebooks(base: bytes | None, ours: bytes, theirs: bytes) -> tuple[bytes, bool] | None:
    """Cell-wise merge with nbdime: (notebook bytes, had conflicts), or None when a side is not a notebook."""
    import nbformat
    from nbdime.merging.notebooks import merge_notebooks as nbdime_merge

    try:
        sides = [nbformat.reads(data.decode("utf-8"), as_version=4) if data is not None else None
                 for data in (base, ours, theirs)]
    except (ValueError, UnicodeDecodeError, nbformat.reader.NotJSONError):
        return None
    if sides[0] is None:  # added on both sides: merge against an empty notebook, so both versions show
        sides[0] = nbformat.v4.new_notebook(metadata=sides[1].get("metadata", {}))
    merged, decisions = nbdime_merge(*sides)
    conflicted = any(getattr(d, "conflict", False) for d in decisions)
    out = io.StringIO()
    try:
        nbformat.validate(merged)
    except nbformat.ValidationError:
        return None  # never write an invalid notebook: the caller keeps both files instead
    nbformat.write(merged, out)
    return out.getvalue().encode("utf-8"), conflicted


def resolve_path(path: str, stages: dict[int, Entry], read: Callable[[str], bytes], write: Callable[[bytes], str],
                 other_host: str, when: float, taken: Callable[[str], bool]) -> Outcome:
    """Resolve one conflicted path from its index stages (1 base, 2 local, 3 remote)."""
    base, ours, theirs = stages.get(1), stages.get(2), stages.get(3)
    if ours and not theirs:  # they deleted (or renamed away) what we edited: the edit survives
        return Outcome({path: ours}, [{"path": path, "kind": "edit-vs-delete", "kept": "local"}])
    if theirs and not ours:  # we deleted what they edited: their edit survives
        return Outcome({path: theirs}, [{"path": path, "kind": "delete-vs-edit", "kept": "remote"}])
    if not ours or not theirs:
        return Outcome({path: None}, [])
    if path.endswith(NOTEBOOK_SUFFIX) and ours.mode in REGULAR and theirs.mode in REGULAR:
        merged = merge_notebooks(read(base.oid) if base and base.mode in REGULAR else None,
                                 read(ours.oid), read(theirs.oid))
        if merged is not None:
            data, conflicted = merged
            conflicts = [{"path": path, "kind": "notebook"}] if conflicted else []
            return Outcome({path: Entry(ours.mode, write(data))}, conflicts)
    other = beside_name(path, other_host, when, taken)
    kind = "text" if ours.mode in REGULAR and theirs.mode in REGULAR and not _binary(read, ours, theirs) else "binary"
    return Outcome({path: ours, other: theirs}, [{"path": path, "kind": kind, "other": other}])


def _binary(read: Callable[[str], bytes], *entries: Entry) -> bool:
    """Git's rule of thumb: a NUL in the first 8000 bytes means binary."""
    return any(b"\0" in read(e.oid)[:8000] for e in entries)


def notebook_json_ok(data: bytes) -> bool:
    """True when data parses as JSON (a text merge of a notebook may not)."""
    try:
        json.loads(data)
        return True
    except ValueError:
        return False
