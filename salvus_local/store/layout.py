"""The ``.salvus`` folder inside a project: metadata that travels with the repo, and local stores.

``.salvus/project.json`` is committed with the project.  ``.salvus/trash`` and
``.salvus/checkpoints`` are local only: ``.salvus/.gitignore`` keeps them out of git, of
snapshots and of sync.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .atomic import atomic_write, make_dirs

SALVUS = ".salvus"
GITIGNORE = "# Local to this machine: never committed or synced.\ntrash/\ncheckpoints/\n"


def salvus_dir(root: str | os.PathLike[str]) -> Path:
    """Return ``<root>/.salvus``, creating it with its .gitignore when missing."""
    d = Path(root) / SALVUS
    ignore = d / ".gitignore"
    if not ignore.exists():
        make_dirs(d)
        atomic_write(ignore, GITIGNORE.encode(), ".salvus/.gitignore")
    return d


def local_dir(root: str | os.PathLike[str], name: str) -> Path:
    """Return a local-only folder under .salvus (trash or checkpoints), created on demand."""
    d = salvus_dir(root) / name
    make_dirs(d)
    return d


def read_meta(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Return ``.salvus/project.json`` of a folder, or {} when absent or unreadable."""
    try:
        data = json.loads((Path(root) / SALVUS / "project.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_meta(root: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    """Write ``.salvus/project.json`` atomically."""
    path = salvus_dir(root) / "project.json"
    atomic_write(path, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode(), ".salvus/project.json")
