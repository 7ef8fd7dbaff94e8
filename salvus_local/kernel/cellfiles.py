"""Files a cell writes are shown under its output (SageCell's and the Drake filestore's idea).

Before a cell runs we note (mtime, size) of the files in the working folder; after it ran,
files that are new or changed are published: images (png, jpg, gif, svg) as image outputs,
and the whole list as one ``application/vnd.salvus.files+json`` bundle with a ``text/markdown``
twin (links relative to the notebook's folder, so it reads well in JupyterLab too). Both are
ordinary display_data, stored in the notebook, so they survive a reload.

The scan is bounded: hidden folders and a few well-known heavy ones are skipped, it goes at
most ``MAX_DEPTH`` folders down and stops after ``MAX_ENTRIES`` entries or ``MAX_SECONDS``.
After a scan that stopped early, only files seen before the cell count (no false "new").
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field
from typing import Any

MIME_TYPE = "application/vnd.salvus.files+json"
MAX_ENTRIES = 1000       # entries looked at per scan: a small folder costs well under a millisecond
MAX_SECONDS = 0.02       # and a huge or slow one at most this, twice per cell
MAX_DEPTH = 3
MAX_LISTED = 50          # files named in one list
MAX_IMAGES = 8           # images shown inline per cell
MAX_IMAGE_BYTES = 4 * 1024 * 1024
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env"})
# Shared folders where other programs write all the time: a cell run there lists nothing.
SHARED_DIRS = frozenset({"/", "/tmp", "/var/tmp", "/dev/shm", "/run", "/proc", "/sys"})
IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".svg": "image/svg+xml"}


def _skip(name: str) -> bool:
    """Hidden files, editor/atomic-write temporaries and notebooks (autosaved by the server)."""
    return name.startswith((".", "~")) or name.endswith((".ipynb", "~", ".tmp", ".swp"))


def scan(root: str) -> tuple[dict[str, tuple[int, int]], bool]:
    """({relative path: (mtime_ns, size)}, whether the scan stopped at a bound)."""
    found: dict[str, tuple[int, int]] = {}
    seen = 0
    deadline = time.monotonic() + MAX_SECONDS
    stack = [("", 0)]
    while stack:
        rel, depth = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel) if rel else root) as it:
                for entry in it:
                    seen += 1
                    if seen > MAX_ENTRIES or (seen % 64 == 0 and time.monotonic() > deadline):
                        return found, True
                    if _skip(entry.name):
                        continue
                    path = f"{rel}/{entry.name}" if rel else entry.name
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if depth + 1 < MAX_DEPTH and entry.name not in SKIP_DIRS:
                                stack.append((path, depth + 1))
                        elif entry.is_file(follow_symlinks=False):
                            st = entry.stat(follow_symlinks=False)
                            found[path] = (st.st_mtime_ns, st.st_size)
                    except OSError:
                        continue
        except OSError:
            continue
    return found, False


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], partial: bool = False) -> list[str]:
    """Paths that are new or whose mtime or size changed, in name order (only changed ones when
    the first scan was partial: a file it did not reach is not new)."""
    return sorted(p for p, stat in after.items() if before.get(p) != stat and (p in before or not partial))


def _human(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def _link(path: str) -> str:
    """A markdown link target for a relative path (spaces and parentheses escaped)."""
    return path.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def bundles(root: str, paths: list[str], sizes: dict[str, tuple[int, int]], truncated: bool) -> list[dict[str, Any]]:
    """The display bundles for changed files: inline images first, then the list."""
    out: list[dict[str, Any]] = []
    listed = paths[:MAX_LISTED]
    for path in listed:
        mime = IMAGES.get(os.path.splitext(path)[1].lower())
        if mime is None or len(out) >= MAX_IMAGES or sizes[path][1] > MAX_IMAGE_BYTES:
            continue
        try:
            with open(os.path.join(root, path), "rb") as f:
                raw = f.read(MAX_IMAGE_BYTES + 1)
        except OSError:
            continue
        data = raw.decode("utf-8", "replace") if mime == "image/svg+xml" else base64.b64encode(raw).decode("ascii")
        out.append({"data": {mime: data, "text/plain": f"<{path}>"}, "metadata": {"salvus": {"file": path}}})
    files = [{"path": p, "size": sizes[p][1], "image": os.path.splitext(p)[1].lower() in IMAGES} for p in listed]
    more = len(paths) - len(listed)
    md = "**Files written:** " + " · ".join(f"[{p}]({_link(p)}) ({_human(sizes[p][1])})" for p in listed)
    text = "Files written: " + ", ".join(listed)
    if more:
        md, text = md + f" and {more} more", text + f" and {more} more"
    listing = {"files": files, "more": more, "truncated": truncated}
    out.append({"data": {MIME_TYPE: listing, "text/markdown": md, "text/plain": text}, "metadata": {}})
    return out


@dataclass
class CellFiles:
    """Per-shell state: the folder and file stats noted before the running cell."""

    shell: Any
    root: str = ""
    before: dict[str, tuple[int, int]] = field(default_factory=dict)
    partial: bool = False
    active: bool = False

    def pre(self, info: Any = None) -> None:
        """pre_run_cell: note the working folder's files."""
        self.active = self.shell.salvus_session is not None and not getattr(info, "silent", False)
        if self.active:
            try:
                self.root = os.getcwd()
            except OSError:  # the folder was removed under the session
                self.active = False
                return
            if os.path.realpath(self.root) in SHARED_DIRS:
                self.active = False
                return
            self.before, self.partial = scan(self.root)

    def post(self, result: Any = None) -> None:
        """post_run_cell: publish what the cell wrote."""
        if not self.active:
            return
        self.active = False
        after, truncated = scan(self.root)
        paths = changed(self.before, after, self.partial)
        if not paths:
            return
        for bundle in bundles(self.root, paths, after, truncated):
            self.shell.display_pub.publish(bundle["data"], bundle["metadata"])


def install(shell: Any) -> CellFiles:
    """Watch the files every (non-silent) cell of this shell writes."""
    watcher = CellFiles(shell)
    shell.events.register("pre_run_cell", watcher.pre)
    shell.events.register("post_run_cell", watcher.post)
    return watcher
