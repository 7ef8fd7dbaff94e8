"""The Jupyter contents API: shapes, status codes and every error, against a real salvus-local.

Each test works in a fresh project through its Jupyter base URL /p/<id>/ (``client``, ``root``);
the module shares one server.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import nbformat
import pytest

NB = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1+1")])
MODEL_KEYS = {"name", "path", "type", "created", "last_modified", "mimetype", "content", "format", "size", "writable"}


def as_owner_mkdir(path: Path) -> None:
    """Make a folder as a session would: owned by the project folder's owner (the server acts with its rights)."""
    path.mkdir()
    st = path.parent.stat()
    os.chown(path, st.st_uid, st.st_gid)


def put_nb(client, path: str, nb=NB):
    return client.put(f"/api/contents/{path}", json={"type": "notebook", "content": nb})


def put_text(client, path: str, text: str):
    return client.put(f"/api/contents/{path}", json={"type": "file", "format": "text", "content": text})


def test_root_listing_shape(client, root: Path) -> None:
    (root / "a.txt").write_text("hello")
    (root / "sub").mkdir()
    (root / ".hidden").write_text("x")
    r = client.get("/api/contents")
    assert r.status_code == 200
    model = r.json()
    assert MODEL_KEYS <= set(model)
    assert model["type"] == "directory" and model["format"] == "json" and model["path"] == ""
    names = {m["name"]: m for m in model["content"]}
    assert set(names) == {"a.txt", "sub"}  # dotfiles and .salvus are hidden
    assert names["a.txt"]["type"] == "file" and names["a.txt"]["size"] == 5 and names["a.txt"]["content"] is None
    assert names["sub"]["type"] == "directory" and names["sub"]["size"] is None
    assert model["last_modified"].endswith("Z")


def test_notebook_create_save_get(client, root: Path) -> None:
    r = put_nb(client, "n.ipynb")
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith("/api/contents/n.ipynb")
    assert r.json()["content"] is None and r.json()["type"] == "notebook"
    assert put_nb(client, "n.ipynb").status_code == 200
    got = client.get("/api/contents/n.ipynb").json()
    assert got["format"] == "json" and got["mimetype"] is None
    assert got["content"]["cells"][0]["source"] == "1+1"
    assert nbformat.read(root / "n.ipynb", as_version=4).cells[0].source == "1+1"
    assert client.get("/api/contents/n.ipynb?content=0").json()["content"] is None
    assert client.get("/api/contents/n.ipynb?type=file&format=text").json()["format"] == "text"
    hashed = client.get("/api/contents/n.ipynb?hash=1").json()
    assert hashed["hash_algorithm"] == "sha256" and len(hashed["hash"]) == 64


def test_text_and_binary_files(client, root: Path) -> None:
    assert put_text(client, "t.py", "print('é')\n").status_code == 201
    got = client.get("/api/contents/t.py").json()
    assert got == {**got, "format": "text", "content": "print('é')\n", "type": "file"}
    blob = bytes(range(256))
    r = client.put("/api/contents/b.bin", json={"type": "file", "format": "base64",
                                                "content": base64.b64encode(blob).decode()})
    assert r.status_code == 201
    assert (root / "b.bin").read_bytes() == blob
    got = client.get("/api/contents/b.bin").json()
    assert got["format"] == "base64" and base64.b64decode(got["content"]) == blob
    r = client.get("/api/contents/b.bin?format=text")
    assert r.status_code == 400 and "UTF-8" in r.json()["message"]


@pytest.mark.parametrize("query,fragment", [
    ("type=bogus", "Type"), ("format=bogus", "Format"), ("content=2", "Content"), ("type=directory", "not a directory"),
])
def test_bad_queries(client, root: Path, query: str, fragment: str) -> None:
    (root / "f.txt").write_text("x")
    r = client.get(f"/api/contents/f.txt?{query}")
    assert r.status_code == 400 and fragment in r.json()["message"]
    assert set(r.json()) >= {"message", "reason"}


def test_missing_and_dir_type_errors(client, root: Path) -> None:
    assert client.get("/api/contents/nope.txt").status_code == 404
    (root / "d").mkdir()
    assert client.get("/api/contents/d?type=file").status_code == 400
    assert client.get("/api/contents/d?type=directory").status_code == 200


def test_post_untitled_and_copy(client, root: Path) -> None:
    names = [client.post("/api/contents", json={"type": "notebook"}).json()["name"] for _ in range(2)]
    assert names == ["Untitled.ipynb", "Untitled1.ipynb"]
    assert client.post("/api/contents", json={"type": "file", "ext": ".py"}).json()["name"] == "untitled.py"
    assert client.post("/api/contents", json={"type": "file"}).json()["name"] == "untitled.txt"
    dirs = [client.post("/api/contents", json={"type": "directory"}).json()["name"] for _ in range(2)]
    assert dirs == ["Untitled Folder", "Untitled Folder 1"]
    r = client.post("/api/contents/Untitled Folder", json={"copy_from": "Untitled.ipynb"})
    assert r.status_code == 201 and r.json()["path"] == "Untitled Folder/Untitled-Copy1.ipynb"
    assert client.post("/api/contents", json={"copy_from": "Untitled.ipynb"}).json()["name"] == "Untitled-Copy1.ipynb"
    assert client.post("/api/contents/Untitled.ipynb", json={"type": "file"}).status_code == 400
    assert client.post("/api/contents/missing", json={"type": "file"}).status_code == 404
    assert client.post("/api/contents", json={"copy_from": "missing.ipynb"}).status_code == 404
    r = client.put("/api/contents/x.ipynb", json={"copy_from": "Untitled.ipynb", "type": "notebook"})
    assert r.status_code == 400


def test_put_without_body_creates_empty(client, root: Path) -> None:
    r = client.put("/api/contents/empty.ipynb")
    assert r.status_code == 201
    assert nbformat.read(root / "empty.ipynb", as_version=4).cells == []


def test_rename(client, root: Path) -> None:
    put_text(client, "a.txt", "A")
    put_text(client, "b.txt", "B")
    as_owner_mkdir(root / "d")
    r = client.patch("/api/contents/a.txt", json={"path": "d/c.txt"})
    assert r.status_code == 200 and r.json()["path"] == "d/c.txt"
    assert (root / "d/c.txt").read_text() == "A" and not (root / "a.txt").exists()
    r = client.patch("/api/contents/b.txt", json={"path": "d/c.txt"})
    assert r.status_code == 409 and (root / "b.txt").read_text() == "B" and (root / "d/c.txt").read_text() == "A"
    assert client.patch("/api/contents/nope.txt", json={"path": "x.txt"}).status_code == 404
    assert client.patch("/api/contents/b.txt").status_code == 400
    assert client.patch("/api/contents/b.txt", json={"path": "../out.txt"}).status_code == 400
    assert (root / "b.txt").read_text() == "B"


def test_delete_goes_to_trash_and_back(client, api, project: dict, root: Path) -> None:
    put_text(client, "gone.txt", "keep me")
    assert client.delete("/api/contents/gone.txt").status_code == 204
    assert not (root / "gone.txt").exists()
    assert client.get("/api/contents/gone.txt").status_code == 404
    assert client.delete("/api/contents/gone.txt").status_code == 404
    items = api.get(f"/api/projects/{project['id']}/trash").json()
    assert [i["path"] for i in items] == ["gone.txt"]
    r = api.post(f"/api/projects/{project['id']}/trash/{items[0]['id']}/restore")
    assert r.status_code == 200 and (root / "gone.txt").read_text() == "keep me"
    as_owner_mkdir(root / "full")
    (root / "full/x.txt").write_text("x")
    assert client.delete("/api/contents/full").status_code == 204  # non-empty folder: still recoverable
    assert client.delete("/api/contents").status_code == 400


def test_invalid_notebook_is_refused_and_old_content_kept(client, root: Path) -> None:
    put_nb(client, "n.ipynb")
    before = (root / "n.ipynb").read_bytes()
    bad = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 1}]}
    r = put_nb(client, "n.ipynb", bad)
    assert r.status_code == 400 and "nbformat" in r.json()["message"]
    assert (root / "n.ipynb").read_bytes() == before
    assert put_nb(client, "n.ipynb", "not a dict").status_code == 400
    (root / "broken.ipynb").write_text("{not json")
    r = client.get("/api/contents/broken.ipynb")
    assert r.status_code == 400 and "Unreadable Notebook" in r.json()["message"]


@pytest.mark.parametrize("model,fragment", [
    ({"type": "file", "format": "base64", "content": "!!!"}, "Encoding error"),
    ({"type": "file", "format": "hex", "content": "00"}, "format"),
    ({"type": "file", "format": "text"}, "content"),
    ({"type": "file", "format": "text", "content": 5}, "string"),
    ({"type": "symlink", "content": "x"}, "type"),
    ({"content": "x"}, "type"),
])
def test_bad_save_models(client, root: Path, model: dict, fragment: str) -> None:
    put_text(client, "keep.txt", "old")
    r = client.put("/api/contents/keep.txt", json=model)
    assert r.status_code == 400 and fragment in r.json()["message"]
    assert (root / "keep.txt").read_text() == "old"
    assert not [p for p in root.iterdir() if p.name.startswith(".~salvus")]


def test_malformed_json_body(client, root: Path) -> None:
    r = client.put("/api/contents/x.txt", data="{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and not (root / "x.txt").exists()


def test_checkpoints(client, root: Path) -> None:
    put_text(client, "c.txt", "v1")
    assert client.get("/api/contents/c.txt/checkpoints").json() == []
    r = client.post("/api/contents/c.txt/checkpoints")
    assert r.status_code == 201 and r.json()["id"] == "checkpoint" and "last_modified" in r.json()
    assert r.headers["Location"].endswith("/api/contents/c.txt/checkpoints/checkpoint")
    put_text(client, "c.txt", "v2")
    assert [c["id"] for c in client.get("/api/contents/c.txt/checkpoints").json()] == ["checkpoint"]
    assert client.post("/api/contents/c.txt/checkpoints/checkpoint").status_code == 204
    assert (root / "c.txt").read_text() == "v1"
    assert client.post("/api/contents/c.txt/checkpoints/other").status_code == 404
    assert client.delete("/api/contents/c.txt/checkpoints/checkpoint").status_code == 204
    assert client.delete("/api/contents/c.txt/checkpoints/checkpoint").status_code == 404
    assert client.get("/api/contents/missing.txt/checkpoints").status_code == 404
    assert "checkpoints" not in json.dumps(client.get("/api/contents").json()["content"])


def test_project_base_url(api) -> None:
    project = api.post("/api/projects", json={"title": "Other"}).json()
    r = api.put(f"/p/{project['id']}/api/contents/x.txt", json={"type": "file", "format": "text", "content": "p"})
    assert r.status_code == 201 and r.headers["Location"].startswith(f"/p/{project['id']}/api/contents/")
    assert (Path(project["path"]) / "x.txt").read_text() == "p"
    assert api.get("/api/contents/x.txt").status_code == 404  # not in the default project
    assert api.get("/p/no-such-project/api/contents").status_code == 404
    r = api.put("/api/contents/x.txt", json={"type": "file", "format": "text", "content": "default"})
    assert r.status_code == 201 and r.headers["Location"] == "/api/contents/x.txt"
    assert api.get("/api/contents/x.txt").json()["content"] == "default"
    assert api.get(f"/p/{project['id']}/api/contents/x.txt").json()["content"] == "p"
    assert api.get("/p/default/api/contents/x.txt").json()["content"] == "default"


def test_root_with_a_trailing_slash_lists_like_jupyter_server(client):
    with_slash, without = client.get("/api/contents/"), client.get("/api/contents")
    assert with_slash.status_code == 200 and with_slash.json()["type"] == "directory"
    assert with_slash.json()["path"] == without.json()["path"] == ""


def _chunk(client, path: str, n: int, data: bytes):
    return client.put(f"/api/contents/{path}", json={"type": "file", "format": "base64", "chunk": n,
                                                   "content": base64.b64encode(data).decode()})


def test_chunked_upload_appears_whole_only_after_the_last_chunk(client, root: Path) -> None:
    (root / "big.bin").write_bytes(b"old")
    parts = [os.urandom(300_000), os.urandom(300_000), os.urandom(1234)]
    assert _chunk(client, "big.bin", 1, parts[0]).status_code == 200
    assert _chunk(client, "big.bin", 2, parts[1]).status_code == 200
    assert (root / "big.bin").read_bytes() == b"old"  # readers never see half an upload
    other = client.put("/api/contents/other.txt", json={"type": "file", "format": "text", "content": "x"})
    assert other.status_code == 201  # a save in the same folder (which sweeps temp files) keeps the upload
    r = _chunk(client, "big.bin", -1, parts[2])
    assert r.status_code == 200 and r.json()["size"] == sum(map(len, parts))
    assert (root / "big.bin").read_bytes() == b"".join(parts)
    assert not [p for p in os.listdir(root) if p.startswith(".~salvus-")]  # no temp file left
    new = _chunk(client, "fresh.bin", 1, b"abc")
    assert new.status_code == 201 and not (root / "fresh.bin").exists()
    assert _chunk(client, "fresh.bin", -1, b"def").json()["size"] == 6


@pytest.mark.parametrize(("chunk", "content", "fragment"), [
    (0, "AAAA", "chunk must be"), (-2, "AAAA", "chunk must be"), ("1", "AAAA", "chunk must be"),
    (3, "AAAA", "send chunk 1 first"), (1, "not base64!", "not valid base64"),
])
def test_bad_chunks_are_refused(client, root: Path, chunk, content, fragment) -> None:
    r = client.put("/api/contents/c.bin", json={"type": "file", "format": "base64", "chunk": chunk,
                                               "content": content})
    assert r.status_code == 400 and fragment in r.json()["message"]
    assert not (root / "c.bin").exists()
