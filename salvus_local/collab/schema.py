"""The document model: a file's content as a pycrdt Doc (jupyter_ydoc's YNotebook v2 layout) and back.

Notebook::

    "cells": Array[Map{"id": str, "cell_type": str, "source": Text, "metadata": Map,
                       "outputs": Array[plain nbformat output dicts]   (code cells),
                       "execution_count": int | None                 (code cells),
                       "attachments": dict                           (markdown/raw, when present)}]
    "meta":  Map{"nbformat": int, "nbformat_minor": int, "metadata": Map}
    "state": Map{"path": str, "dirty": bool}      (written by the server only)

Text file: ``"source": Text`` plus ``"state"``.

Yjs numbers are floats: integral floats become ints again in :func:`materialize` (one place, as
jupyter_ydoc does).  Client ids of structs the server makes carry a 24-bit tag above 28 bits of hash or
chance (:func:`is_server_id`); a browser's (Yjs ``random.uint32``) never do and a yrs client's random
53-bit id does with probability 2**-24, which lets a room recognize server-made history it lacks.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from typing import Any

from pycrdt import Array, Doc, Map, Text

SERVER_TAG = 0xC011AB  # ids (SERVER_TAG << 28) + 28 bits: below 2**53, so safe as JS numbers
NOTEBOOK, TEXT = "notebook", "text"


class ContentError(ValueError):
    """A file that cannot be opened in a room (not a notebook, not UTF-8 text)."""


def kind_of(path: str) -> str:
    """The document kind of an API path: notebook for ``.ipynb``, else text."""
    return NOTEBOOK if path.lower().endswith(".ipynb") else TEXT


def loader_client_id(kind: str, data: bytes) -> int:
    """The client id a file's initial load is written with: the same bytes always give the same structs."""
    digest = hashlib.sha256(b"salvus-collab-load-1\0" + kind.encode() + b"\0" + data).digest()
    return (SERVER_TAG << 28) | (int.from_bytes(digest[:4], "big") >> 4)


def server_client_id() -> int:
    """A fresh client id for the server's own later writes (outputs, disk merges, state)."""
    return (SERVER_TAG << 28) | secrets.randbits(28)


def is_server_id(client_id: int) -> bool:
    """Tell whether a client id is one the server writes with."""
    return client_id >> 28 == SERVER_TAG


def content_sha(content: Any) -> str:
    """A short hash of content (canonical JSON): the name of a base in the doc's ``state.base``."""
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


def parse(kind: str, data: bytes | None, strict: bool = False) -> Any:
    """Parse file bytes into content: a notebook dict (every cell with a unique id) or a str.

    A missing file (None) is an empty notebook / text, an empty .ipynb too unless ``strict`` (a file
    seen changing on disk: 0 bytes is a write in progress, never "delete every cell").  Raises ContentError.
    """
    if strict and kind == NOTEBOOK and not data:
        raise ContentError("the notebook is empty on disk")
    if kind == TEXT:
        try:
            return (data or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise ContentError("this file is not UTF-8 text, so it cannot be edited together") from None
    if not data:
        nb: dict[str, Any] = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    else:
        try:
            import nbformat

            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
            nb = json.loads(json.dumps(nb))  # plain dicts and lists
        except Exception as exc:
            raise ContentError(f"this notebook cannot be read: {exc}") from None
    return normalize_notebook(nb, data or b"")


def normalize_notebook(nb: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Give every cell a unique id (derived from the file's bytes, so loads are deterministic); nbformat 4.5."""
    nb.setdefault("metadata", {})
    nb["nbformat"], nb["nbformat_minor"] = 4, max(5, int(nb.get("nbformat_minor") or 0))
    seed = hashlib.sha256(data).hexdigest()[:8]
    seen: set[str] = set()
    if not nb.get("cells"):
        nb["cells"] = [{"id": f"{seed}-0", "cell_type": "code", "source": "", "metadata": {},
                        "outputs": [], "execution_count": None}]
    for index, cell in enumerate(nb["cells"]):
        cid = cell.get("id")
        if not isinstance(cid, str) or not cid or cid in seen:
            cid = f"{seed}-{index}"
            while cid in seen:
                cid += "x"
            cell["id"] = cid
        seen.add(cid)
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return nb


def set_map(ymap: Map, values: dict[str, Any]) -> None:
    """Set keys one by one in sorted order: a dict given whole becomes structs in hash order (not deterministic)."""
    for key in sorted(values):
        ymap[key] = values[key]


def add_cell(cells: Array, index: int, cell: dict[str, Any]) -> Map:
    """Insert a cell dict at index as a Y.Map (deterministic structs for the same input)."""
    cell = copy.deepcopy(cell)
    cells.insert(index, Map())
    ymap = cells[index]
    cell_type = cell.get("cell_type", "code")
    set_map(ymap, {"id": cell["id"], "cell_type": cell_type})
    ymap["source"] = Text(cell.get("source") or "")
    ymap["metadata"] = Map()
    set_map(ymap["metadata"], cell.get("metadata") or {})
    if cell_type == "code":
        ymap["outputs"] = Array()
        for output in cell.get("outputs") or []:
            ymap["outputs"].append(output)
        ymap["execution_count"] = cell.get("execution_count")
    elif cell.get("attachments"):
        ymap["attachments"] = cell["attachments"]
    return ymap


def new_doc(client_id: int | None = None) -> Doc:
    """An empty Doc usable from any thread."""
    return Doc(client_id=client_id, allow_multithreading=True)


def fill(doc: Doc, kind: str, content: Any) -> None:
    """Write content into an empty doc (one transaction)."""
    with doc.transaction():
        if kind == TEXT:
            doc.get("source", type=Text).insert(0, content)
            return
        meta = doc.get("meta", type=Map)
        set_map(meta, {"nbformat": content.get("nbformat", 4), "nbformat_minor": content.get("nbformat_minor", 5)})
        meta["metadata"] = Map()
        set_map(meta["metadata"], copy.deepcopy(content.get("metadata") or {}))
        cells = doc.get("cells", type=Array)
        for index, cell in enumerate(content["cells"]):
            add_cell(cells, index, cell)


def load_update(kind: str, data: bytes | None) -> tuple[bytes, Any]:
    """(update, content) of a file's deterministic initial load; raises ContentError."""
    content = parse(kind, data)
    doc = new_doc(loader_client_id(kind, data or b""))
    fill(doc, kind, content)
    return doc.get_update(), content


def roots(doc: Doc, kind: str) -> None:
    """Declare the root types of a kind on a doc (needed before reading an applied update)."""
    doc.get("state", type=Map)
    if kind == TEXT:
        doc.get("source", type=Text)
    else:
        doc.get("meta", type=Map)
        doc.get("cells", type=Array)


def ints(value: Any) -> Any:
    """Turn integral floats (Yjs numbers) back into ints, recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ints(v) for v in value]
    return value


CELL_TYPES = ("code", "markdown", "raw")


def _int(value: Any, default: int) -> int:
    """value as an int, default when it is not a number (a client may write anything into ``meta``)."""
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def cell_dict(ymap: Any) -> dict[str, Any]:
    """A Y cell as an nbformat cell dict; an unknown cell_type becomes raw, bad fields their defaults."""
    raw = ymap.to_py() if isinstance(ymap, Map) else {}
    raw = raw if isinstance(raw, dict) else {}
    cell_type = raw.get("cell_type") or "code"
    cell_type = cell_type if cell_type in CELL_TYPES else "raw"  # keep the text, in a cell nbformat accepts
    metadata = ints(raw.get("metadata")) if isinstance(raw.get("metadata"), dict) else {}
    metadata.pop("execution_state", None)  # live state for viewers (outputs.py), not saved in the file
    cell: dict[str, Any] = {"id": str(raw.get("id") or ""), "cell_type": cell_type,
                            "metadata": metadata, "source": str(raw.get("source") or "")}
    if cell_type == "code":
        count = raw.get("execution_count")
        cell["execution_count"] = _int(count, 0) or None
        outputs = raw.get("outputs")
        cell["outputs"] = [ints(o) for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []
    elif isinstance(raw.get("attachments"), dict) and raw["attachments"]:
        cell["attachments"] = ints(raw["attachments"])
    return cell


def materialize(doc: Doc, kind: str) -> Any:
    """The doc's content: a notebook dict (nbformat 4.5) or the text.

    Never raises on what an editor wrote: entries of ``cells`` that are not maps are skipped, duplicate
    or empty ids get a suffix, a bad nbformat/metadata its default, so one bad update cannot stop saving."""
    if kind == TEXT:
        return str(doc.get("source", type=Text))
    meta = doc.get("meta", type=Map).to_py() or {}
    meta = ints(meta) if isinstance(meta, dict) else {}
    cells, seen = [], set()
    for index, ycell in enumerate(doc.get("cells", type=Array)):
        if not isinstance(ycell, Map):
            continue
        cell = cell_dict(ycell)
        cid = cell["id"] or f"cell-{index}"
        while cid in seen:
            cid += "-2"
        cell["id"] = cid
        seen.add(cid)
        cells.append(cell)
    metadata = meta.get("metadata")
    return {"cells": cells, "metadata": metadata if isinstance(metadata, dict) else {}, "nbformat": 4,
            "nbformat_minor": max(5, _int(meta.get("nbformat_minor"), 5))}
