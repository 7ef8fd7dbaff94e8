"""The hub side of sync: git smart HTTP per project at ``/git/<owner>/<project>.git``.

Auth is the app's own (``server/auth.py`` runs first: API tokens of scope ``sync`` or ``api``, the
server token, a login cookie); here we only map the URL to a project and a role: fetching needs
viewer, pushing needs editor (404 for a project the caller may not see, 403 for too small a role).
Before any git request, the hub's own edits made in its browser UI are committed (the same first
step as a laptop's sync), so clients fetch them and a push meets a clean work tree; the push then
updates the hub's work tree (``updateInstead``).  ``backend.py`` runs ``git http-backend``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, jsonify, request

from salvus_local.server import services
from salvus_local.server.access import project_role
from salvus_local.server.errors import APIError

from .backend import run_backend

bp = Blueprint("git", __name__)
SERVICES = {"git-upload-pack": "viewer", "git-receive-pack": "editor"}
HUB_MACHINE = "hub"


def _commit_hub_work(root: object) -> None:
    """Commit edits made on the hub (its UI, its kernels) before git serves the project."""
    from salvus_sync import Syncer
    from salvus_sync.state import sync_lock

    syncer = Syncer(root, HUB_MACHINE, author="salvus-local hub <hub@salvus.local>")
    with sync_lock(syncer.dir):
        syncer.git.clear_stale_locks()
        syncer.commit_local_work()


@bp.route("/git/<owner>/<project>.git/<path:rest>", methods=["GET", "POST"])
def smart_http(owner: str, project: str, rest: str) -> Response:
    """One request of git's smart HTTP protocol (info/refs, git-upload-pack, git-receive-pack)."""
    service = request.args.get("service", "") if rest == "info/refs" else rest
    if service not in SERVICES or (rest == "info/refs") != (request.method == "GET"):
        raise APIError(404, "Only git's smart HTTP protocol is served here (git fetch, git push)")
    project_id = project_role(project, SERVICES[service])
    auth = services().auth
    user = getattr(g.get("identity"), "user", None) or {}
    if getattr(auth, "multi_user", False):
        owner_row = auth.accounts.users.find(owner)
        if owner_row is None or auth.accounts.members.role(owner_row, project_id) not in ("owner", "admin"):
            raise APIError(404, f"No such project: {owner}/{project}")
    root = services().workspace.projects.root(project_id)
    _commit_hub_work(root)
    status, headers, body = run_backend(root, rest, request.environ, user.get("name", ""), request.stream)
    response = Response(body, status=status, headers=headers, direct_passthrough=True)
    response.headers["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    return response


@bp.get("/api/sync/projects")
def sync_projects() -> Response:
    """The caller's projects with their git URLs: [{id, title, owner, role, git_url, updated (epoch s or null)}]."""
    from salvus_local.server.accounts import projects_access

    rows = projects_access.annotate(services().workspace.projects.list(archived=True))
    base = request.host_url.rstrip("/") + request.script_root
    out = []
    for row in rows:
        owner = row.get("owner") or "local"
        out.append({"id": row["id"], "title": row["title"], "owner": owner, "role": row.get("role", "owner"),
                    "git_url": f"{base}/git/{owner}/{row['id']}.git", "updated": _last_commit(row["path"])})
    return jsonify(out)


def _last_commit(path: str) -> int | None:
    """Commit time of the project's HEAD (epoch seconds), or None before its first commit."""
    from salvus_sync.git import Git  # as the project's owner, like every git we run on a project

    proc = Git(path).run("log", "-1", "--format=%ct", check=False, timeout=30)
    text = proc.stdout.decode().strip()
    return int(text) if proc.returncode == 0 and text.isdigit() else None


def init_app(app: Flask) -> None:
    """Serve /git/<owner>/<project>.git and /api/sync/projects."""
    app.register_blueprint(bp)
