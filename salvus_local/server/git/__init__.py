"""The hub side of sync: git smart HTTP per project at ``/git/<owner>/<project>.git``.

Auth is the app's own (``server/auth.py`` runs first: API tokens of scope ``sync`` or ``api``, the
server token, a login cookie); here we only map the URL to a project and a role: fetching needs
viewer, pushing needs editor (404 for a project the caller may not see, 403 for too small a role).
Before any git request, the hub's own edits made in its browser UI are committed (the same first
step as a laptop's sync), so clients fetch them; a push is then merged into the hub's work tree by
the laptops' rules (``salvus_sync.hub``), edits made meanwhile included.  A push by its owner to an
unknown project name creates the project (``create_on_push``).  ``backend.py`` runs ``git
http-backend``; ``device.py`` serves ``sync login``'s device sign-in.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request

from salvus_local.server import services
from salvus_local.server.access import project_role
from salvus_local.server.errors import APIError

from .backend import run_backend

log = logging.getLogger("salvus_local.server")
bp = Blueprint("git", __name__)
SERVICES = {"git-upload-pack": "viewer", "git-receive-pack": "editor"}


# <name>, not <project>: auth's per-project check (which reads <project>) must not answer 404 before a
# push to a new name can create it; project_role below does the same check afterwards.
@bp.route("/git/<owner>/<name>.git/<path:rest>", methods=["GET", "POST"])
def smart_http(owner: str, name: str, rest: str) -> Response:
    """One request of git's smart HTTP protocol (info/refs, git-upload-pack, git-receive-pack)."""
    project = name
    from salvus_sync.hub import HubRepo

    service = request.args.get("service", "") if rest == "info/refs" else rest
    if service not in SERVICES or (rest == "info/refs") != (request.method == "GET"):
        raise APIError(404, "Only git's smart HTTP protocol is served here (git fetch, git push)")
    if service == "git-receive-pack":
        create_on_push(owner, project)
    project_id = project_role(project, SERVICES[service])
    auth = services().auth
    user = getattr(g.get("identity"), "user", None) or {}
    if getattr(auth, "multi_user", False):
        owner_row = auth.accounts.users.find(owner)
        if owner_row is None or auth.accounts.members.role(owner_row, project_id) not in ("owner", "admin"):
            raise APIError(404, f"No such project: {owner}/{project}")
    root = services().workspace.projects.root(project_id)
    hub = HubRepo(root, max_file_mb=getattr(services().config, "sync_max_file_mb", 100))
    receiving = rest == "git-receive-pack"  # the request that carries the pack: held under the sync lock
    on_done = None
    if receiving:
        hub.before_push()
        projects = services().workspace.projects  # on_done runs after the view, outside the app context

        def on_done() -> None:
            try:
                hub.after_push()
                _title_from_push(projects, project_id, root)
            except Exception:  # logged; the next git request finishes the integration (sync.json says so)
                log.exception("could not merge a push into the hub's copy of %s", project_id)
    else:  # a fetch sees the hub's edits (committed as it starts); a push's leaves them to be merged into it
        hub.before_request(commit=service == "git-upload-pack" and rest == "info/refs")
    try:
        status, headers, body = run_backend(root, rest, request.environ, user.get("name", ""), request.stream,
                                            on_done)
    except BaseException:
        if on_done is not None:
            on_done()
        raise
    response = Response(body, status=status, headers=headers, direct_passthrough=True)
    response.headers["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    return response


def create_on_push(owner: str, project: str) -> None:
    """A push by its owner to a project name the hub does not know creates that project (as GitLab does).

    Why here and not an explicit "create" call: any git client (plain ``git push``, not only
    ``salvus-local sync``) can then publish a project, and the project keeps the laptop's id in
    its URL, so both copies agree on it.  Only the account named in the URL, and only for an
    unused, valid id; a fetch never creates anything (it answers 404).
    """
    from salvus_local.store.errors import NotFound
    from salvus_local.store.projects import DEFAULT_ID, ID_RE

    auth = services().auth
    identity = g.get("identity")
    user = getattr(identity, "user", None)
    if not getattr(auth, "multi_user", False) or not user or user["name"] != owner or not identity.active:
        return
    if project == DEFAULT_ID or not ID_RE.match(project):
        return
    projects = services().workspace.projects
    with _create_lock:
        try:
            projects.get(project, include_deleted=True)
            return  # it exists (maybe someone else's, or in the trash): the usual checks answer
        except NotFound:
            pass
        row = projects.create(project, project_id=project)
        auth.accounts.members.set_owner(row["id"], user["id"])
    # The pushed .salvus/project.json (the laptop's id and title) is the one to keep: remove the
    # uncommitted one made here, or the first push would meet it as a conflicting file.
    (Path(row["path"]) / ".salvus" / "project.json").unlink(missing_ok=True)


def _title_from_push(projects: Any, project_id: str, root: Path) -> None:
    """A project created by a push takes the title its pushed .salvus/project.json gives."""
    from salvus_sync.hub import project_meta

    try:
        row = projects.get(project_id)
        title = project_meta(root).get("title")
        if row["title"] == project_id and isinstance(title, str) and title.strip() and title != row["title"]:
            projects.update(project_id, title=title)
    except Exception:  # the title is a courtesy: never fail a push over it
        log.exception("could not take the title of pushed project %s", project_id)


_create_lock = threading.Lock()  # two first pushes of one name at once: one creates, the other finds it


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


@bp.get("/sync/device")
def approve_page() -> Response:
    """The page where a signed-in user approves a laptop's `salvus-local sync login` (?code=USER-CODE)."""
    from salvus_local.server.pages import render_page

    return render_page("syncdevice", "Approve a device")


def init_app(app: Flask) -> None:
    """Serve /git/<owner>/<project>.git, /api/sync/projects, and the device sign-in (device.py)."""
    from . import device

    app.register_blueprint(bp)
    device.init_app(app)
