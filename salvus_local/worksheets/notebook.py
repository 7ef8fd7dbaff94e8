"""Building nbformat v4 notebooks from imported worksheets: cells, outputs, mode lines.

Both worksheet formats share these rules: a cell whose first line is ``%html`` or ``%md``
becomes a markdown cell (HTML is valid markdown, and JupyterLab renders it the same way),
``%hide`` and ``%auto`` become cell metadata, and other ``%mode`` lines (``%gp``, ``%maxima``)
stay: the Sage kernel runs them as cell magics.
"""

from __future__ import annotations

import base64
import mimetypes
from typing import Any

import nbformat

IMAGE_MIMES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".svg": "image/svg+xml"}
TEXT_MODES = ("%html", "%md", "%markdown")
FLAG_LINES = {"%hide": "source_hidden", "%auto": "auto"}


def image_mime(name: str) -> str | None:
    """The image mime type of a file name (png, jpg, gif, svg), or None."""
    dot = name.rfind(".")
    return IMAGE_MIMES.get(name[dot:].lower()) if dot >= 0 else None


def image_data(mime: str, data: bytes) -> str:
    """An image as nbformat stores it: SVG as text, the rest as base64."""
    if mime == "image/svg+xml":
        return data.decode("utf-8", errors="replace")
    return base64.b64encode(data).decode("ascii")


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    """A stream output."""
    return nbformat.v4.new_output("stream", name=name, text=text)


def display(data: dict[str, Any]) -> dict[str, Any]:
    """A display_data output of a mime bundle."""
    return nbformat.v4.new_output("display_data", data=data)


def image_output(name: str, data: bytes) -> dict[str, Any] | None:
    """A display_data output showing an image file, or None when it is not an image."""
    mime = image_mime(name)
    if mime is None:
        return None
    return display({mime: image_data(mime, data), "text/plain": f"<image {name}>"})


def split_flags(source: str) -> tuple[str, dict[str, Any]]:
    """Strip leading ``%hide`` / ``%auto`` lines; return (source, cell metadata)."""
    lines = source.split("\n")
    meta: dict[str, Any] = {}
    while lines and lines[0].strip() in FLAG_LINES:
        flag = FLAG_LINES[lines.pop(0).strip()]
        if flag == "source_hidden":
            meta.setdefault("jupyter", {})["source_hidden"] = True
        else:
            meta.setdefault("salvus", {})[flag] = True
    return "\n".join(lines), meta


def cell_from_source(source: str, outputs: list[dict[str, Any]] | None = None,
                     meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """A code cell, or a markdown cell when the first line is %html / %md."""
    source, flags = split_flags(source.strip("\n"))
    meta = {**flags, **(meta or {})}
    first, _, rest = source.partition("\n")
    if first.strip().split(" ")[0] in TEXT_MODES:
        cell = nbformat.v4.new_markdown_cell(rest.strip("\n"))
        cell.metadata.update({k: v for k, v in meta.items() if k != "jupyter"})
        return cell
    cell = nbformat.v4.new_code_cell(source, outputs=outputs or [])
    cell.metadata.update(meta)
    return cell


def markdown_cell(text: str, attachments: dict[str, bytes] | None = None) -> dict[str, Any]:
    """A markdown cell; attachments maps a name used as ``attachment:NAME`` to its bytes."""
    cell = nbformat.v4.new_markdown_cell(text.strip("\n"))
    if attachments:
        cell["attachments"] = {
            name: {image_mime(name) or mimetypes.guess_type(name)[0] or "application/octet-stream":
                   base64.b64encode(data).decode("ascii")}
            for name, data in attachments.items()}
    return cell


def new_notebook(cells: list[dict[str, Any]], title: str = "", source_format: str = "") -> dict[str, Any]:
    """A validated Sage notebook holding the cells."""
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "sagemath", "display_name": "SageMath", "language": "sage"}
    nb.metadata["language_info"] = {"name": "sage"}
    if title or source_format:
        nb.metadata["salvus"] = {"imported_from": source_format, "title": title}
    nbformat.validate(nb)
    return nb
