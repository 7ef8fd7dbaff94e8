"""Turn an API path (``a/b.ipynb``) into a file system path that stays inside a root.

Rules: the API path is relative and ``/``-separated.  A NUL byte, an absolute path, a
``..`` component, a ``.git`` component or a name longer than the file system allows (255
bytes) is refused with 400; a backslash or drive prefix (``c:``) only on Windows, where they
mean something (``a:b.txt`` is an ordinary name elsewhere).
After that, the real path (symlinks resolved) must be the root or lie under ``root + sep``:
comparing whole components, so ``proj`` never matches a sibling ``projX``.  A symlink that
leaves the root answers 404, exactly like a missing file, so it reveals nothing about the
outside.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import BadRequest, NotFound

# Folders the contents API never exposes: git's database (writing hooks there would run code
# on the next commit) and the project's own trash and checkpoint stores.
PROTECTED = {(".git",), (".salvus", "trash"), (".salvus", "checkpoints")}
# POSIX NAME_MAX and PATH_MAX: past them the OS answers ENAMETOOLONG, which must be a 400, not a 500.
NAME_MAX = 255
PATH_MAX = 4000


def normalize(api_path: str) -> str:
    """Return the canonical form of an API path ('' for the root) or raise BadRequest."""
    if "\x00" in api_path:
        raise BadRequest("Path may not contain a NUL byte")
    windows = os.sep == "\\"
    if api_path.startswith("/") or (windows and (api_path.startswith("\\") or api_path[1:2] == ":")):
        raise BadRequest(f"Path must be relative: {api_path!r}")
    parts = [p for p in api_path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise BadRequest(f"Path may not contain '..': {api_path!r}")
    if "\\" in api_path and windows:
        raise BadRequest(f"Path may not contain a backslash: {api_path!r}")
    if any(len(p.encode("utf-8", "surrogateescape")) > NAME_MAX for p in parts):
        raise BadRequest(f"File name too long: at most {NAME_MAX} bytes per name ({api_path[:60]!r}…)")
    if len(api_path.encode("utf-8", "surrogateescape")) > PATH_MAX:
        raise BadRequest(f"Path too long: at most {PATH_MAX} bytes ({api_path[:60]!r}…)")
    for n in range(1, len(parts) + 1):
        if tuple(parts[:n]) in PROTECTED or parts[n - 1] == ".git":
            raise BadRequest(f"Path is reserved: {api_path!r}")
    return "/".join(parts)


def is_inside(root: str, real: str) -> bool:
    """True when ``real`` is ``root`` or below it (both already resolved)."""
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def resolve(root: str | os.PathLike[str], api_path: str) -> Path:
    """Return the OS path for ``api_path`` under ``root``; 400 if malformed, 404 if it escapes."""
    rel = normalize(api_path)
    real_root = os.path.realpath(root)
    target = os.path.join(real_root, *rel.split("/")) if rel else real_root
    # Resolve symlinks of every existing component: the final one may not exist yet (a new
    # file), but its parent's real path must still lie inside the root.
    real = os.path.realpath(target)
    if not is_inside(real_root, real):
        raise NotFound(f"No such file or directory: {rel}")
    return Path(target)
