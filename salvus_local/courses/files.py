"""What the courses package needs from projects, as a protocol the server implements (server/courses/bridge.py).

Every method acts with the rights of the project's owner (store/owner.py): a file moves between two
projects by being read as the first owner and written as the second, never through a folder both
could write.
"""

from __future__ import annotations

from typing import Protocol


class ProjectFiles(Protocol):
    """Project files as the courses manager sees them; paths are API paths (``a/b.ipynb``)."""

    def create_project(self, title: str, owner_id: int, editors: list[int]) -> str:
        """Create a project owned by owner_id with editors as editor collaborators; return its id."""

    def add_editor(self, project_id: str, user_id: int) -> None:
        """Make user_id an editor of the project (nothing when they own it)."""

    def read_tree(self, project_id: str, folder: str) -> dict[str, bytes]:
        """Every regular file under folder (relative path → bytes), skipping hidden names; {} when missing."""

    def read(self, project_id: str, path: str) -> bytes | None:
        """A file's bytes, or None when it does not exist."""

    def write(self, project_id: str, path: str, data: bytes) -> None:
        """Atomically write a file, making its folders."""

    def remove(self, project_id: str, path: str) -> None:
        """Delete a file (into the project's trash); nothing when it is gone already."""

    def snapshot_tree(self, project_id: str, folder: str, message: str) -> tuple[str | None, float | None,
                                                                                   dict[str, bytes]]:
        """Snapshot now, then read folder from that version: (version, time folder last changed, files)."""

    def run_as(self, project_id: str) -> tuple[int, int] | None:
        """(uid, gid) grading of this student project's work runs as; never root.  None: the executor's choice
        (a uid leased from its grading pool on root servers, the server's own otherwise)."""
