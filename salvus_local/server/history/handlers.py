"""/api/search (past computations, full text) and /api/history (latest computations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, jsonify, request

from salvus_local.server.errors import APIError
from salvus_local.server.projects.workspace import workspace
from salvus_local.store import history

bp = Blueprint("history", __name__)


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def _limit() -> int:
    try:
        return int(request.args.get("limit", "50"))
    except ValueError:
        raise APIError(400, "limit must be an integer") from None


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "time": _iso(row["time"])}


def search() -> Response:
    """Search computations and chat messages of all projects (``?project=`` to narrow): best matches first.

    Each result has ``kind``: ``computation`` (input/output snippets, cell) or ``chat`` (snippet, author).
    """
    from salvus_local.chat.search import search as search_chat

    q, project, limit = request.args.get("q", ""), request.args.get("project") or None, _limit()
    store = workspace().store
    found = [{"kind": "computation", **_row(r)} for r in history.search(store, q, project, limit)]
    found += search_chat(store, q, project, limit)
    found.sort(key=lambda r: r["rank"])  # both are FTS5 bm25 scores over short texts: comparable enough
    return jsonify({"query": q, "results": [{k: v for k, v in r.items() if k != "rank"} for r in found[:limit]]})


def recent() -> Response:
    """Latest computations, newest first (``?project=``, ``?path=``)."""
    rows = history.recent(workspace().store, request.args.get("project") or None, request.args.get("path") or None,
                          _limit())
    return jsonify([_row(r) for r in rows])


bp.add_url_rule("/api/search", view_func=search, methods=["GET"])
bp.add_url_rule("/api/history", view_func=recent, methods=["GET"])
