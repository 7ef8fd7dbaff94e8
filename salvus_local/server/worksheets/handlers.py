"""POST /api/worksheets/import {"path": "dir/old.sws"} → 201 with the new notebook's model.

The worksheet is read through the project's contents manager (so path checks apply) and the
notebook is written beside it with the manager's atomic write (so snapshots and change events
see it). A worksheet that cannot be read is a 400 saying why; nothing is written then.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from salvus_local.server.errors import APIError, get_json_body
from salvus_local.store.owner import as_owner
from salvus_local.server.projects.workspace import workspace
from salvus_local.worksheets import WorksheetError, convert, is_worksheet, notebook_bytes, target_path

bp = Blueprint("worksheets", __name__)

MAX_SIZE = 256 * 1024 * 1024


def import_view(project_id: str | None = None) -> Response:
    """Convert the worksheet at body.path into an .ipynb beside it."""
    body = get_json_body(required=True) or {}
    path = body.get("path")
    if not isinstance(path, str) or not path.strip("/"):
        raise APIError(400, 'Send {"path": "folder/worksheet.sws"}: the worksheet to import')
    path = path.strip("/")
    if not is_worksheet(path):
        raise APIError(400, f"{path}: only .sws and .sagews worksheets can be imported")
    cm = workspace().contents(project_id)
    src = cm.os_path(path)
    if not src.is_file():
        raise APIError(404, f"No such worksheet: {path}")
    if src.stat().st_size > MAX_SIZE:
        raise APIError(413, f"{path} is larger than {MAX_SIZE // 2**20} MB")
    try:
        with as_owner(cm.root):  # a session may have replaced the file by a link: never read it as root
            nb = convert(src.read_bytes(), src.name, src.parent)
    except WorksheetError as exc:
        raise APIError(400, f"{path}: {exc}; nothing was written", reason="bad worksheet") from None
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    target = f"{folder}/{target_path(src).name}" if folder else target_path(src).name
    cm.write_bytes(target, notebook_bytes(nb))
    response = jsonify(cm.get(target, content=False))
    response.status_code = 201
    return response


# Route table: the default project and every /p/<project_id>/.
for prefix in ("", "/p/<project_id>"):
    bp.add_url_rule(prefix + "/api/worksheets/import", view_func=import_view, methods=["POST"])
