"""Build Jupyter contents models (the JSON shapes jupyter_server answers with) from files."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import mimetypes
import os
from pathlib import Path
from typing import Any

import nbformat

from salvus_local.store.atomic import is_temp_name, os_error
from salvus_local.store.errors import BadRequest

# Names left out of directory listings, like jupyter_server's hide_globs plus our temp files.
HIDDEN_NAMES = {"__pycache__", ".DS_Store", ".ipynb_checkpoints"}
HIDDEN_SUFFIXES = (".pyc", ".pyo", "~")

_UTC = dt.UTC


def iso(ts: float) -> str:
    """Format a POSIX time the way jupyter_server does (ISO 8601, UTC, 'Z')."""
    return dt.datetime.fromtimestamp(ts, _UTC).isoformat().replace("+00:00", "Z")


def is_listed(name: str) -> bool:
    """True when a directory entry shows in listings (no dotfiles, caches or temp files)."""
    return not (name.startswith(".") or name in HIDDEN_NAMES or name.endswith(HIDDEN_SUFFIXES) or is_temp_name(name))


def kind_of(api_path: str, is_dir: bool) -> str:
    """Return the contents type for a path: directory, notebook or file."""
    if is_dir:
        return "directory"
    return "notebook" if api_path.endswith(".ipynb") else "file"


def base_model(api_path: str, st: os.stat_result, kind: str, writable: bool) -> dict[str, Any]:
    """Return the model without content (what listings and saves answer)."""
    return {
        "name": api_path.rsplit("/", 1)[-1],
        "path": api_path,
        "type": kind,
        "created": iso(st.st_ctime),
        "last_modified": iso(st.st_mtime),
        "mimetype": None,
        "content": None,
        "format": None,
        "size": None if kind == "directory" else st.st_size,
        "writable": writable,
    }


def directory_content(os_path: Path, api_path: str) -> list[dict[str, Any]]:
    """List a directory as content-less models (one scandir; DirEntry caches stat)."""
    prefix = f"{api_path}/" if api_path else ""
    out = []
    for entry in os.scandir(os_path):
        if not is_listed(entry.name):
            continue
        try:
            st = entry.stat()  # follows symlinks: a dangling one is skipped
            is_dir = entry.is_dir()
        except OSError:
            continue
        child = prefix + entry.name
        model = base_model(child, st, kind_of(child, is_dir), os.access(entry.path, os.W_OK))
        if not is_dir and model["type"] == "file":
            model["mimetype"] = mimetypes.guess_type(entry.name)[0]
        out.append(model)
    return out


def file_content(data: bytes, api_path: str, fmt: str | None) -> tuple[str, str, str]:
    """Return (content, format, mimetype) for a regular file's bytes."""
    guessed = mimetypes.guess_type(api_path)[0]
    if fmt in (None, "text"):
        try:
            return data.decode("utf-8"), "text", guessed or "text/plain"
        except UnicodeDecodeError:
            if fmt == "text":
                raise BadRequest(f"{api_path} is not UTF-8 encoded", reason="bad format") from None
    return base64.b64encode(data).decode("ascii"), "base64", guessed or "application/octet-stream"


def read_notebook(data: bytes, api_path: str) -> nbformat.NotebookNode:
    """Parse a notebook file as nbformat v4 or raise BadRequest."""
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises several types for unreadable files
        raise BadRequest(f"Unreadable Notebook: {api_path} {exc!r}") from None


def notebook_bytes(content: Any, api_path: str) -> bytes:
    """Validate a notebook dict (nbformat v4) and serialize it, or raise BadRequest."""
    if not isinstance(content, dict):
        raise BadRequest(f"Notebook content must be a JSON object: {api_path}")
    try:
        nb = nbformat.from_dict(content)
        if nb.get("nbformat") != 4:
            nb = nbformat.convert(nb, 4)
        nbformat.validate(nb)
        return nbformat.writes(nb, version=4).encode("utf-8")
    except nbformat.ValidationError as exc:
        raise BadRequest(f"Notebook does not match nbformat v4: {exc.message}", reason="bad notebook") from None
    except Exception as exc:
        raise BadRequest(f"Notebook is invalid: {exc}", reason="bad notebook") from None


def file_bytes(model: dict[str, Any], api_path: str) -> bytes:
    """Return the bytes a 'file' model asks to write (format text or base64)."""
    content, fmt = model.get("content"), model.get("format")
    if not isinstance(content, str):
        raise BadRequest("No file content provided" if content is None else "File content must be a string")
    if fmt == "text":
        return content.encode("utf-8")
    if fmt == "base64":
        try:
            return base64.b64decode(content.encode("ascii"), validate=True)
        except Exception as exc:
            raise BadRequest(f"Encoding error saving {api_path}: {exc}") from None
    raise BadRequest(f"Must specify format of file contents as 'text' or 'base64', not {fmt!r}")


def content_hash(data: bytes) -> dict[str, str]:
    """The optional hash fields of a model."""
    return {"hash": hashlib.sha256(data).hexdigest(), "hash_algorithm": "sha256"}


def read_bytes(os_path: Path, api_path: str) -> bytes:
    """Read a file, turning OS errors into clear store errors."""
    try:
        return os_path.read_bytes()
    except OSError as exc:
        raise os_error(exc, api_path) from None
