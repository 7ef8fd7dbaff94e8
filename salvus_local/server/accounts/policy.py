"""Who may do what, in multi-user mode: checked once per request by ``server/auth.py`` before any view.

The project a request is about comes from its URL (``/p/<id>/...``, ``/api/projects/<id>/...``, or
``?project=`` of /api/search and /api/history), after the identity middleware mapped default-project
URLs to the user's home project.  A user without a role in it gets the same 404 as for a project
that does not exist.  Viewers may read (GET), not write, start kernels or open websockets.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, g, redirect, request

from salvus_local.accounts.members import RANK, at_least
from salvus_local.server.errors import is_api_path, json_error

from .identity import Identity

# Any signed-in user reaches these, even while pending approval or before a forced password change.
ALWAYS = ("/api/me",)
PASSWORD_CHANGE = ("/api/me/password", "/change-password")
# The /teacher and /join pages render for anyone (static client pages); the API they call is what refuses.
STAFF_PREFIXES = ("/api/users", "/api/admin/", "/api/join")
STAFF_ROLES = ("admin", "teacher")
# Routes only a project's owner (or an admin) may use, with their methods.
_OWNER_ONLY = [
    (re.compile(r"^/api/projects/[^/]+/?$"), {"PATCH", "DELETE"}),
    (re.compile(r"^/api/projects/[^/]+/restore$"), {"POST"}),
    (re.compile(r"^/api/projects/[^/]+/collaborators/[^/]+$"), {"PUT", "DELETE"}),
]
_KERNEL_STARTS = re.compile(r"^(?:/p/[^/]+)?/api/(?:kernels|sessions)/?$")
_KERNEL_ASKED = re.compile(r"^/api/kernels/([^/]+)")  # a kernel URL the identity middleware mapped
_KERNEL_DELETE = re.compile(r"^/p/[^/]+/api/kernels/[^/]+$")
_COLLAB_ROOM = re.compile(r"^/p/[^/]+/api/collab/rooms/")  # viewers may join a room: their updates are dropped
# git fetch POSTs its wants to upload-pack: reading, so viewers may (server/git checks the role; push needs editor).
_GIT_FETCH = re.compile(r"^/git/[^/]+/[^/]+\.git/git-upload-pack$")
_SYNC_ALLOWED = re.compile(r"^/(?:git/.*|api/me|api/projects|api/sync/projects|api/sync/token)$")
# Routes where a viewer may also write and open websockets. Chat (server/chat): talking about a project changes
# none of its files, and a viewer (a student reading the teacher's notebook) is who most needs to ask.
VIEWER_WRITES = [re.compile(r"^/p/[^/]+/api/chat(?:/.*)?$")]
VIEWER_REFUSAL = ("You are a viewer of this project: you can read its files and outputs, but not change files, "
                  "run code or open terminals. Ask its owner to make you an editor.")


def _page_or_api(message: str, reason: str, page: str) -> Response:
    """A 403 JSON answer for API calls and websockets; a redirect to ``page`` for a page."""
    if is_api_path(request.path) or request.method not in ("GET", "HEAD") or _websocket():
        return json_error(403, message, reason)
    from ..auth import requested_url  # the path arrives decoded: encode it again, once

    return redirect(f"{request.script_root}{page}?next={quote(requested_url(), safe='')}")


def _websocket() -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def project_of_request() -> str | None:
    """The project id a request is about, or None."""
    args = request.view_args or {}
    pid = args.get("project_id") or args.get("project")
    if pid is None and request.path in ("/api/search", "/api/history"):
        pid = request.args.get("project") or None
    if pid is None and request.path.startswith("/api/projects/") and request.path != "/api/projects/":
        pid = None  # /api/projects/jobs/<id>: not a project
    return pid


def needed_role() -> str:
    """The least project role this request needs."""
    for rule, methods in _OWNER_ONLY:
        if request.method in methods and rule.match(request.path):
            return "owner"
    if _websocket() and _COLLAB_ROOM.match(request.path):
        return "viewer"
    if any(rule.match(request.path) for rule in VIEWER_WRITES) or _GIT_FETCH.match(request.path):
        return "viewer"
    if _websocket() or request.method not in ("GET", "HEAD", "OPTIONS"):
        return "editor"
    return "viewer"


def authorize(auth: Any, identity: Identity) -> Response | None:
    """Answer the request with a refusal, or None to let it through."""
    user = identity.user or {}
    path = request.path
    if identity.method == "apitoken" and identity.scope == "sync" and not _SYNC_ALLOWED.match(path):
        return json_error(403, "This token's scope is sync: it may only push and pull projects (git) "
                               "and read /api/me and /api/projects. Make an api token for this.", "scope")
    if path in ALWAYS:
        return None
    if user.get("status") != "active":
        return _page_or_api("Your account waits for a teacher's approval; try again once they approved it.",
                            "pending", "/signup")
    if user.get("must_change_password"):
        if path in PASSWORD_CHANGE:
            return None
        return _page_or_api("Choose a new password first (POST /api/me/password).", "must_change_password",
                            "/change-password")
    if identity.home_error:
        return json_error(503, f"Your home project could not be opened: {identity.home_error}", "home")
    if path.startswith(STAFF_PREFIXES) and user.get("role") not in STAFF_ROLES:
        return json_error(403, "Only teachers and admins may do this", "role")
    project_id = project_of_request()
    if project_id is not None:
        refusal = _project_refusal(auth, user, project_id)
        if refusal is not None:
            kernel = _KERNEL_ASKED.match(identity.rewritten_from or "")
            if kernel and refusal.status_code == 404:  # someone else's kernel: as if it did not exist
                return json_error(404, f"Kernel does not exist: {kernel.group(1)}")
            return refusal
    return _kernel_limit(auth, user)


def _project_refusal(auth: Any, user: dict[str, Any], project_id: str) -> Response | None:
    """404 when user has no role in the project (as if it did not exist); 403 when the role is too low."""
    role = auth.accounts.members.role(user, project_id)
    needed = needed_role()
    if role is None and user.get("role") == "teacher" and request.method == "DELETE" and _KERNEL_DELETE.match(
            request.path):
        owner = auth.accounts.users.by_id(auth.accounts.members.owner_id(project_id) or -1)
        if owner is not None and owner["role"] == "student":
            return None  # a teacher stops a student's session from the activity page
    if role is None:
        return json_error(404, f"No such project: {project_id}", "Not Found")
    g.project_role = role  # handlers that serve viewers and editors differently (collab rooms) read it
    if not at_least(role, needed):
        if needed == "owner":
            return json_error(403, "Only the project's owner may do this", "role")
        return json_error(403, VIEWER_REFUSAL, "viewer")
    return None


def _kernel_limit(auth: Any, user: dict[str, Any]) -> Response | None:
    """429 when a non-admin already runs ``max_kernels_per_user`` sessions and asks for another."""
    limit = int(getattr(auth.config, "max_kernels_per_user", 0) or 0)
    if limit <= 0 or user.get("role") == "admin" or request.method != "POST":
        return None
    if not _KERNEL_STARTS.match(request.path):
        return None
    running = running_kernels_of(auth, user["id"])
    if running >= limit:
        return json_error(429, f"You already run {running} sessions, the most one person may run at once; "
                               "stop one (Kernel → Shut down) first.", "session limit")
    return None


def running_kernels_of(auth: Any, user_id: int) -> int:
    """How many live kernels user_id started (forgetting kernels that are gone)."""
    kernels = current_app.extensions["salvus"].kernels
    for kernel_id in list(auth.kernel_users):
        if kernel_id not in kernels:
            auth.kernel_users.pop(kernel_id, None)
            auth.kernel_started.pop(kernel_id, None)
    return sum(1 for uid in list(auth.kernel_users.values()) if uid == user_id)


def record_kernel_owner(response: Response) -> Response:
    """after_request: remember who started a kernel (for the per-user limit and the activity page)."""
    auth = current_app.extensions["salvus"].auth
    identity = g.get("identity")
    if (auth.multi_user and request.method == "POST" and response.status_code == 201 and identity is not None
            and identity.user and _KERNEL_STARTS.match(request.path)):
        data = response.get_json(silent=True) or {}
        kernel_id = (data.get("kernel") or {}).get("id") if "kernel" in data else data.get("id")
        if isinstance(kernel_id, str) and kernel_id not in auth.kernel_users:
            auth.kernel_users[kernel_id] = identity.user["id"]
            auth.kernel_started[kernel_id] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return response


__all__ = ["RANK", "authorize", "needed_role", "project_of_request", "record_kernel_owner", "running_kernels_of"]
