"""/api/terminals (Jupyter REST) and the terminado-format websocket /terminals/websocket/<name>.

Frames are JSON arrays: client → server ``["stdin", text]``, ``["set_size", rows, cols]``,
``["disconnect", 1]``; server → client ``["setup", {}]``, ``["stdout", text]``, ``["disconnect", 1]``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from salvus_local.server.accounts.revocation import revoked
from salvus_local.server.errors import get_json_body
from salvus_local.server.projects.workspace import project_scope, workspace
from salvus_local.server.websocket import ConnectionClosed, LockedSocket, websocket_route
from salvus_local.store.errors import BadRequest

from .manager import Terminal, TerminalManager

bp = Blueprint("terminals", __name__)


def manager() -> TerminalManager:
    """The app's TerminalManager."""
    return current_app.extensions["salvus"].terminals


@bp.before_request
def _known_project() -> None:
    """404 for an unknown project under /p/<project_id>/ or terminal, before any work (or websocket upgrade)."""
    args = request.view_args or {}
    project_id = args.get("project_id")
    if project_id is not None:
        project_scope(project_id)
    if (request.endpoint or "").startswith("terminals.socket"):
        manager().get(args.get("name", ""), project_id)  # a terminal of another project: 404 before the upgrade


def list_terminals(project_id: str | None = None) -> Response:
    """Running terminals."""
    return jsonify([t.model() for t in manager().list(project_id)])


def create_terminal(project_id: str | None = None) -> Response:
    """Start a terminal in the project folder (or ``{"cwd"}`` below it)."""
    body = get_json_body() or {}
    cm = workspace().contents(project_id)
    cwd = cm.os_path(str(body.get("cwd") or ""))
    if not cwd.is_dir():
        raise BadRequest(f"No such directory: {body.get('cwd')}")
    ids = workspace().projects.ids_of(project_id) if os.geteuid() == 0 else None  # the project's uid (root)
    term = manager().create(project_id or "default", cwd, ids, cm.root)
    return jsonify(term.model())


def get_terminal(name: str, project_id: str | None = None) -> Response:
    """One terminal."""
    return jsonify(manager().get(name, project_id).model())


def delete_terminal(name: str, project_id: str | None = None) -> Response:
    """Close a terminal: its process group is killed (204)."""
    manager().delete(name, project_id)
    return Response(status=204)


def _stdin(term: Terminal, msg: list[Any]) -> None:
    term.write(str(msg[1]))


def _set_size(term: Terminal, msg: list[Any]) -> None:
    term.set_size(int(msg[1]), int(msg[2]))


INBOUND = {"stdin": _stdin, "set_size": _set_size}


def terminal_socket(ws: Any, name: str, project_id: str | None = None) -> None:
    """Bridge a websocket to a terminal until either side closes."""
    try:
        term = manager().get(name, project_id)
    except Exception:
        ws.close(1008, "Terminal not found")
        return
    client = LockedSocket(ws)
    term.attach(client)
    try:
        while not term.closed.is_set():
            raw = client.receive(timeout=1.0)
            if revoked():  # access ended meanwhile (accounts/revocation.py): drop the frame
                break
            if raw is None:
                continue
            try:
                msg = json.loads(raw)
                kind = msg[0]
            except (ValueError, TypeError, IndexError, KeyError):
                continue  # not a terminado frame: ignore, like terminado does
            if kind == "disconnect":
                break
            handler = INBOUND.get(kind)
            if handler:
                try:
                    handler(term, msg)
                except (ValueError, TypeError, IndexError, OSError):
                    continue
    except ConnectionClosed:
        pass
    finally:
        term.detach(client)


for prefix in ("", "/p/<project_id>"):
    bp.add_url_rule(f"{prefix}/api/terminals", view_func=list_terminals, methods=["GET"])
    bp.add_url_rule(f"{prefix}/api/terminals", view_func=create_terminal, methods=["POST"])
    bp.add_url_rule(f"{prefix}/api/terminals/<name>", view_func=get_terminal, methods=["GET"])
    bp.add_url_rule(f"{prefix}/api/terminals/<name>", view_func=delete_terminal, methods=["DELETE"])
    websocket_route(bp, f"{prefix}/terminals/websocket/<name>", endpoint=f"socket{prefix.replace('/', '_')}")(terminal_socket)
