"""Import old Sage worksheets (.sws from the Sage notebook, .sagews from CoCalc) as .ipynb.

``import_worksheet(path)`` writes ``NAME.ipynb`` beside the worksheet (``NAME (imported N).ipynb``
when that exists) atomically and returns its path; the worksheet itself is only read. A bad
or truncated file raises :class:`WorksheetError` with a message for the user, and nothing is
written. No Flask here: the CLI and the web server both call this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from ..store.atomic import atomic_write
from .errors import WorksheetError
from .sagews import read_sagews
from .sws import read_sws

__all__ = ["WorksheetError", "convert", "import_worksheet", "is_worksheet", "target_path"]

SUFFIXES = (".sws", ".sagews")
MAX_SIZE = 256 * 1024 * 1024


def is_worksheet(name: str) -> bool:
    """True when the file name has a worksheet suffix (.sws or .sagews)."""
    return name.lower().endswith(SUFFIXES)


def convert(data: bytes, name: str, folder: Path | None = None) -> dict[str, Any]:
    """A notebook dict from a worksheet's bytes; the suffix of ``name`` picks the format."""
    if name.lower().endswith(".sws"):
        return read_sws(data)
    if name.lower().endswith(".sagews"):
        return read_sagews(data, folder)
    raise WorksheetError("only .sws and .sagews worksheets can be imported")


def target_path(src: Path) -> Path:
    """Where the notebook of ``src`` goes: beside it, never over an existing file."""
    stem = src.name[: -len(src.suffix)] if src.suffix else src.name
    candidate = src.with_name(f"{stem}.ipynb")
    n = 1
    while candidate.exists():
        candidate = src.with_name(f"{stem} (imported{'' if n == 1 else f' {n}'}).ipynb")
        n += 1
    return candidate


def notebook_bytes(nb: dict[str, Any]) -> bytes:
    """The notebook as the bytes of an .ipynb file (nbformat's own layout)."""
    return (nbformat.writes(nbformat.from_dict(nb)) + "\n").encode("utf-8")


def import_worksheet(src: str | Path) -> Path:
    """Convert the worksheet at ``src`` and write the notebook beside it; return the new path."""
    src = Path(src)
    if not is_worksheet(src.name):
        raise WorksheetError("only .sws and .sagews worksheets can be imported")
    try:
        if src.stat().st_size > MAX_SIZE:
            raise WorksheetError(f"the file is larger than {MAX_SIZE // 2**20} MB")
        data = src.read_bytes()
    except FileNotFoundError:
        raise WorksheetError("no such file") from None
    except IsADirectoryError:
        raise WorksheetError("a folder, not a worksheet") from None
    except PermissionError:
        raise WorksheetError("permission denied") from None
    nb = convert(data, src.name, src.parent)
    target = target_path(src)
    atomic_write(target, notebook_bytes(nb), target.name)
    return target
