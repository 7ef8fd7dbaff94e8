"""Every JSON body and query is checked before use (issue 7, item 5): a 400/415 saying what to fix, never a 500."""

from __future__ import annotations

import json

import pytest


def nested(levels: int) -> str:
    """A notebook model whose metadata nests ``levels`` deep (as raw JSON: json.dumps would recurse)."""
    inner = "[" * levels + "]" * levels
    return ('{"type": "notebook", "content": {"nbformat": 4, "nbformat_minor": 5, "cells": [], '
            f'"metadata": {{"deep": {inner}}}}}}}')


@pytest.mark.parametrize("body, needle", [
    ({"type": "file", "ext": 5}, "ext"),
    ({"type": "file", "ext": "x" * 5000}, "ext"),
    ({"type": "pdf"}, "type"),
    ({"copy_from": ["a"]}, "copy_from"),
])
def test_new_untitled_with_bad_fields_is_a_400(server, body: dict, needle: str) -> None:
    r = server.post("/api/contents", json=body)
    assert r.status_code == 400, r.text
    assert needle in r.json()["message"]


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_deeply_nested_json_is_a_400(server, levels: int) -> None:
    r = server.put("/api/contents/deep.ipynb", data=nested(levels), headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert "nests too deeply" in r.json()["message"]
    assert server.get("/api/contents/deep.ipynb").status_code == 404  # nothing half-written


def test_a_notebook_nested_a_little_is_fine(server) -> None:
    r = server.put("/api/contents/shallow.ipynb", data=nested(20), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert server.delete("/api/contents/shallow.ipynb").status_code == 204


@pytest.mark.parametrize("content_type, status", [
    ("text/plain;charset=UTF-8", 400),
    ("application/x-www-form-urlencoded", 400),
    ("multipart/form-data; boundary=x", 400),
    ("application/xml", 400),
    (None, 400),
])
def test_non_json_bodies_are_refused(server, content_type: str | None, status: int) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"name": "python3"})
    for method, path in (("POST", "/api/kernels"), ("POST", "/api/contents"), ("PUT", "/api/contents/t.txt")):
        r = server.request(method, path, data=body, headers=headers)
        assert r.status_code == status, (method, path, r.text)
        assert "application/json" in (r.json()["message"] + str(r.json().get("reason")))
    assert server.get("/api/contents/t.txt").status_code == 404


def test_bad_query_parameters_are_a_400(server) -> None:
    for path in ("/api/projects/default/versions?limit=abc", "/api/history?limit=1e999",
                 "/api/projects/default/events?timeout=nan", "/api/contents?content=2"):
        r = server.get(path)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["message"]


def test_openapi_document_is_served_with_auth(server) -> None:
    assert server.get("/api/openapi.json", auth=False).status_code in (401, 403)
    r = server.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/contents/{path}" in doc["paths"] and "/p/{project_id}/api/contents/{path}" in doc["paths"]


def test_every_api_route_is_in_the_document(server) -> None:
    """The document describes the whole REST API: a new route without an entry fails here."""
    from salvus_local.config import Config
    from salvus_local.server import create_app
    from salvus_local.server.openapi import template

    app = create_app(Config(data_dir=str(server.data_dir)))
    paths = server.get("/api/openapi.json").json()["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        path = template(rule.rule)
        if not (path.startswith("/api") or path.startswith("/p/{project_id}/api")) or path.endswith("/channels"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, missing
