"""``POST /api/v1/execute`` (JSON) and SageCell's ``POST /service`` (form field ``code``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from .. import services
from ..access import project_role
from ..errors import APIError, get_json_body
from .collect import Collector

bp = Blueprint("compute_api", __name__)
MAX_CODE = 1_000_000  # characters; SageCell allows 65,000


def _field(body: dict[str, Any], name: str, kinds: tuple[type, ...], what: str) -> Any:
    """Return body[name] when absent or of the right type; else a 400 naming the field."""
    value = body.get(name)
    if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
        raise APIError(400, f"'{name}' must be {what}, not {type(value).__name__}")
    return value


def run(code: Any, kernel: str | None, timeout: Any, session: str | None) -> Collector:
    """Check the fields, apply the anonymous policy, and run the code."""
    s = services()
    if not isinstance(code, str) or not code.strip():
        raise APIError(400, "'code' is required: give the code to run as a non-empty string")
    if len(code) > MAX_CODE:
        raise APIError(400, f"'code' is too long ({len(code)} characters; at most {MAX_CODE})")
    if timeout is not None and not 0 < timeout <= s.config.cpu_limit:
        raise APIError(400, f"'timeout' must be a number of seconds in (0, {s.config.cpu_limit}], not {timeout}")
    anonymous = bool(g.get("public"))
    if anonymous:
        if session is not None:
            raise APIError(403, "'session' needs the server's token; anonymous runs use a fresh session each")
        wait = s.embed.wait_time(request)
        if wait:
            raise APIError(429, f"Too many runs from this address: try again in {wait:.0f} s",
                           retry_after=round(wait, 1))
    seconds = float(timeout) if timeout is not None else float(s.config.execute_timeout)
    if anonymous:
        seconds = min(seconds, float(s.config.embed_timeout))  # tight limits for anonymous callers
    if session is not None:
        if kernel is not None:
            raise APIError(400, "'kernel' and 'session' exclude each other: a session already has its kernel")
        project_role(s.kernels.project_of(s.kernels.get(session).id), "editor")  # 404 first for unknown kernels
        return s.runner.run_in_kernel(session, code, seconds)
    kind = s.runner.kind(kernel)
    if anonymous:
        return s.runner.run_anonymous(code, kind, seconds, s.anonymous_uids)  # a uid no other live session has
    return s.runner.run_fresh(code, kind, seconds, ids=requester_ids())


def requester_ids() -> tuple[int, int] | None:
    """(uid, gid) of the requester's home project (single-user: the default project); None when not root."""
    s = services()
    if s.kernels.uid is None:
        return None
    project = project_role("default", "editor")  # multi-user: the signed-in user's home project
    return s.runner.ids_for(project)


@bp.post("/api/v1/execute")
def execute() -> Response:
    """Run ``{code, kernel?, timeout?, session?}``; answer ``{status, stdout, stderr, result, displays, error?}``."""
    body = get_json_body(required=True) or {}
    unknown = sorted(set(body) - {"code", "kernel", "timeout", "session"})
    if unknown:
        raise APIError(400, f"Unknown field {unknown[0]!r}: use code, kernel, timeout and session")
    collector = run(body.get("code"), _field(body, "kernel", (str,), "a string"),
                    _field(body, "timeout", (int, float), "a number of seconds"),
                    _field(body, "session", (str,), "a kernel id (a string)"))
    return jsonify(collector.as_json())


@bp.post("/service")
def service() -> Response:
    """SageCell's one-shot service: form ``code=…`` → ``{success, stdout, execute_reply}``."""
    code = "".join(request.values.getlist("code"))  # form body or query, as SageCell reads it
    collector = run(code, None, None, None)
    return jsonify(collector.as_sagecell())
