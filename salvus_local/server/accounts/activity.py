"""Teachers' view of who is online and what runs: ``GET /api/admin/activity`` (CPU and memory via psutil)."""

from __future__ import annotations

import os
import threading
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from .me import accounts, auth

bp = Blueprint("accounts_activity", __name__)
_procs: dict[int, Any] = {}  # pid → psutil.Process: cpu_percent needs the same object between calls
_procs_lock = threading.Lock()


def _usage(pid: int | None) -> tuple[float | None, float | None]:
    """(CPU percent since the last call, resident MB) of a kernel's process and its children."""
    if not pid:
        return None, None
    import psutil

    with _procs_lock:
        try:
            proc = _procs.get(pid)
            if proc is None or not proc.is_running():
                proc = _procs[pid] = psutil.Process(pid)
            family = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            _procs.pop(pid, None)
            return None, None
    cpu = rss = 0.0
    for p in family:
        try:
            cpu += p.cpu_percent(interval=None)
            rss += p.memory_info().rss
        except psutil.Error:
            continue
    return round(cpu, 1), round(rss / 2**20, 1)


def _inside(a: Any, project_id: str, cwd: str) -> str:
    """The kernel's folder relative to its project ("" for the top): no server path goes to the browser."""
    try:
        rel = os.path.relpath(os.path.realpath(cwd), os.path.realpath(a.workspace.projects.root(project_id)))
    except Exception:  # the project is gone or unknown: say nothing rather than the absolute path
        return ""
    return "" if rel == "." or rel.startswith("..") else rel.replace(os.sep, "/")


def activity() -> Response:
    """``{users: [{name, display_name, online, sessions: [{kernel_id, project_id, path, cpu_percent, rss_mb, started}]}]}``.

    ``path`` is the kernel's folder relative to its project ("" for the project's top folder).
    """
    acc, a = accounts(), auth()
    kernels = current_app.extensions["salvus"].kernels
    by_user: dict[int, list[dict[str, Any]]] = {}
    first_admin = acc.first_admin_id()
    for kernel_id in list(kernels._kernels):
        kernel = kernels._kernels.get(kernel_id)
        if kernel is None:
            continue
        cpu, rss = _usage(kernel.pid)
        owner = a.kernel_users.get(kernel_id, first_admin)  # kernels started by the console token: the admin's
        project_id = kernels.project_of(kernel_id)
        by_user.setdefault(owner, []).append({
            "kernel_id": kernel_id, "project_id": project_id, "path": _inside(a, project_id, kernel.cwd),
            "name": kernel.name, "execution_state": kernel.execution_state, "cpu_percent": cpu, "rss_mb": rss,
            "started": a.kernel_started.get(kernel_id)})
    online = acc.sessions.online()
    users = [{"name": u["name"], "display_name": u["display_name"] or u["name"], "role": u["role"],
              "online": u["id"] in online, "sessions": by_user.get(u["id"], [])} for u in acc.users.list()]
    return jsonify({"users": users})


bp.add_url_rule("/api/admin/activity", view_func=activity, methods=["GET"])
