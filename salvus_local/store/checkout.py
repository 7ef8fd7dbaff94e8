"""Write a fresh clone's files ourselves, byte for byte: no smudge filter, encoding, eol or ident applies.

``git clone`` checks files out through the cloned project's own ``.gitattributes`` (and the
machine's config): a ``working-tree-encoding`` rewrites every text file, a ``filter`` runs its
command.  A clone is therefore made with ``--no-checkout``; this module writes the commit's blobs
exactly as stored (one ``cat-file --batch``) into the new, private folder nobody else writes yet,
then sets the index from the commit (``read-tree``, which reads no file).  Paths were checked by
fsck (``transfer.fsckObjects``) as the objects arrived.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SYMLINK, GITLINK = "120000", "160000"


def check_out(folder: Path, env: dict[str, str]) -> None:
    """Write HEAD's files into folder (a fresh --no-checkout clone) and set the index; no-op for an empty HEAD."""
    def git(*args: str, input: bytes | None = None) -> bytes:
        return subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=folder, env=env, input=input,
                              capture_output=True, check=True).stdout

    if subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=folder, env=env,
                      capture_output=True, check=False).returncode:
        return
    entries = []
    for item in git("ls-tree", "-r", "-z", "--full-tree", "HEAD").split(b"\0"):
        if item:
            meta, _, name = item.partition(b"\t")
            mode, _kind, oid = meta.decode().split(" ")
            entries.append((mode, oid, os.fsdecode(name)))
    blobs = [e for e in entries if e[0] != GITLINK]
    out = git("cat-file", "--batch", input="".join(f"{oid}\n" for _, oid, _ in blobs).encode())
    pos = 0
    for mode, _oid, rel in blobs:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split(b" ")[2])
        data = out[header_end + 1:header_end + 1 + size]
        pos = header_end + 2 + size
        _write(folder / rel, mode, data)
    for mode, _oid, rel in entries:
        if mode == GITLINK:
            (folder / rel).mkdir(parents=True, exist_ok=True)  # a submodule: an empty folder, as git leaves it
    git("read-tree", "HEAD")


def _write(path: Path, mode: str, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == SYMLINK:
        os.symlink(os.fsdecode(data), path)
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o755 if mode == "100755" else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
