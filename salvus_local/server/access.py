"""Project-role checks for routes that name their project in the body or a query, not in the URL.

``server/auth.py`` authorizes ``/p/<id>/…`` URLs before the view; shares, export and the compute
API's ``session`` name a project (or a kernel) in JSON, so their views call :func:`project_role`.
Single-user mode: everything is allowed, ``default`` stays ``default``.
"""

from __future__ import annotations

from flask import g

from . import services
from .errors import APIError


def project_role(project_id: str, needed: str) -> str:
    """Return the project id to use ("default" → the user's home); 404/403 unless the requester has ``needed``.

    ``needed`` is "viewer", "editor" or "owner".  Unknown projects and projects without a role
    look alike (404), as in auth's own check.
    """
    auth = services().auth
    if not getattr(auth, "multi_user", False):
        return project_id
    from salvus_local.accounts.members import at_least

    identity = g.get("identity")
    user = getattr(identity, "user", None)
    if not user:
        raise APIError(403, "Sign in first")
    if project_id == "default":
        project_id = auth.home_project(user)
    role = auth.accounts.members.role(user, project_id)
    if role is None:
        raise APIError(404, f"No such project: {project_id}")
    if not at_least(role, needed):
        raise APIError(403, f"This needs the {needed} role in project {project_id}; you are {role}")
    return project_id
