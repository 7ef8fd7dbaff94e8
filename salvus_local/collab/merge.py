"""Merge another version of a document into a room as a diff, never by replacing it.

Three-way: ``base`` is what both sides had in common (the disk's previous content for a change made
on disk; the content the room's history began from for a stale client), ``theirs`` the other
version, and the room's doc is the current one.  Text: the characters ``theirs`` changed relative
to ``base`` are applied where the room still has those base characters (a region the room changed
too keeps the room's version).  Notebooks: per cell by id — new cells inserted after their
predecessor, cells deleted in ``theirs`` removed unless the room changed them, sources merged as
text, and metadata keys, outputs, execution counts and cell types taken from ``theirs`` when the
room still has the base value; cells reordered in ``theirs`` (and not in the room) are reordered.

A text region both sides changed: with a ``label`` (a change made on disk) nothing is dropped, the
other side's text is added after the room's as a block between conflict markers; without one (a stale
client's copy) the room's version stands.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

from pycrdt import Array, Doc, Map, Text

from . import schema

_GENERATED = re.compile(r"^[0-9a-f]{8}-\d+x*$")  # ids schema.normalize_notebook makes up


def _trim(a: str, b: str) -> tuple[int, int]:
    """Length of the common prefix and (non-overlapping) suffix of a and b."""
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return p, s


def opcodes(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """Non-equal difflib opcodes turning a into b (common ends trimmed first: fast for typical edits)."""
    p, s = _trim(a, b)
    ops = SequenceMatcher(None, a[p:len(a) - s], b[p:len(b) - s], autojunk=False).get_opcodes()
    return [(t, i1 + p, i2 + p, j1 + p, j2 + p) for t, i1, i2, j1, j2 in ops if t != "equal"]


CONFLICT_START = "\n<<<<<<< {label}: changed here too, both kept\n"
CONFLICT_END = "\n>>>>>>> end of the version {label}\n"


def merge3(base: str, current: str, theirs: str, label: str | None = None) -> str:
    """current with theirs' changes relative to base applied where current kept the base text.

    Where current changed the same region: with a label, theirs' text is added after current's
    version between conflict markers; without, current's version stands."""
    mapping = [-1] * (len(base) + 1)
    p, s = _trim(base, current)
    for a, b, size in SequenceMatcher(None, base[p:len(base) - s], current[p:len(current) - s],
                                      autojunk=False).get_matching_blocks():
        for k in range(size):
            mapping[p + a + k] = p + b + k
    for k in range(p):
        mapping[k] = k
    for k in range(s):
        mapping[len(base) - 1 - k] = len(current) - 1 - k
    mapping[len(base)] = len(current)
    ours = {(i1, i2, current[j1:j2]) for _t, i1, i2, j1, j2 in opcodes(base, current)}
    out = current
    for _tag, i1, i2, j1, j2 in reversed(opcodes(base, theirs)):
        if (i1, i2, theirs[j1:j2]) in ours:
            continue  # the room made the same change already
        if i2 > i1:
            span = mapping[i1:i2]
            if -1 in span or span[-1] - span[0] != i2 - i1 - 1:
                # the room changed this region too: its version stays; the other is kept beside it
                out = _beside(out, mapping, i2, theirs[j1:j2], label)
                continue
            start, end = span[0], span[-1] + 1
        else:
            start = mapping[i1] if mapping[i1] != -1 else (mapping[i1 - 1] + 1 if i1 and mapping[i1 - 1] != -1 else -1)
            if start == -1:
                out = _beside(out, mapping, i2, theirs[j1:j2], label)
                continue
            end = start
        out = out[:start] + theirs[j1:j2] + out[end:]
    return out


def _beside(out: str, mapping: list[int], after: int, chunk: str, label: str | None) -> str:
    """out with chunk added as a marked block where the room's text goes on after base index ``after``."""
    if not label or not chunk:
        return out
    at = next(mapping[k] for k in range(after, len(mapping)) if mapping[k] != -1)
    return out[:at] + CONFLICT_START.format(label=label) + chunk + CONFLICT_END.format(label=label) + out[at:]


def apply_text(ytext: Text, target: str) -> None:
    """Edit a Y.Text into target with a character diff (pycrdt offsets are UTF-8 bytes)."""
    current = str(ytext)
    for _tag, i1, i2, j1, j2 in reversed(opcodes(current, target)):
        start = len(current[:i1].encode("utf-8", "surrogatepass"))
        if i2 > i1:
            del ytext[start:start + len(current[i1:i2].encode("utf-8", "surrogatepass"))]
        if j2 > j1:
            ytext.insert(start, target[j1:j2])


def merge_text(ytext: Text, base: str, theirs: str, label: str | None = None) -> None:
    """Three-way merge of theirs into a Y.Text (label: see merge3)."""
    if theirs == base:
        return
    current = str(ytext)
    apply_text(ytext, theirs if current == base else merge3(base, current, theirs, label))


def keep_ids(base: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Give made-up ids of a file without cell ids (nbformat < 4.5) the id of the base cell at that index."""
    used = {c["id"] for c in theirs["cells"]}
    base_ids = [c["id"] for c in base.get("cells", [])]
    for index, cell in enumerate(theirs["cells"]):
        if _GENERATED.match(cell["id"]) and cell["id"] not in base_ids and index < len(base_ids) \
                and base_ids[index] not in used:
            used.add(base_ids[index])
            cell["id"] = base_ids[index]
    return theirs


def _value3(ymap: Map, key: str, base: Any, theirs: Any) -> None:
    """Set ymap[key] to theirs when theirs changed it and the room still has the base value."""
    if theirs == base:
        return
    current = schema.ints(ymap.get(key).to_py() if hasattr(ymap.get(key), "to_py") else ymap.get(key))
    if current != base and base is not None:
        return
    if key == "outputs":
        outputs = ymap.get("outputs")
        if not isinstance(outputs, Array):
            ymap["outputs"] = outputs = Array()
        outputs.clear()
        outputs.extend(list(theirs or []))
    elif theirs is None and key in ymap:
        del ymap[key]
    elif theirs is not None:
        ymap[key] = theirs


def _merge_cell(ymap: Map, base: dict[str, Any] | None, theirs: dict[str, Any], label: str | None) -> None:
    if base is None:  # both sides added it (e.g. two stale clients): the room's version is the base
        base = schema.cell_dict(ymap)
    merge_text(ymap["source"], base.get("source", ""), theirs.get("source", ""), label)
    _value3(ymap, "cell_type", base.get("cell_type"), theirs.get("cell_type"))
    meta = ymap.get("metadata")
    if not isinstance(meta, Map):
        ymap["metadata"] = meta = Map()
    b_meta, t_meta = base.get("metadata") or {}, theirs.get("metadata") or {}
    for key in set(b_meta) | set(t_meta):
        _value3(meta, key, b_meta.get(key), t_meta.get(key))
    for key in ("outputs", "execution_count", "attachments"):
        if key in theirs or key in base:
            _value3(ymap, key, base.get(key), theirs.get(key))


def merge_notebook(doc: Doc, base: dict[str, Any] | None, theirs: dict[str, Any], label: str | None = None) -> None:
    """Three-way merge of a notebook dict into a YNotebook doc, per cell by id (label: see merge3)."""
    base = base or {"cells": [], "metadata": {}}
    cells = doc.get("cells", type=Array)
    base_cells = {c["id"]: c for c in base.get("cells", [])}
    their_ids = {c["id"] for c in theirs["cells"]}

    def index_of(cid: str) -> int | None:
        for i, ycell in enumerate(cells):
            if ycell.get("id") == cid:
                return i
        return None

    for cid, cell in base_cells.items():
        i = index_of(cid) if cid not in their_ids else None
        if i is not None and str(cells[i]["source"]) == cell.get("source", ""):
            del cells[i]  # deleted there, unchanged here
    pos = 0
    for cell in theirs["cells"]:
        i = index_of(cell["id"])
        if i is None:
            if cell["id"] in base_cells:
                continue  # deleted here: the room's deletion stands
            schema.add_cell(cells, min(pos, len(cells)), cell)
            pos += 1
            continue
        _merge_cell(cells[i], base_cells.get(cell["id"]), cell, label)
        pos = i + 1
    _reorder(cells, [c["id"] for c in base.get("cells", [])], [c["id"] for c in theirs["cells"]])
    meta = doc.get("meta", type=Map)
    if not isinstance(meta.get("metadata"), Map):
        meta["metadata"] = Map()
    b_meta, t_meta = base.get("metadata") or {}, theirs.get("metadata") or {}
    for key in set(b_meta) | set(t_meta):
        _value3(meta["metadata"], key, b_meta.get(key), t_meta.get(key))


def _reorder(cells: Array, base_ids: list[str], their_ids: list[str]) -> None:
    """Apply a cell order changed in theirs, when the room still has the base order of those cells.

    A moved cell is deleted and inserted again as a copy (as the browser moves one: Yjs has no move)."""
    room_ids = [ycell.get("id") if isinstance(ycell, Map) else None for ycell in cells]
    common = set(base_ids) & set(their_ids) & set(room_ids)
    want = [cid for cid in their_ids if cid in common]
    if [cid for cid in base_ids if cid in common] == want or [cid for cid in room_ids if cid in common] != \
            [cid for cid in base_ids if cid in common] or len(room_ids) != len(set(room_ids)):
        return  # not reordered there, or reordered here too (the room's order stands), or ambiguous ids
    slots = [k for k, cid in enumerate(room_ids) if cid in common]
    for slot, cid in zip(slots, want):
        now = next(k for k, ycell in enumerate(cells) if isinstance(ycell, Map) and ycell.get("id") == cid)
        if now != slot:
            cell = schema.cell_dict(cells[now])
            del cells[now]
            schema.add_cell(cells, slot, cell)


def merge_into(room: Any, base: Any, theirs: Any, label: str | None = None) -> None:
    """Merge content theirs (relative to base) into a room's document, as one server transaction.

    label: where theirs comes from ("on disk"): a region both changed keeps both versions (merge3)."""
    def write(doc: Doc) -> None:
        if room.kind == schema.TEXT:
            merge_text(doc.get("source", type=Text), base if isinstance(base, str) else "", theirs, label)
        else:
            merge_notebook(doc, base, theirs, label)
    room.transact(write)
