"""JSON errors in jupyter_server's shape: ``{"message": ..., "reason": ...}``.

Handlers and managers raise :class:`APIError`; anything else that escapes a view is logged
with its traceback here and answered with a bare 500 that leaks neither code nor paths.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("salvus_local.server")
_MISSING = object()


class APIError(Exception):
    """An error answered as JSON with an HTTP status (raise it from handlers and managers)."""

    def __init__(self, status: int, message: str, reason: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.extra = extra


def json_error(status: int, message: str, reason: str | None = None, **extra: Any) -> Response:
    """Build a JSON error response."""
    response = jsonify({"message": message, "reason": reason, **extra})
    response.status_code = status
    return response


def is_api_path(path: str) -> bool:
    """Tell whether a URL path is part of a JSON API (``/api/...`` or ``/p/<project>/api/...``)."""
    parts = path.split("/")
    # /git/...: sync's git smart HTTP answers like an API (JSON 403), never with a login redirect.
    return (len(parts) > 1 and parts[1] in ("api", "git")) or (len(parts) > 3 and parts[1] == "p" and parts[3] == "api")


MAX_JSON_DEPTH = 100  # nesting levels a request body may have (notebooks need about 10)


def json_depth(value: Any) -> int:
    """How deeply a parsed JSON value nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def is_json_type(content_type: str | None) -> bool:
    """True for application/json and application/*+json (with any parameters)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def check_json_content_type() -> None:
    """Refuse a body that is not declared JSON (400; with cookies, auth has already answered 415 to forms)."""
    # A browser sends text/plain and form bodies across sites without asking first; JSON it never does.
    content_type = request.headers.get("Content-Type")
    if not content_type:
        raise APIError(400, "The request body has no Content-Type: send it as application/json")
    if not is_json_type(content_type):
        raise APIError(400, f"The request body must be JSON, not {content_type.split(';')[0]!r}: send it with "
                            "Content-Type: application/json", "unsupported media type")


def get_json_body(required: bool = False) -> dict[str, Any] | None:
    """Return the request's JSON object body, None when empty, or raise a 400 that says what to fix."""
    cached = getattr(g, "_salvus_json_body", _MISSING)
    if cached is not _MISSING:
        if cached is None and required:
            raise APIError(400, "No JSON data provided: send a JSON object as the request body")
        return cached
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise APIError(400, "No JSON data provided: send a JSON object as the request body")
        return None
    check_json_content_type()
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise APIError(400, "Malformed request body: it is not UTF-8 text; send a UTF-8 JSON object") from None
    except RecursionError:
        raise APIError(400, f"The JSON body nests too deeply: at most {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise APIError(400, f"Malformed JSON in request body ({exc}): send a JSON object such as "
                            '{"name": "python3"}') from None
    if not isinstance(body, dict):
        raise APIError(400, f"The request body must be a JSON object, not {type(body).__name__}")
    if json_depth(body) > MAX_JSON_DEPTH:
        raise APIError(400, f"The JSON body nests too deeply: at most {MAX_JSON_DEPTH} levels")
    g._salvus_json_body = body
    return body


def _on_api_error(exc: APIError) -> Response:
    """Answer an APIError."""
    return json_error(exc.status, exc.message, exc.reason, **exc.extra)


def _on_http_exception(exc: HTTPException) -> Response | HTTPException:
    """Answer werkzeug's HTTP errors as JSON under /api, as werkzeug's page elsewhere."""
    if not is_api_path(request.path):
        return exc
    messages = {
        404: f"Not found: no API endpoint at {request.path}",
        405: f"Method {request.method} is not allowed on {request.path}",
    }
    response = json_error(exc.code or 500, messages.get(exc.code or 0, exc.description or exc.name), exc.name)
    if exc.code == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def _on_unexpected(exc: Exception) -> Response:
    """Log the traceback server-side; the client only learns that something failed."""
    # The path only: the query string may carry a token.
    log.error("Unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return json_error(500, "Internal server error", None)


def init_app(app: Flask) -> None:
    """Register the JSON error handlers."""
    app.register_error_handler(APIError, _on_api_error)
    app.register_error_handler(HTTPException, _on_http_exception)
    app.register_error_handler(Exception, _on_unexpected)
