"""Full-text search over chat messages (FTS5 table chat_messages_fts), typed for the search box."""

from __future__ import annotations

from typing import Any

from salvus_local.store.db import Store
from salvus_local.store.history import fts_query

from .messages import iso


def search(store: Store, q: str, project_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Messages matching ``q``, best first: ``{kind: "chat", id, project_id, path, author, time, snippet, rank}``.

    Matches in the snippet sit between \\x02 and \\x03, as in computation results; ``rank`` is
    FTS5's bm25 (smaller is better), so the caller can merge both kinds of results.
    """
    sql = """
        select m.id, m.project_id, m.path, m.author, m.time, m.edited, rank,
               snippet(chat_messages_fts, 0, char(2), char(3), '…', 16) as snippet
        from chat_messages_fts join chat_messages m on m.id = chat_messages_fts.rowid
        where chat_messages_fts match :q {project}
        order by rank limit :limit
    """.format(project="and m.project_id = :project" if project_id else "")
    rows = store.query(sql, {"q": fts_query(q), "project": project_id, "limit": max(1, min(limit, 500))})
    return [{"kind": "chat", "id": r["id"], "project_id": r["project_id"], "path": r["path"] or None,
             "author": r["author"], "time": iso(r["time"]), "snippet": r["snippet"], "rank": r["rank"]}
            for r in rows]
