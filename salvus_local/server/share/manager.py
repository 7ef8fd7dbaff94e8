"""Shares: a published file or folder of a project, readable by anyone at ``/share/<slug>/…``.

Rows live in the ``shares`` table (migration 0006_shares).  Reads go through the project's
ContentsManager, so a share sees only its own file or folder: any ``..`` or absolute sub-path
is refused, and symlinks leaving the project are refused by the ContentsManager itself.
"""

from __future__ import annotations

import re
import secrets
import time
import unicodedata
from typing import Any

from salvus_local.store.db import Store

from ..errors import APIError
from ..projects.workspace import Workspace

_SLUG_PART = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")


def make_slug(path: str) -> str:
    """Return a readable, unguessable slug for a path: ``<name>-<10 random hex>``."""
    leaf = path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "project"
    ascii_name = unicodedata.normalize("NFKD", leaf).encode("ascii", "ignore").decode().lower()
    name = _SLUG_PART.sub("-", ascii_name).strip("-")[:40] or "share"
    return f"{name}-{secrets.token_hex(5)}"


def sub_path(share: dict[str, Any], rest: str) -> str:
    """Return the project API path of ``rest`` inside a share; 404 for anything outside it."""
    rest = rest.strip("/")
    if share["kind"] == "file":
        if rest:
            raise APIError(404, "This share is a single file")
        return share["path"]
    parts = rest.split("/") if rest else []
    # Hidden names (.git, .salvus, .ipynb_checkpoints) never leave the project: a remote URL in
    # .git/config can hold credentials.
    if any(p.startswith(".") or not p or "\\" in p or "\0" in p for p in parts):
        raise APIError(404, f"No such file in this share: {rest!r}")
    return "/".join([share["path"], *parts]).strip("/") if share["path"] else "/".join(parts)


class ShareManager:
    """Publish, unpublish, list and read shares."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.store: Store = workspace.store

    def publish(self, project_id: str, path: str) -> dict[str, Any]:
        """Publish a file or folder of a project (idempotent); return the share."""
        if not isinstance(path, str):
            raise APIError(400, "'path' must be a string: the file or folder to publish")
        cm = self.workspace.contents(project_id)
        model = cm.get(path, content=False)  # 404 / 400 for a missing or bad path
        path = model["path"]
        if any(part.startswith(".") for part in path.split("/")):  # served nowhere (see _inside): say so now
            raise APIError(400, f"{path!r} is hidden (a name starting with '.'), and hidden files are never "
                                "published: rename it first")
        existing = self.store.query("select * from shares where project_id = ? and path = ?", (project_id, path))
        if existing:
            return self._public(existing[0])
        row = {"slug": make_slug(path or project_id), "project_id": project_id, "path": path,
               "kind": "directory" if model["type"] == "directory" else "file", "public": 1, "created": time.time()}
        with self.store.write() as db:
            db["shares"].insert(row)
        return self._public(row)

    def unpublish(self, slug: str) -> None:
        """Remove a share (the files stay); 404 when it does not exist."""
        self.get(slug)
        with self.store.write() as db:
            db["shares"].delete(slug)

    def get(self, slug: str) -> dict[str, Any]:
        """Return a share's row; 404 when unknown."""
        if not _SLUG.match(slug or ""):
            raise APIError(404, f"No share {slug!r}")
        rows = self.store.query("select * from shares where slug = ?", (slug,))
        if not rows:
            raise APIError(404, f"No share {slug!r}: it was never published or has been unpublished")
        return rows[0]

    def is_public(self, slug: str) -> bool:
        """Tell whether a slug names a share anyone may read."""
        try:
            return bool(self.get(slug)["public"])
        except APIError:
            return False

    def list(self, project_id: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Return shares, newest first (of one project, and of one path, when given)."""
        sql, args = "select * from shares where 1", []
        if project_id is not None:
            sql, args = sql + " and project_id = ?", [*args, project_id]
        if path is not None:
            sql, args = sql + " and path = ?", [*args, path.strip("/")]
        return [self._public(r) for r in self.store.query(sql + " order by created desc", tuple(args))]

    def _inside(self, share: dict[str, Any], api_path: str) -> Any:
        """Return the share's ContentsManager after checking that api_path, links resolved, stays in the share.

        The ContentsManager keeps links inside the project; a share must also keep them inside the
        shared folder and away from hidden files (a link ``x -> ../.git/config``)."""
        cm = self.workspace.contents(share["project_id"])
        project = cm.os_path("").resolve()
        root = cm.os_path(share["path"]).resolve()
        target = cm.os_path(api_path).resolve()
        if target != root and root not in target.parents:
            raise APIError(404, "No such file in this share")
        if target != project and any(part.startswith(".") for part in target.relative_to(project).parts):
            raise APIError(404, "No such file in this share")
        return cm

    def read(self, slug: str, rest: str = "", content: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (share, contents model of ``rest`` inside it) with paths made relative to the share."""
        share = self.get(slug)
        api_path = sub_path(share, rest)
        model = self._inside(share, api_path).get(api_path, content=content)
        return self._public(share), self._relative(share, model)

    def read_bytes(self, slug: str, rest: str = "") -> tuple[str, bytes]:
        """Return (file name, bytes) of a file inside a share."""
        share = self.get(slug)
        api_path = sub_path(share, rest)
        cm = self._inside(share, api_path)
        if cm.is_dir(api_path):
            raise APIError(400, "That is a folder: open it instead of downloading it")
        return api_path.rsplit("/", 1)[-1], cm.read_file(api_path)  # with the owner's rights, never root's

    def copy_into(self, slug: str, rest: str, project_id: str, to_dir: str = "") -> dict[str, Any]:
        """Copy a shared file into a project's folder under a free name; return the new file's model."""
        name, data = self.read_bytes(slug, rest)
        target = self.workspace.contents(project_id)
        stem, dot, ext = name.rpartition(".")
        base, ext = (stem, dot + ext) if stem else (name, "")
        folder = target._require_dir(to_dir)
        free = target._free_name(folder, base, ext, "-", start=0)
        path = f"{folder}/{free}" if folder else free
        target.write_bytes(path, data)
        target.hooks.changed("saved", path)
        return target.get(path, content=False)

    def _relative(self, share: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
        """Rewrite a model's paths relative to the share root (viewers never see project paths)."""
        root = share["path"]

        def rel(p: str) -> str:
            if share["kind"] == "file":
                return p.rsplit("/", 1)[-1]
            return p[len(root):].lstrip("/") if root and p.startswith(root) else p

        out = {**model, "path": rel(model["path"])}
        if model.get("type") == "directory" and isinstance(model.get("content"), list):
            out["content"] = [{**m, "path": rel(m["path"])} for m in model["content"] if not m["name"].startswith(".")]
        return out

    @staticmethod
    def _public(row: dict[str, Any]) -> dict[str, Any]:
        """Return the share as the API shows it."""
        return {**row, "public": bool(row["public"]), "url": f"/share/{row['slug']}/"}
