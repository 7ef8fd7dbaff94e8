"""Computation history: record executed cells, full-text search them (FTS5)."""

from __future__ import annotations

import re
import time
from typing import Any

from .db import Store
from .errors import BadRequest

MAX_TEXT = 100_000  # characters of input or output kept per computation


def record(store: Store, *, project_id: str | None, path: str | None, cell_id: str | None, kernel_id: str,
           execution_count: int | None, input: str, output: str, status: str, when: float | None = None) -> int:
    """Insert one computation and return its id."""
    with store.write() as db:
        table = db["computations"]
        table.insert({"project_id": project_id, "path": path, "cell_id": cell_id, "kernel_id": kernel_id,
                      "execution_count": execution_count, "input": input[:MAX_TEXT], "output": output[:MAX_TEXT],
                      "status": status, "time": when or time.time()})
        return int(table.last_rowid or 0)


def fts_query(q: str) -> str:
    """Turn free text into a safe FTS5 query: each word quoted, all required (prefix match on the last)."""
    words = re.findall(r"\w+", q, flags=re.UNICODE)
    if not words:
        raise BadRequest("Give some words to search for as ?q=")
    quoted = [f'"{w}"' for w in words[:20]]
    quoted[-1] += "*"
    return " ".join(quoted)


def search(store: Store, q: str, project_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Computations matching ``q``, best first, with snippets whose matches sit between \x02 and \x03.

    ``rank`` is FTS5's bm25 (smaller is better): the search API merges chat messages by it.

    Control characters, not brackets: code and output are full of brackets of their own.
    """
    sql = """
        select c.id, c.project_id, c.path, c.cell_id, c.execution_count, c.time, c.status, rank,
               snippet(computations_fts, 0, char(2), char(3), '…', 12) as input_snippet,
               snippet(computations_fts, 1, char(2), char(3), '…', 12) as output_snippet
        from computations_fts join computations c on c.id = computations_fts.rowid
        where computations_fts match :q {project}
        order by rank limit :limit
    """.format(project="and c.project_id = :project" if project_id else "")
    return store.query(sql, {"q": fts_query(q), "project": project_id, "limit": max(1, min(limit, 500))})


def recent(store: Store, project_id: str | None = None, path: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Latest computations (of a project / file), newest first."""
    where, params = [], []
    if project_id:
        where.append("project_id = ?")
        params.append(project_id)
    if path:
        where.append("path = ?")
        params.append(path)
    clause = f"where {' and '.join(where)}" if where else ""
    return store.query(f"select * from computations {clause} order by time desc limit ?", (*params, max(1, min(limit, 500))))
