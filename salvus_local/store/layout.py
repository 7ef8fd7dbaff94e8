"""The ``.salvus`` folder inside a project: metadata that travels with the repo, and local stores.

``.salvus/project.json`` is committed with the project.  ``.salvus/trash`` and
``.salvus/checkpoints`` are local only: ``.salvus/.gitignore`` keeps them out of git, of
snapshots and of sync.  (Older versions kept checkpoints here; they now live in the server's
state folder, see store/state.py.)  Everything here runs with the project owner's rights
(``store.owner.as_owner``): a session can replace any of these paths with a link.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .atomic import atomic_write, make_dirs, os_error
from .errors import Conflict
from .owner import as_owner

SALVUS = ".salvus"
GITIGNORE = "# Local to this machine: never committed or synced.\ntrash/\ncheckpoints/\n"


def salvus_dir(root: str | os.PathLike[str]) -> Path:
    """Return ``<root>/.salvus``, creating it with its .gitignore when missing."""
    d = Path(root) / SALVUS
    ignore = d / ".gitignore"
    with as_owner(root):
        _real_folder(d, SALVUS)
        if not ignore.exists():
            try:
                make_dirs(d)
            except OSError as exc:
                raise os_error(exc, SALVUS) from None
            atomic_write(ignore, GITIGNORE.encode(), ".salvus/.gitignore")
    return d


def local_dir(root: str | os.PathLike[str], name: str) -> Path:
    """Return a local-only folder under .salvus (trash or checkpoints), created on demand."""
    d = salvus_dir(root) / name
    with as_owner(root):
        _real_folder(d, f"{SALVUS}/{name}")
        try:
            make_dirs(d)
        except OSError as exc:
            raise os_error(exc, f"{SALVUS}/{name}") from None
    return d


def _real_folder(path: Path, what: str) -> None:
    """Refuse (409) when a store's place holds something else than a folder: a file or a link."""
    if os.path.islink(path) or os.path.lexists(path) and not os.path.isdir(path):
        raise Conflict(f"{what} in the project is not a folder; move it away so the server can use it")


def read_meta(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Return ``.salvus/project.json`` of a folder, or {} when absent or unreadable."""
    try:
        with as_owner(root):
            data = json.loads((Path(root) / SALVUS / "project.json").read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def write_meta(root: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    """Write ``.salvus/project.json`` atomically."""
    path = salvus_dir(root) / "project.json"
    with as_owner(root):
        atomic_write(path, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode(), ".salvus/project.json")
