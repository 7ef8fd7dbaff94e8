"""REST routes of chat and the chat websocket (thin: the logic is in salvus_local.chat).

Websocket ``[/p/<project>]/api/chat/ws``: JSON text frames from the server —
``hello {project_id, me, members, chats, total}`` on connect, then ``message {message}``,
``edited {message}``, ``deleted {id, path}`` for every chat of the project, ``unread {project_id,
chats, total}`` (this person's counts) and ``mention {message}`` (this person was mentioned,
in any project).  The client may send ``{"type": "ping"}`` (answered ``pong``); nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from salvus_local.chat import Chat, Person
from salvus_local.chat.hub import Subscriber
from salvus_local.chat.messages import chat_path
from salvus_local.server.errors import APIError, get_json_body
from salvus_local.server.projects.workspace import project_scope
from salvus_local.server.websocket import ConnectionClosed, LockedSocket, websocket_route

bp = Blueprint("chat", __name__)


def chat() -> Chat:
    """The app's chat manager."""
    return current_app.extensions["salvus"].chat


def _me() -> Person:
    identity = g.get("identity")
    return chat().person(identity.user if identity is not None else None)


def _moderator(project_id: str) -> bool:
    """The project's owner or an admin (single-user: the one user) may delete anyone's message."""
    accounts = getattr(current_app.extensions["salvus"].auth, "accounts", None)
    identity = g.get("identity")
    if accounts is None or identity is None or not identity.user:
        return accounts is None
    return accounts.members.role(identity.user, project_id) in ("owner", "admin")


@bp.before_request
def _known_project() -> None:
    """404 for an unknown project, before any work or websocket upgrade (a plain GET of the socket is werkzeug's 400)."""
    project_scope((request.view_args or {}).get("project_id"))


def _pid(project_id: str | None) -> str:
    return project_scope(project_id)[0]


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise APIError(400, f"{name} must be a message id (a whole number)") from None


def list_messages(project_id: str | None = None) -> Response:
    """One chat, a page at a time: ``?path=`` (none: the project's chat), ``?before=<id>``, ``?limit=``."""
    limit = _int_arg("limit") or 50
    return jsonify(chat().page(_pid(project_id), chat_path(request.args.get("path")), _me(), _int_arg("before"),
                               limit))


def post_message(project_id: str | None = None) -> tuple[Response, int]:
    """``{body, path?}`` → 201 with the message."""
    body = get_json_body(required=True) or {}
    message = chat().post(_pid(project_id), chat_path(body.get("path")), _me(), body.get("body"))
    return jsonify(message), 201


def edit_message(message_id: int, project_id: str | None = None) -> Response:
    """``{body}`` → the edited message (its author only)."""
    body = get_json_body(required=True) or {}
    return jsonify(chat().edit(_pid(project_id), message_id, _me(), body.get("body")))


def delete_message(message_id: int, project_id: str | None = None) -> Response:
    """Delete a message (its author, or the project's owner) → 204."""
    pid = _pid(project_id)
    chat().delete(pid, message_id, _me(), moderator=_moderator(pid))
    return Response(status=204)


def mark_read(project_id: str | None = None) -> Response:
    """``{path?, up_to?}`` → ``{path, read_up_to, chats, total}`` (the project's unread counts after it)."""
    body = get_json_body() or {}
    return jsonify(chat().read(_pid(project_id), chat_path(body.get("path")), _me(), body.get("up_to")))


def members(project_id: str | None = None) -> Response:
    """``{me, members: [{name, display_name}]}``: who can be @mentioned."""
    return jsonify(chat().members(_pid(project_id), _me()))


def unread(project_id: str | None = None) -> Response:
    """``{project_id, chats: [{path, count, mentions}], total}`` for the signed-in person."""
    return jsonify(chat().unread(_me(), _pid(project_id)))


def notifications() -> Response:
    """Unread chats of every project the person is in, and the latest messages mentioning them."""
    return jsonify(chat().notifications(_me()))


def _still_member(project_id: str) -> Any:
    """A check, for the socket's life, that its person still has a role in the project (taken off: it closes).

    Asked before each event is sent (one indexed query), so nothing said after the removal reaches them.
    """
    accounts = getattr(current_app.extensions["salvus"].auth, "accounts", None)
    identity = g.get("identity")
    if accounts is None or identity is None or not identity.user:
        return lambda: True
    user = identity.user
    return lambda: accounts.members.role(user, project_id) is not None


def chat_socket(ws: Any, project_id: str | None = None) -> None:
    """Push this project's chat events (and this person's mentions) until the socket closes."""
    manager, pid, me = chat(), _pid(project_id), _me()
    member = _still_member(pid)
    client = LockedSocket(ws)
    sub = Subscriber(pid, me.id)
    manager.hub.add(sub)
    try:
        client.send(json.dumps({"type": "hello", **manager.members(pid, me), **manager.unread(me, pid)}))
        while client.connected and not sub.dropped:
            event = sub.next(timeout=0.5)
            if event is not None:
                if event["type"] != "mention" and not member():  # removed from the project meanwhile
                    client.close(1008, "You are no longer a member of this project")
                    break
                client.send(json.dumps(event))
                continue
            raw = client.receive(timeout=0)
            if raw is not None and _is_ping(raw):
                client.send('{"type": "pong"}')
    except ConnectionClosed:
        pass
    finally:
        manager.hub.remove(sub)
        client.close()


def _is_ping(raw: str | bytes) -> bool:
    try:
        return json.loads(raw).get("type") == "ping"
    except (ValueError, AttributeError):
        return False


# Route table: the default project and every /p/<project_id>/.
for prefix in ("", "/p/<project_id>"):
    bp.add_url_rule(f"{prefix}/api/chat", view_func=list_messages, methods=["GET"])
    bp.add_url_rule(f"{prefix}/api/chat", view_func=post_message, methods=["POST"])
    bp.add_url_rule(f"{prefix}/api/chat/<int:message_id>", view_func=edit_message, methods=["PATCH"])
    bp.add_url_rule(f"{prefix}/api/chat/<int:message_id>", view_func=delete_message, methods=["DELETE"])
    bp.add_url_rule(f"{prefix}/api/chat/read", view_func=mark_read, methods=["POST"])
    bp.add_url_rule(f"{prefix}/api/chat/members", view_func=members, methods=["GET"])
    bp.add_url_rule(f"{prefix}/api/chat/unread", view_func=unread, methods=["GET"])
    websocket_route(bp, f"{prefix}/api/chat/ws", endpoint=f"socket{prefix.replace('/', '_')}")(chat_socket)
bp.add_url_rule("/api/notifications", view_func=notifications, methods=["GET"])
