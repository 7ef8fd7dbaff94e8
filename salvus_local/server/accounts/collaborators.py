"""A project's collaborators: ``/api/projects/<id>/collaborators[/<username>]`` (roles editor, viewer).

Who may call these (any member reads, the owner changes) is decided by the policy before the view.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from salvus_local.server.errors import get_json_body

from .me import accounts

bp = Blueprint("accounts_collaborators", __name__)
_P = "/api/projects/<project_id>/collaborators"


def _project(project_id: str) -> None:
    from salvus_local.server.projects.workspace import workspace

    workspace().projects.get(project_id)  # 404 when it does not exist


def list_collaborators(project_id: str) -> Response:
    """``{collaborators: [{name, display_name, role}]}``, the owner first."""
    _project(project_id)
    return jsonify({"collaborators": accounts().members.list(project_id)})


def put_collaborator(project_id: str, username: str) -> Response:
    """``{role: editor|viewer}``: add a collaborator or change their role."""
    _project(project_id)
    body = get_json_body(required=True) or {}
    acc = accounts()
    acc.members.put(project_id, acc.users.get(username), body.get("role"))
    return jsonify({"collaborators": acc.members.list(project_id)})


def delete_collaborator(project_id: str, username: str) -> tuple[str, int]:
    """Take a collaborator off the project."""
    _project(project_id)
    acc = accounts()
    acc.members.remove(project_id, acc.users.get(username))
    return "", 204


bp.add_url_rule(_P, view_func=list_collaborators, methods=["GET"])
bp.add_url_rule(f"{_P}/<username>", view_func=put_collaborator, methods=["PUT"])
bp.add_url_rule(f"{_P}/<username>", view_func=delete_collaborator, methods=["DELETE"])
