"""Read a Sage notebook (sagenb) ``.sws`` archive into notebook cells.

Format facts: an ``.sws`` is a tar archive (usually bzip2-compressed) with one top folder
(``sage_worksheet/``) holding ``worksheet.html`` (older: ``worksheet.txt``, whose first lines
are the title and ``system:NAME``), ``worksheet_conf.pickle`` (a dict of settings: ``name``,
``system``, ...), ``cells/<id>/`` (files a cell produced, referenced from its output as
``cell://NAME``) and ``data/`` (files attached to the worksheet). The worksheet text is HTML
with code cells between ``{{{id=N|`` and ``}}}`` lines; a ``///`` line separates a cell's
input from its output, and ``<html>...</html>`` in an output is HTML.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import re
import tarfile
from typing import Any

from . import notebook as nbk
from .errors import WorksheetError

MAX_MEMBER = 64 * 1024 * 1024   # a worksheet member larger than this is not plausible: refuse
MAX_TOTAL = 512 * 1024 * 1024

CELL_START = re.compile(r"^\{\{\{(?:id=(?P<id>[^|\n]*)\|)?(?P<rest>.*)$")
OUTPUT_SEP = re.compile(r"^/{3,}\s*$")
HTML_BLOCK = re.compile(r"<html>(.*?)</html>", re.S | re.I)
CELL_IMG = re.compile(r"""<img[^>]*?src=["']cell://([^"']+)["'][^>]*>""", re.I)
CELL_LINK = re.compile(r"""cell://([^"'\s<>]+)""")
DATA_IMG = re.compile(r"""(src=["'])(?:\./)?data/([^"'/]+)(["'])""", re.I)
SYSTEM_LINE = re.compile(r"^system:\s*(\S+)\s*$")


class _DataOnly(pickle.Unpickler):
    """An unpickler that builds plain data only: a worksheet file must not run code on import."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _decompress(data: bytes) -> bytes:
    """The tar bytes inside a bzip2/gzip/xz .sws (or the data itself when uncompressed)."""
    for magic, module in ((b"BZh", bz2), (b"\x1f\x8b", gzip), (b"\xfd7zXZ", lzma)):
        if data.startswith(magic):
            try:
                return module.decompress(data)  # type: ignore[attr-defined]
            except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
                raise WorksheetError(f"the archive is truncated or damaged ({exc})") from None
    if data[257:262] != b"ustar" and not data.startswith(b"sage_worksheet"):
        raise WorksheetError("not a Sage notebook worksheet: an .sws file is a tar.bz2 archive")
    return data


def _read_members(data: bytes) -> dict[str, bytes]:
    """All regular files of the archive by path below its top folder (raises WorksheetError)."""
    try:
        tar = tarfile.open(fileobj=io.BytesIO(_decompress(data)), mode="r:")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise WorksheetError(f"the archive is truncated or damaged ({exc})") from None
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tar:
            for member in tar:
                if not member.isfile():
                    continue
                if member.size > MAX_MEMBER or total + member.size > MAX_TOTAL:
                    raise WorksheetError(f"{member.name} is too large for a worksheet ({member.size} bytes)")
                extracted = tar.extractfile(member)
                content = extracted.read() if extracted else b""
                if len(content) != member.size:
                    raise WorksheetError("the archive is truncated")
                total += member.size
                parts = member.name.lstrip("./").split("/", 1)
                files[parts[1] if len(parts) == 2 else parts[0]] = content
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise WorksheetError(f"the archive is truncated or damaged ({exc})") from None
    return files


def _conf(files: dict[str, bytes]) -> dict[str, Any]:
    """worksheet_conf.pickle as a dict, or {} when it is absent or not plain data."""
    raw = files.get("worksheet_conf.pickle")
    if not raw:
        return {}
    try:
        conf = _DataOnly(io.BytesIO(raw), encoding="utf-8", errors="replace").load()
    except Exception:  # a conf we cannot read costs only the title
        return {}
    return conf if isinstance(conf, dict) else {}


def _text(files: dict[str, bytes]) -> tuple[str, str, str]:
    """(title, system, worksheet body text)."""
    conf = _conf(files)
    title, system = str(conf.get("name") or ""), str(conf.get("system") or "sage")
    if "worksheet.html" in files:
        raw = files["worksheet.html"]
    elif "worksheet.txt" in files:
        raw = files["worksheet.txt"]
    else:
        raise WorksheetError("the archive has no worksheet.html or worksheet.txt: not a Sage notebook worksheet")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorksheetError(f"the worksheet text is not UTF-8 (byte {exc.start})") from None
    lines = text.replace("\r\n", "\n").split("\n")
    # worksheet.txt (and some worksheet.html) start with a title line and a system: line.
    if len(lines) > 1 and SYSTEM_LINE.match(lines[1]):
        title = title or lines[0].strip()
        system = SYSTEM_LINE.match(lines[1]).group(1)  # type: ignore[union-attr]
        lines = lines[2:]
    elif lines and SYSTEM_LINE.match(lines[0]):
        system = SYSTEM_LINE.match(lines[0]).group(1)  # type: ignore[union-attr]
        lines = lines[1:]
    return title, system, "\n".join(lines)


def _outputs(text: str, cell_files: dict[str, bytes]) -> list[dict[str, Any]]:
    """Outputs of one cell: plain text as a stream, <html> blocks as HTML, cell:// images inline."""
    outputs: list[dict[str, Any]] = []
    pos = 0
    for m in HTML_BLOCK.finditer(text):
        if text[pos:m.start()].strip():
            outputs.append(nbk.stream(text[pos:m.start()].strip("\n") + "\n"))
        html = m.group(1)
        images = [name for name in CELL_IMG.findall(html) if name in cell_files and nbk.image_mime(name)]
        rest = CELL_IMG.sub("", html)
        if re.sub(r"<[^>]*>", "", rest).strip():  # text left once the images are shown on their own
            outputs.append(nbk.display({"text/html": CELL_LINK.sub(r"\1", rest), "text/plain": rest}))
        outputs.extend(o for o in (nbk.image_output(n, cell_files[n]) for n in images) if o)
        pos = m.end()
    if text[pos:].strip():
        outputs.append(nbk.stream(text[pos:].strip("\n") + "\n"))
    return outputs


def _text_cell(html: str, data: dict[str, bytes]) -> dict[str, Any] | None:
    """A markdown cell of worksheet text, with images from data/ as attachments."""
    if not html.strip():
        return None
    names = [m[1] for m in DATA_IMG.findall(html)]
    used = {name: data[name] for name in names if name in data and nbk.image_mime(name)}
    html = DATA_IMG.sub(lambda m: f"{m.group(1)}attachment:{m.group(2)}{m.group(3)}"
                        if m.group(2) in used else m.group(0), html)
    return nbk.markdown_cell(html, used)


def read_sws(data: bytes) -> dict[str, Any]:
    """Convert the bytes of an .sws archive into a notebook dict (raises WorksheetError)."""
    files = _read_members(data)
    title, system, body = _text(files)
    data_files = {k.split("/", 1)[1]: v for k, v in files.items() if k.startswith("data/") and "/" in k}
    cells: list[dict[str, Any]] = []
    if system not in ("sage", ""):
        cells.append(nbk.cell_from_source(f"%default_mode {system}"))
    lines = body.split("\n")
    text: list[str] = []
    i = 0
    while i < len(lines):
        m = CELL_START.match(lines[i])
        if not m:
            text.append(lines[i])
            i += 1
            continue
        start, cell_id = i + 1, (m.group("id") or "").strip()
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "}}}":
            j += 1
        if j == len(lines):
            raise WorksheetError(f"the cell starting at line {start} has no closing }}}}}} (file truncated?)")
        content = ([m.group("rest")] if m.group("rest").strip() else []) + lines[i + 1:j]
        sep = next((k for k, line in enumerate(content) if OUTPUT_SEP.match(line)), len(content))
        prefix = f"cells/{cell_id}/"
        cell_files = {k[len(prefix):]: v for k, v in files.items() if cell_id and k.startswith(prefix)}
        source, output = "\n".join(content[:sep]), "\n".join(content[sep + 1:])
        text_cell = _text_cell("\n".join(text), data_files)
        if text_cell:
            cells.append(text_cell)
        text = []
        if source.strip() or output.strip():
            cells.append(nbk.cell_from_source(source, _outputs(output, cell_files)))
        i = j + 1
    last = _text_cell("\n".join(text), data_files)
    if last:
        cells.append(last)
    return nbk.new_notebook(cells, title, "sws")
