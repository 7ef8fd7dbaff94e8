"""The REST API's OpenAPI document (``api.yaml``), served at ``/api/openapi.json``, and request validation.

Before any handler runs (after auth), the request is matched to its operation in the document by
Flask's URL rule: query parameters are parsed and checked against their schemas, and a JSON body
against the operation's request body schema (JSON Schema 2020-12, with jsonschema).  A mismatch
is a 400 naming the field and what is wrong, so handlers only ever see well-formed input.  Paths
marked ``x-per-project`` exist a second time under ``/p/{project_id}``; the loader adds them.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from salvus_local.server.errors import APIError, get_json_body, is_api_path

DOCUMENT = Path(__file__).with_name("api.yaml")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_MAX_MESSAGE = 300


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The OpenAPI document, with the per-project copies of paths added."""
    import yaml

    doc = yaml.safe_load(DOCUMENT.read_text("utf-8"))
    project_param = {"$ref": "#/components/parameters/project_id"}
    for path, item in list(doc["paths"].items()):
        if item.get("x-per-project"):
            copied = copy.deepcopy(item)
            copied["parameters"] = [project_param, *copied.get("parameters", [])]
            doc["paths"][f"/p/{{project_id}}{path}"] = copied
    return doc


def _inline(node: Any, doc: dict[str, Any]) -> Any:
    """Replace every local ``$ref`` by what it points at (the document has no recursive schemas)."""
    if isinstance(node, dict):
        if "$ref" in node and isinstance(node["$ref"], str) and node["$ref"].startswith("#/"):
            target: Any = doc
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            return _inline(target, doc)
        return {k: _inline(v, doc) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, doc) for v in node]
    return node


class Operation:
    """What the validator needs of one operation: its query parameters and its body schema."""

    def __init__(self, path_item: dict[str, Any], op: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator

        params = [*path_item.get("parameters", []), *op.get("parameters", [])]
        self.query = [(p["name"], bool(p.get("required")), p.get("schema", {}), Draft202012Validator(p.get("schema", {})))
                      for p in params if p.get("in") == "query"]
        body = op.get("requestBody")
        schema = ((body or {}).get("content", {}).get("application/json", {}) or {}).get("schema")
        self.body_required = bool((body or {}).get("required"))
        self.other_media = {m for m in (body or {}).get("content", {}) if m != "application/json"}
        self.body = Draft202012Validator(schema) if schema is not None else None


@functools.lru_cache(maxsize=1)
def operations() -> dict[tuple[str, str], Operation]:
    """(path template, METHOD) → Operation, for every operation in the document."""
    doc = document()
    out = {}
    for path, item in doc["paths"].items():
        item = _inline(item, doc)
        for method, op in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                out[(path, method.upper())] = Operation(item, op)
    return out


def template(rule: str) -> str:
    """Flask's rule → the document's path: ``/api/contents/<path:path>`` → ``/api/contents/{path}``."""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)
    return path[:-1] if path.endswith("/") and len(path) > 1 else path


_JSON_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "object": "an object", "array": "an array", "null": "null"}


def _message(error: Any, where: str) -> str:
    """A message that names the field and says what it must be."""
    location = "/".join(str(p) for p in error.absolute_path)
    field = f"'{location}'" if location else f"The {where}"
    value, kind = error.instance, error.validator
    if kind == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return (f"{field} must be {' or '.join(_JSON_NAMES.get(k, k) for k in kinds)}, "
                f"not {type(value).__name__} ({where})")
    if kind == "maxLength":
        return f"{field} is too long: at most {error.validator_value} characters ({where})"
    if kind == "enum":
        choices = ", ".join(repr(c) if c else "null" if c is None else "''" for c in error.validator_value)
        if where.startswith("query parameter"):  # jupyter_server's wording: "Type 'bogus' is invalid"
            return f"{where.split()[-1].capitalize()} {value!r} is invalid: use one of {choices}"
        return f"{field} must be one of: {choices} ({where})"
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return f"'{missing}' is required ({where})"
    text = error.message if len(error.message) <= _MAX_MESSAGE else error.message[:_MAX_MESSAGE] + "…"
    return f"Invalid {where}{' at ' + location if location else ''}: {text}"


def _query_value(raw: str, schema: dict[str, Any], name: str) -> Any:
    """Parse a query string value into its schema's type (integer, number, boolean), or 400."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    try:
        if "integer" in kinds:
            return int(raw)
        if "number" in kinds:
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(raw)
            return value
    except ValueError:
        raise APIError(400, f"Query parameter {name} must be a {kinds[0]}, not {raw[:50]!r}") from None
    return raw


def validate_request() -> None:
    """Check the query and JSON body of an API request against its operation (before_request)."""
    rule = request.url_rule
    if rule is None or not is_api_path(request.path):
        return
    op = operations().get((template(rule.rule), request.method))
    if op is None:
        return
    for name, required, schema, validator in op.query:
        raw = request.args.get(name)
        if raw is None:
            if required:
                raise APIError(400, f"Give the query parameter {name}")
            continue
        error = next(iter(validator.iter_errors(_query_value(raw, schema, name))), None)
        if error is not None:
            raise APIError(400, _message(error, f"query parameter {name}"))
    if request.mimetype in op.other_media:
        return  # a non-JSON body the operation takes (a CSV class list): its handler checks it
    if request.method in _BODY_METHODS and op.body is not None:
        body = get_json_body(required=op.body_required)
        if body is not None:
            from jsonschema.exceptions import best_match

            error = best_match(op.body.iter_errors(body))
            if error is not None:
                raise APIError(400, _message(error, "request body"))
    elif request.method in _BODY_METHODS and request.content_length:
        get_json_body()  # an operation without a body still refuses a non-JSON one (cross-site forms)


def openapi_json() -> Response:
    """The OpenAPI document (JSON)."""
    return jsonify(document())


def init_app(app: Flask) -> None:
    """Serve /api/openapi.json and validate every API request against the document."""
    app.add_url_rule("/api/openapi.json", "openapi", openapi_json, methods=["GET"])
    app.before_request(validate_request)
