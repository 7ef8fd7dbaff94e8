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
    """Search computations of all projects (``?project=`` to narrow): best matches with snippets."""
    q = request.args.get("q", "")
    rows = history.search(workspace().store, q, request.args.get("project") or None, _limit())
    return jsonify({"query": q, "results": [_row(r) for r in rows]})


def recent() -> Response:
    """Latest computations, newest first (``?project=``, ``?path=``)."""
    rows = history.recent(workspace().store, request.args.get("project") or None, request.args.get("path") or None,
                          _limit())
    return jsonify([_row(r) for r in rows])


bp.add_url_rule("/api/search", view_func=search, methods=["GET"])
bp.add_url_rule("/api/history", view_func=recent, methods=["GET"])
