"""The sync API of a laptop (or hub) server: a thin layer over ``salvus_sync.service.SyncService``.

    GET  /api/sync/status                    → {projects: {id: status}} of every project the caller sees
    GET  /api/projects/<id>/sync             → status (state, ahead, behind, conflicts, last_sync, …)
    POST /api/projects/<id>/sync {action}    → {ok, report?, error?, kind?, status}: sync|pull|push now
    PUT  /api/projects/<id>/sync {remote}    → status: link the project to a git remote (URL)

Background sync runs in the service's thread, started at the first request; a save (a snapshot
after it) asks for a sync soon.  Auth has checked the project role before any view (GET viewer,
POST/PUT editor).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from salvus_local.server.errors import APIError, get_json_body

bp = Blueprint("syncapi", __name__)


def _service() -> Any:
    svc = current_app.extensions["salvus"]
    found = getattr(svc, "sync_service", None)
    if found is None:
        from salvus_sync.service import SyncService

        from ..projects.workspace import init_workspace

        ws = init_workspace(current_app)
        config = svc.config

        def roots() -> dict[str, str]:
            return {row["id"]: row["path"] for row in ws.projects.list(archived=True)}

        found = SyncService(config.data_dir, roots, config.machine_name, float(config.sync_interval),
                            config.sync_max_file_mb)
        svc.sync_service = found
        previous = ws.autosnap.on_done

        def snapshotted(project_id: str, snap: Any) -> None:  # a save was snapshotted: sync it soon
            previous(project_id, snap)
            if snap.commit:
                found.soon(project_id)

        ws.autosnap.on_done = snapshotted
        found.start()
    return found


def _root(project_id: str) -> str:
    from ..projects.workspace import init_workspace

    return init_workspace(current_app).projects.root(project_id)


@bp.get("/api/sync/status")
def all_status() -> Response:
    """Sync status of every linked project the caller may see (others are left out)."""
    from salvus_local.server.accounts import projects_access

    from ..projects.workspace import init_workspace

    service = _service()
    rows = projects_access.annotate(init_workspace(current_app).projects.list(archived=True))
    out = {}
    for row in rows:
        try:
            info = service.status(row["id"], row["path"])
        except Exception:  # a project without a repository (yet): nothing to show
            continue
        if info["remote"] or info["conflicts"]:
            out[row["id"]] = info
    return jsonify({"projects": out})


@bp.get("/api/projects/<project_id>/sync")
def status(project_id: str) -> Response:
    """One project's sync status."""
    return jsonify(_service().status(project_id, _root(project_id)))


@bp.post("/api/projects/<project_id>/sync")
def run(project_id: str) -> Response:
    """Sync now ({action: sync|pull|push}); a failure is ok false with the message, not an HTTP error."""
    from salvus_sync.state import SyncBusy

    body = get_json_body() or {}
    try:
        return jsonify(_service().run(project_id, _root(project_id), body.get("action") or "sync"))
    except SyncBusy as exc:
        raise APIError(409, str(exc)) from None


@bp.put("/api/projects/<project_id>/sync")
def link(project_id: str) -> Response:
    """Link the project to a git remote ({remote: URL, branch?}); the next sync pushes or merges."""
    from salvus_sync.link import LinkError, link_remote

    from flask import g

    body = get_json_body(required=True) or {}
    auth = current_app.extensions["salvus"].auth
    user = getattr(g.get("identity"), "user", None) or {}
    if getattr(auth, "multi_user", False) and user.get("role") != "admin":
        # The server would fetch and push as itself: on a shared server only an admin chooses where to.
        raise APIError(403, "On a multi-user server only an admin links projects to remotes")
    root = _root(project_id)
    try:
        link_remote(root, str(body.get("remote") or ""), body.get("branch") or None)
    except LinkError as exc:
        raise APIError(400, exc.message) from None
    service = _service()
    service.soon(project_id, 0)
    return jsonify(service.status(project_id, root))


def init_app(app: Flask) -> None:
    """Serve the sync API."""
    app.register_blueprint(bp)
