"""/api/projects: list, create, open, clone (a job), rename, archive, delete/restore projects;
per-project change events (long poll), file history, diff and restore of old versions.

Events: ``GET /api/projects/<id>/events?since=<seq>&timeout=<s>`` answers at once when events
newer than ``since`` exist, else waits up to ``timeout`` seconds (default 25, max 60) and answers
``{"events": [...], "last": <seq>}``; pass ``last`` as the next ``since``.  Event types: created,
modified, deleted, moved (with dest_path), snapshot, snapshot_skipped; ``external`` is false for
changes made through this server.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from salvus_local.server.accounts import projects_access
from salvus_local.server.errors import APIError, get_json_body
from salvus_local.store import paths
from salvus_local.store.errors import BadRequest

from .workspace import workspace

bp = Blueprint("projects", __name__)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def project_model(row: dict[str, Any], script_root: str | None = None) -> dict[str, Any]:
    """The JSON shape of a project."""
    script_root = request.script_root if script_root is None else script_root
    return {"id": row["id"], "title": row["title"], "path": row["path"], "in_place": bool(row["in_place"]),
            "origin": row["origin"], "created": _iso(row["created"]), "last_opened": _iso(row["last_opened"]),
            "archived": bool(row["archived"]), "deleted": _iso(row["deleted"]),
            "url": f"{script_root}/p/{row['id']}/", **{k: row[k] for k in ("owner", "role", "home") if k in row}}


def _jobs() -> Any:
    services = current_app.extensions["salvus"]
    if getattr(services, "project_jobs", None) is None:
        from .jobs import Jobs

        services.project_jobs = Jobs()
    return services.project_jobs


def list_projects() -> Response:
    """List projects (``?archived=1`` includes archived ones, ``?deleted=1`` lists the trash)."""
    rows = workspace().projects.list(archived=request.args.get("archived") == "1",
                                     deleted=request.args.get("deleted") == "1")
    return jsonify([project_model(r) for r in projects_access.annotate(rows)])


def create_project() -> Response:
    """Create ``{title}``, open ``{open: folder}`` in place, or clone ``{clone: url}`` (202 + job)."""
    body = get_json_body(required=True) or {}
    projects_access.check_create(body)
    pm = workspace().projects
    if body.get("clone"):
        url, title, script_root = str(body["clone"]), body.get("title"), request.script_root
        on_created = projects_access.owner_recorder()

        def clone(progress: Any) -> dict[str, Any]:
            row = pm.clone(url, title, progress)
            on_created(row["id"])
            return project_model(row, script_root)

        response = jsonify(_jobs().start("clone", clone))
        response.status_code = 202
        response.headers["Location"] = f"{request.script_root}/api/projects/jobs/{response.json['id']}"
        return response
    row = pm.open(str(body["open"]), body.get("title")) if body.get("open") else pm.create(body.get("title"), body.get("path"))
    projects_access.created(row["id"])
    response = jsonify(project_model(projects_access.annotate([pm.get(row["id"])])[0]))
    response.status_code = 201
    return response


def get_job(job_id: str) -> Response:
    """Progress of a clone job: state running|done|error, stage, fraction, result (the project)."""
    return jsonify(_jobs().get(job_id))


def get_project(project_id: str) -> Response:
    """One project."""
    return jsonify(project_model(projects_access.annotate([workspace().projects.get(project_id)])[0]))


def patch_project(project_id: str) -> Response:
    """Rename (``title``) and/or archive (``archived``) a project."""
    body = get_json_body(required=True) or {}
    archived = body.get("archived")
    if archived is not None and not isinstance(archived, bool):
        raise APIError(400, "archived must be true or false")
    return jsonify(project_model(workspace().projects.update(project_id, body.get("title"), archived)))


def delete_project(project_id: str) -> Response:
    """Move a project to the trash (204); restore with POST .../restore. A home project: 409."""
    projects_access.check_delete(project_id)
    ws = workspace()
    ws.projects.delete(project_id)
    ws.forget(project_id)
    return Response(status=204)


def restore_project(project_id: str) -> Response:
    """Bring a deleted project back."""
    return jsonify(project_model(workspace().projects.restore(project_id)))


def events(project_id: str) -> Response:
    """Long-poll the project's change events (see the module docstring)."""
    ws = workspace()
    ws.contents(project_id)  # starts the watch
    try:
        since = int(request.args.get("since", "0"))
        timeout = min(max(float(request.args.get("timeout", "25")), 0.0), 60.0)
    except ValueError:
        raise APIError(400, "since must be an integer and timeout a number of seconds") from None
    found, last = ws.watcher.events(project_id, since, timeout)
    return jsonify({"events": found, "last": last})


def _path_arg(required: bool = True) -> str | None:
    path = request.args.get("path")
    if path is None and required:
        raise APIError(400, "Give the file as ?path=")
    return paths.normalize(path) if path is not None else None


def versions(project_id: str) -> Response:
    """Snapshots that changed ``?path=`` (all snapshots without it), newest first."""
    snaps = workspace().snapshots(project_id)
    out = snaps.history(_path_arg(required=False), limit=min(int(request.args.get("limit", "200")), 5000))
    return jsonify([{**v, "time": _iso(float(v["time"]))} for v in out])


def version_content(project_id: str, version: str) -> Response:
    """A file at a version: ``{path, version, format: text|base64, content}``."""
    path = _path_arg()
    data = workspace().snapshots(project_id).read(version, path)
    fmt = request.args.get("format")
    if fmt not in (None, "text", "base64"):
        raise APIError(400, f"Format {fmt!r} is invalid")
    try:
        if fmt == "base64":
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "base64 asked")
        content, fmt = data.decode("utf-8"), "text"
    except UnicodeDecodeError:
        content, fmt = base64.b64encode(data).decode("ascii"), "base64"
    return jsonify({"path": path, "version": version, "format": fmt, "content": content, "size": len(data)})


def diff(project_id: str) -> Response:
    """Unified diff of ``?path=`` between versions ``?from=`` and ``?to=``."""
    a, b = request.args.get("from", ""), request.args.get("to", "")
    text = workspace().snapshots(project_id).diff(a, b, _path_arg(required=False))
    return jsonify({"from": a, "to": b, "path": request.args.get("path"), "diff": text})


def restore_version(project_id: str, version: str) -> Response:
    """Write a file's content at ``version`` back (body ``{"path"}``); adds a new version."""
    body = get_json_body(required=True) or {}
    path = paths.normalize(str(body.get("path") or ""))
    if not path:
        raise BadRequest('Give the file to restore as {"path": ...}')
    ws = workspace()
    data = ws.snapshots(project_id).read(version, path)
    cm = ws.contents(project_id)
    if cm.is_dir(path):
        raise BadRequest(f"{path} is a directory now; move it away first")
    cm.write_bytes(path, data)
    snap = ws.autosnap.take_now(project_id, f"restore {path} from {version[:12]}")
    return jsonify({"path": path, "restored_from": version, "version": snap.commit or ws.snapshots(project_id).head(),
                    "model": cm.get(path, content=False)})


def take_snapshot(project_id: str) -> Response:
    """Snapshot now (``{"message"}`` optional); answers the new version or null if nothing changed."""
    body = get_json_body() or {}
    snap = workspace().autosnap.take_now(project_id, str(body.get("message") or "manual snapshot"))
    return jsonify({"version": snap.commit, "changed": snap.changed, "skipped": snap.skipped})


def trash(project_id: str) -> Response:
    """Files deleted through the contents API, newest first."""
    items = workspace().contents(project_id).trash.list()
    return jsonify([{**i, "deleted": _iso(i["deleted"])} for i in items])


def untrash(project_id: str, trash_id: str) -> Response:
    """Restore a deleted file (body ``{"path"}`` optional to restore elsewhere)."""
    body = get_json_body() or {}
    cm = workspace().contents(project_id)
    path = cm.trash.restore(trash_id, body.get("path"))
    return jsonify(cm.get(path, content=False))


_P = "/api/projects/<project_id>"
ROUTES = [
    ("/api/projects", list_projects, ["GET"]),
    ("/api/projects", create_project, ["POST"]),
    ("/api/projects/jobs/<job_id>", get_job, ["GET"]),
    (_P, get_project, ["GET"]),
    (_P, patch_project, ["PATCH"]),
    (_P, delete_project, ["DELETE"]),
    (f"{_P}/restore", restore_project, ["POST"]),
    (f"{_P}/events", events, ["GET"]),
    (f"{_P}/versions", versions, ["GET"]),
    (f"{_P}/versions/<version>", version_content, ["GET"]),
    (f"{_P}/versions/<version>/restore", restore_version, ["POST"]),
    (f"{_P}/diff", diff, ["GET"]),
    (f"{_P}/snapshots", take_snapshot, ["POST"]),
    (f"{_P}/trash", trash, ["GET"]),
    (f"{_P}/trash/<trash_id>/restore", untrash, ["POST"]),
]
for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
