"""Read a CoCalc Sage worksheet (``.sagews``) into notebook cells.

Format facts: UTF-8 text. A line ``U+FE20 <uuid> <flags> U+FE20`` starts a cell (flags are
letters: ``i`` input hidden, ``o`` output hidden, ``x``/``s`` queued or running); the input
lines follow. A line ``U+FE21 <uuid> U+FE21`` followed by JSON messages each ending with
``U+FE21`` holds the cell's output. Messages are objects with one main key: ``stdout``,
``stderr``, ``html``, ``md``, ``tex`` ({tex, display}), ``file`` ({filename, uuid, show}),
``javascript``, ``interact``, ``done``, ... Files a cell showed live in CoCalc's blob store,
not in the worksheet: we embed them when a file of that name sits beside the worksheet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import notebook as nbk
from .errors import WorksheetError

CELL = "\ufe20"
OUTPUT = "\ufe21"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _marker_line(line: str, marker: str, lineno: int) -> tuple[str, str]:
    """(uuid, rest after the closing marker) of a marker line; raises on damage."""
    body = line[1:]
    m = UUID.match(body)
    end = body.find(marker)
    if not m or end < 0:
        what = "cell start" if marker == CELL else "output"
        raise WorksheetError(f"line {lineno}: damaged {what} marker (no id or no closing marker; file truncated?)")
    return body[:end], body[end + 1:]


def _messages(rest: str, lineno: int) -> list[dict[str, Any]]:
    """Decode the JSON messages of an output line."""
    if rest and not rest.endswith(OUTPUT):
        raise WorksheetError(f"line {lineno}: output line cut short (file truncated?)")
    found = []
    for part in rest.split(OUTPUT):
        if not part.strip():
            continue
        try:
            msg = json.loads(part)
        except ValueError as exc:
            raise WorksheetError(f"line {lineno}: output is not valid JSON ({exc.msg}; file truncated?)") from None
        if isinstance(msg, dict):
            found.append(msg)
    return found


def _file_output(info: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """An image beside the worksheet, or a note saying the file stayed on the CoCalc server."""
    name = str(info.get("filename") or "")
    base = Path(name).name
    if folder is not None and base and nbk.image_mime(base):
        for candidate in (folder / name, folder / base):
            try:
                if candidate.resolve().is_relative_to(folder.resolve()) and candidate.is_file():
                    out = nbk.image_output(base, candidate.read_bytes())
                    if out:
                        return out
            except (OSError, ValueError):
                continue
    return nbk.stream(f"[file {base or '?'}: kept by the CoCalc server, not in the worksheet]\n")


def _outputs(messages: list[dict[str, Any]], folder: Path | None) -> list[dict[str, Any]]:
    """Notebook outputs from a cell's messages, in order."""
    outs: list[dict[str, Any]] = []
    for msg in messages:
        if isinstance(msg.get("stdout"), str) and msg["stdout"]:
            outs.append(nbk.stream(msg["stdout"]))
        if isinstance(msg.get("stderr"), str) and msg["stderr"]:
            outs.append(nbk.stream(msg["stderr"], "stderr"))
        if isinstance(msg.get("html"), str):
            outs.append(nbk.display({"text/html": msg["html"], "text/plain": msg["html"]}))
        if isinstance(msg.get("md"), str):
            outs.append(nbk.display({"text/markdown": msg["md"], "text/plain": msg["md"]}))
        tex = msg.get("tex")
        if isinstance(tex, dict) and isinstance(tex.get("tex"), str):
            fence = "$$" if tex.get("display") else "$"
            outs.append(nbk.display({"text/latex": f"{fence}{tex['tex']}{fence}", "text/plain": tex["tex"]}))
        if isinstance(msg.get("file"), dict) and msg["file"].get("show", True):
            outs.append(_file_output(msg["file"], folder))
    # Consecutive streams of one name read as one, as Jupyter shows them.
    merged: list[dict[str, Any]] = []
    for out in outs:
        prev = merged[-1] if merged else None
        if prev and out["output_type"] == prev["output_type"] == "stream" and out["name"] == prev["name"]:
            prev["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def read_sagews(data: bytes, folder: Path | None = None) -> dict[str, Any]:
    """Convert the bytes of a .sagews file into a notebook dict (raises WorksheetError)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorksheetError(f"not a Sage worksheet: the file is not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise WorksheetError("not a Sage worksheet: the file holds binary data")
    cells: list[dict[str, Any]] = []
    source: list[str] = []
    messages: list[dict[str, Any]] = []
    flags = ""
    started = False

    def finish() -> None:
        if started or "".join(source).strip():
            meta: dict[str, Any] = {}
            if "o" in flags:
                meta["jupyter"] = {"outputs_hidden": True}
            cell = nbk.cell_from_source("\n".join(source), _outputs(messages, folder), meta)
            if "i" in flags and cell["cell_type"] == "code":
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            cells.append(cell)

    for lineno, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if line.startswith(CELL):
            finish()
            ident, _ = _marker_line(line, CELL, lineno)
            flags, source, messages, started = ident[36:], [], [], True
        elif line.startswith(OUTPUT):
            _, rest = _marker_line(line, OUTPUT, lineno)
            messages.extend(_messages(rest, lineno))
        else:
            source.append(line)
    if source and source[-1] == "":
        source.pop()
    finish()
    return nbk.new_notebook(cells, "", "sagews")
