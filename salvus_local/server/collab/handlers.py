"""``[/p/<project>]/api/collab/rooms/<path>`` (y-websocket) and ``[/p/<project>]/api/collab/status``.

auth.py has resolved the project role before the upgrade (outsiders: 404/403 JSON, no handshake);
a viewer's socket is accepted but its document updates are dropped by the room.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from salvus_local.collab import ContentError, RoomManager, schema
from salvus_local.server.accounts.revocation import revoked
from salvus_local.server.errors import APIError
from salvus_local.server.projects.workspace import project_scope, workspace
from salvus_local.server.websocket import websocket_route
from salvus_local.store import paths
from salvus_local.store.errors import StoreError
from salvus_local.store.projects import DEFAULT_ID

from . import enabled
from .sockets import RoomSocket

bp = Blueprint("collab", __name__)


def manager() -> RoomManager:
    """The app's RoomManager."""
    return current_app.extensions["salvus"].collab


def user_of_request() -> dict[str, str]:
    """{name, color} of the requester: the account name (single-user: "you"), a colour stable per name."""
    services = current_app.extensions["salvus"]
    user = getattr(g.get("identity"), "user", None) or {}
    name = str(user.get("name") or "you") if getattr(services.auth, "multi_user", False) else "you"
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    return {"name": name, "color": _hsl_hex(hue, 0.65, 0.45)}


def _hsl_hex(h: float, s: float, lightness: float) -> str:
    c = (1 - abs(2 * lightness - 1)) * s
    x = c * (1 - abs((h / 60) % 2 - 1))
    m = lightness - c / 2
    r, gr, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][int(h // 60) % 6]
    return "#" + "".join(f"{round((v + m) * 255):02x}" for v in (r, gr, b))


def _can_write() -> bool:
    """Viewers may watch a room, not change it (role set by the accounts policy; single-user: owner)."""
    return g.get("project_role", "owner") != "viewer"


@bp.before_request
def _check_room() -> None:
    """404 unknown project; for a room: collaboration on, a usable path, the room loaded — all before the upgrade."""
    args = request.view_args or {}
    project_scope(args.get("project_id"))
    if not (request.endpoint or "").startswith("collab.room"):
        return
    if not enabled(current_app.extensions["salvus"].config):
        raise APIError(404, "Collaboration is off on this server (setting collaboration: auto, on or off)")
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise APIError(400, "This is a websocket (y-websocket protocol): connect with Upgrade: websocket")
    project_id = args.get("project_id") or DEFAULT_ID
    path = paths.normalize(args.get("path", ""))
    cm = workspace().contents(args.get("project_id"))
    if not path or cm.is_dir(path):
        raise APIError(400, f"{path or 'the project folder'} is a folder: a room is for one file")
    parent = path.rpartition("/")[0]
    if parent and not cm.is_dir(parent):
        raise APIError(404, f"No such folder: {parent}")
    _check_file(cm, path, project_id)
    try:
        g.collab_room = manager().get(project_id, path)
    except ContentError as exc:
        raise APIError(400, f"{path}: {exc}") from None


def max_bytes(path: str) -> int:
    """Largest file a room opens (setting collaboration_max_mb; notebooks 4×: outputs are opaque values)."""
    limit = int(current_app.extensions["salvus"].config.collaboration_max_mb) * 2**20
    return limit * 4 if schema.kind_of(path) == schema.NOTEBOOK else limit


def _check_file(cm: Any, path: str, project_id: str) -> None:
    """Refuse, before the upgrade, a path leaving the project (link), a file the owner cannot read, a huge file.

    A room's doc costs tens of times the file's size in memory, so big files are edited alone (413)."""
    if manager().find(project_id, path) is not None:
        return  # already open: it passed these checks
    try:
        target = cm.os_path(path)
    except StoreError:
        raise APIError(404, f"{path}: not inside this project (a link leaving the project cannot be "
                            "opened in a room)") from None
    if not cm.exists(path):
        return  # a new file: the room creates it at the first save
    try:
        size = target.stat().st_size
    except OSError as exc:
        raise APIError(403, f"{path}: cannot be read ({exc.strerror})") from None
    limit = max_bytes(path)
    if size > limit:
        raise APIError(413, f"{path} is {size / 2**20:.1f} MB, above the {limit // 2**20} MB a room opens "
                            "(setting collaboration_max_mb): edit it without co-editing")
    try:
        cm.read_file(path)[:0]
    except StoreError as exc:
        raise APIError(403, f"{path}: the project owner cannot read it ({getattr(exc, 'message', exc)})") from None


def room_socket(ws: Any, path: str, project_id: str | None = None) -> None:
    """Serve one y-websocket connection until it closes."""
    room = g.collab_room
    # A frame larger than the largest file a room opens, twice over, is not an edit (simple-websocket
    # closes with 1009 "message too big" instead of buffering it: unlimited before).
    ws.max_message_size = 2 * max_bytes("any.ipynb")
    client = RoomSocket(ws, _can_write(), user_of_request())
    room.join(client)
    try:
        while not client.closed.is_set():
            data = client.sock.receive(timeout=5.0)
            if revoked():  # role lowered or removed meanwhile (accounts/revocation.py): drop the update
                break
            if isinstance(data, (bytes, bytearray)):
                room.receive(client, bytes(data))
            elif data is None and not client.sock.connected:
                break
    finally:
        room.leave(client)
        client.finish()


def status(project_id: str | None = None) -> Response:
    """Whether rooms are on, and who the requester is in them; with ``?path=``, that file's room too."""
    body: dict[str, Any] = {"enabled": enabled(current_app.extensions["salvus"].config), "user": user_of_request(),
                            # larger files are edited alone (the upgrade is a 413): pages check before they try
                            "max_bytes": {"text": max_bytes("any.txt"), "notebook": max_bytes("any.ipynb")}}
    if request.args.get("path") is not None:
        room = manager().find(project_id or DEFAULT_ID, paths.normalize(request.args["path"]))
        body["room"] = room.status() if room is not None else {"open": False}
    return jsonify(body)


for prefix in ("", "/p/<project_id>"):
    bp.add_url_rule(f"{prefix}/api/collab/status", view_func=status, methods=["GET"],
                    endpoint=f"status{prefix.replace('/', '_')}")
    websocket_route(bp, f"{prefix}/api/collab/rooms/<path:path>",
                    endpoint=f"room{prefix.replace('/', '_')}")(room_socket)
