"""Hub tokens kept by ``sync login``: ``<data dir>/sync-tokens.json`` = {origin: token}, mode 0600.

The command line and the web server's background sync read the same file; the token for a
remote is chosen by the remote URL's origin (scheme://host:port), so a token never goes to
another host.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

FILE = "sync-tokens.json"


def origin(url: str) -> str:
    """scheme://host[:port] of an http(s) URL ('' for others)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def stored(data_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The tokens kept in a data dir ({} when none)."""
    try:
        data = json.loads((Path(data_dir) / FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}


def token_for(data_dir: str | os.PathLike[str], url: str) -> str | None:
    """The token kept for the URL's origin, or None."""
    return stored(data_dir).get(origin(url)) or None


def write(data_dir: str | os.PathLike[str], tokens: dict[str, str]) -> None:
    """Replace the kept tokens atomically, readable by the owner only (0600 from the first byte)."""
    path = Path(data_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(tokens, indent=1) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
