"""Projects: folders that are git repositories, listed in SQLite, described by .salvus/project.json.

A project made here lives in ``<data_dir>/projects/<id>``; one opened in place stays where it is
and is never moved or deleted by us (deleting it only forgets it).  Deleting a project of ours
moves its folder to ``<data_dir>/trash/`` from where it can be restored.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import layout
from .atomic import fsync_dir, os_error
from .checkout import check_out
from .db import Store
from .errors import BadRequest, Conflict, NotFound, StoreError
from .uids import ProjectUids, give_tree

log = logging.getLogger("salvus_local.store.projects")

DEFAULT_ID = "default"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

Progress = Callable[[str, float | None, str], None]  # (stage, fraction 0..1 or None, message)


def slug(title: str) -> str:
    """A URL-friendly prefix from a title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32].strip("-") or "project"


def git_init(path: Path) -> None:
    """Make ``path`` a git repository unless it already is one (GitPython, imported lazily)."""
    import git

    try:
        git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        git.Repo.init(path, initial_branch="main")


class ProjectManager:
    """Create, list, rename, archive, delete, restore, open and clone projects."""

    def __init__(self, store: Store, data_dir: str | os.PathLike[str], default_dir: str | os.PathLike[str],
                 owner: tuple[int, int] | None = None, uids: ProjectUids | None = None) -> None:
        self.store = store
        self.data_dir = Path(data_dir)
        self.default_dir = Path(default_dir)
        self.owner = owner  # (uid, gid) given to folders we create, when the server runs as root
        self.uids = uids    # a uid per project instead (root servers; store/uids.py)
        self._default_lock = threading.Lock()  # two first requests at once must not both `git init`

    # Reading
    def get(self, project_id: str, include_deleted: bool = False) -> dict[str, Any]:
        """Return a project row; 404 when unknown (or deleted, unless asked)."""
        if project_id == DEFAULT_ID:
            self.ensure_default()
        if not ID_RE.match(project_id or ""):
            raise NotFound(f"No such project: {project_id!r}")
        rows = self.store.query("select * from projects where id = ?", (project_id,))
        if not rows or (rows[0]["deleted"] is not None and not include_deleted):
            raise NotFound(f"No such project: {project_id}")
        return rows[0]

    def list(self, archived: bool = False, deleted: bool = False) -> list[dict[str, Any]]:
        """Return live projects (optionally archived ones, or only the trash), most recent first."""
        self.ensure_default()
        if deleted:
            sql = "select * from projects where deleted is not null order by deleted desc"
        else:
            sql = "select * from projects where deleted is null" + ("" if archived else " and archived = 0")
            sql += " order by coalesce(last_opened, created) desc"
        return self.store.query(sql)

    def ids_of(self, project_id: str | None) -> tuple[int, int] | None:
        """(uid, gid) a project's kernels and terminals run as; None: the server's own (not root).

        With a uid per project the folder of a project we made is handed to that uid, mode 0700,
        the first time (also for projects made before uids were per project).
        """
        if self.uids is None:
            return self.owner
        project = self.get(project_id or DEFAULT_ID)
        uid = self.uids.assign(project["id"])
        folder = Path(project["path"])
        if not project["in_place"]:
            try:
                st = folder.stat()
                if st.st_uid != uid or st.st_mode & 0o777 != 0o700:
                    give_tree(folder, uid, uid)
            except OSError:
                pass  # a vanished folder: the start that follows says so
        return uid, uid

    def root(self, project_id: str | None) -> Path:
        """Return the folder of a project (the default project when None)."""
        return Path(self.get(project_id or DEFAULT_ID)["path"])

    # Creating
    def ensure_default(self) -> None:
        """Make sure the default project (config.default_project_dir) exists."""
        if self.store.query("select 1 from projects where id = ?", (DEFAULT_ID,)):
            return
        with self._default_lock:
            if self.store.query("select 1 from projects where id = ?", (DEFAULT_ID,)):
                return  # another thread made it while we waited
            self.default_dir.mkdir(parents=True, exist_ok=True)
            self._register(DEFAULT_ID, "Default", self.default_dir, in_place=False)

    def create(self, title: str, path: str | None = None, project_id: str | None = None) -> dict[str, Any]:
        """Create an empty project (a new git repository); project_id: this id instead of a new one (409 if taken)."""
        title = self._title(title)
        if project_id is not None and (not ID_RE.match(project_id) or project_id == DEFAULT_ID):
            raise BadRequest(f"Not a project id: {project_id!r} (lower-case letters, digits and dashes)")
        if project_id is not None and self._exists(project_id):
            raise Conflict(f"A project {project_id} exists already")
        pid = project_id or self._new_id(title)
        folder = Path(path).expanduser().resolve() if path else self.data_dir / "projects" / pid
        if folder.exists() and any(folder.iterdir()):
            raise Conflict(f"Folder is not empty: {folder.name}; open it instead")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, folder.name) from None
        return self._register(pid, title, folder, in_place=bool(path))

    def open(self, folder: str | os.PathLike[str], title: str | None = None) -> dict[str, Any]:
        """Open an existing folder (maybe already a git repository) as a project, in place."""
        folder = Path(folder).expanduser().resolve()
        if not folder.is_dir():
            raise NotFound(f"No such folder: {folder}")
        existing = self.store.query("select * from projects where path = ? and deleted is null", (str(folder),))
        if existing:
            return existing[0]
        meta = layout.read_meta(folder)
        title = self._title(title or meta.get("title") or folder.name)
        pid = meta.get("id") if ID_RE.match(str(meta.get("id", ""))) and not self._exists(meta["id"]) else None
        return self._register(pid or self._new_id(title), title, folder, in_place=True)

    def clone(self, url: str, title: str | None = None, progress: Progress | None = None,
              env: dict[str, str] | None = None) -> dict[str, Any]:
        """Clone a git URL into a new project, reporting progress (env: git's environment, e.g. sync's token)."""
        import git

        if not url or url.startswith("-") or "::" in url.split("/", 1)[0]:
            raise BadRequest(f"Not a git URL: {url!r}")
        name = re.sub(r"\.git$", "", url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]) or "clone"
        tmp = self.data_dir / "projects" / f".clone-{secrets.token_hex(4)}.cloning"
        report = progress or (lambda stage, fraction, message: None)
        adapter = _git_progress(report)
        try:
            # fsck every object as it arrives (--no-local: a path clone too), so a hostile tree entry
            # ('..', '.git') is refused before anything is checked out.
            # --no-checkout: git would write the files through the clone's own .gitattributes
            # (an encoding, a filter's command); checkout.check_out writes the stored bytes.
            repo = git.Repo.clone_from(url, tmp, progress=adapter, env=_with_fsck(env),
                                       multi_options=["--no-recurse-submodules", "--no-local", "--no-checkout"])
            _check_out_a_branch(repo)
            check_out(tmp, _with_fsck(env))
        except git.GitCommandError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            # With a progress handler, git's own complaint ("fatal: …") is in its error_lines.
            detail = [*(exc.stderr or "").strip().splitlines(), *adapter.error_lines]
            detail = [line for line in detail if line.startswith(("fatal:", "error:", "remote:"))] or detail
            unsafe = [line.split(":", 2)[-1].strip() for line in detail if ": hasdot" in line.lower()]
            if unsafe or any("fsck error" in line for line in detail):
                raise BadRequest(f"git clone refused {url}: its history holds an unsafe or broken tree "
                                 f"({unsafe[0] if unsafe else 'fsck error'}); nothing was cloned") from None
            raise BadRequest(f"git clone failed: {detail[-1].strip() if detail else exc}") from None
        except (subprocess.CalledProcessError, OSError) as exc:  # writing the files (check_out)
            shutil.rmtree(tmp, ignore_errors=True)
            why = exc.stderr.decode(errors="replace").strip() if isinstance(exc, subprocess.CalledProcessError) else exc
            raise BadRequest(f"git clone of {url} could not write its files: {why}; nothing was cloned") from None
        # A clone of a salvus project keeps its id and title (when the id is free here), so its
        # .salvus/project.json is not rewritten and two machines syncing it agree.
        meta = layout.read_meta(tmp)
        title = self._title(title or meta.get("title") or name)
        meta_id = str(meta.get("id", ""))
        pid = meta_id if ID_RE.match(meta_id) and meta_id != DEFAULT_ID and not self._exists(meta_id) else self._new_id(title)
        folder = self.data_dir / "projects" / pid
        try:
            os.rename(tmp, folder)
            fsync_dir(folder.parent)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise os_error(exc, title) from None
        project = self._register(pid, title, folder, in_place=False, origin=url)
        report("done", 1.0, "cloned")
        return project

    # Changing
    def update(self, project_id: str, title: str | None = None, archived: bool | None = None) -> dict[str, Any]:
        """Rename and/or (un)archive a project."""
        project = self.get(project_id)
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = self._title(title)
        if archived is not None:
            changes["archived"] = int(bool(archived))
        if changes:
            with self.store.write() as db:
                db["projects"].update(project_id, changes)
            if "title" in changes:
                meta = layout.read_meta(project["path"])
                try:
                    layout.write_meta(project["path"], {**meta, "id": project_id, "title": changes["title"]})
                except StoreError as exc:  # the database is the record; the copy in the folder is a courtesy
                    log.warning("could not write .salvus/project.json of %s: %s", project_id, exc.message)
        return self.get(project_id)

    def touch(self, project_id: str) -> None:
        """Record that a project was opened (sorts the list)."""
        with self.store.write() as db:
            db["projects"].update(project_id, {"last_opened": time.time()})

    def delete(self, project_id: str) -> dict[str, Any]:
        """Move a project to the trash (a folder we made) or forget it (a folder opened in place)."""
        if project_id == DEFAULT_ID:
            raise BadRequest("The default project cannot be deleted")
        project = self.get(project_id)
        trash_path = None
        if not project["in_place"]:
            trash = self.data_dir / "trash"
            trash.mkdir(parents=True, exist_ok=True)
            target = trash / f"{project_id}-{int(time.time())}"
            try:
                os.rename(project["path"], target)
                fsync_dir(trash)
            except FileNotFoundError:
                pass  # the folder vanished already; forget the project anyway
            except OSError as exc:
                raise os_error(exc, project["title"]) from None
            trash_path = str(target)
        with self.store.write() as db:
            db["projects"].update(project_id, {"deleted": time.time(), "trash_path": trash_path})
        return self.get(project_id, include_deleted=True)

    def restore(self, project_id: str) -> dict[str, Any]:
        """Bring a deleted project back from the trash."""
        project = self.get(project_id, include_deleted=True)
        if project["deleted"] is None:
            return project
        if self.store.query("select 1 from projects where path = ? and deleted is null", (project["path"],)):
            raise Conflict("Another project now uses that folder")
        if project["trash_path"]:
            if Path(project["path"]).exists():
                raise Conflict(f"Folder exists again: {Path(project['path']).name}")
            try:
                os.rename(project["trash_path"], project["path"])
            except OSError as exc:
                raise os_error(exc, project["title"]) from None
        with self.store.write() as db:
            db["projects"].update(project_id, {"deleted": None, "trash_path": None})
        return self.get(project_id)

    # Helpers
    def _register(self, pid: str, title: str, folder: Path, in_place: bool, origin: str | None = None) -> dict[str, Any]:
        if self.uids is not None:
            self.uids.assign(pid)  # first: a full uid range refuses the project before anything is recorded
        git_init(folder)
        meta = layout.read_meta(folder)
        if meta.get("id") != pid or meta.get("title") != title:
            layout.write_meta(folder, {**meta, "id": pid, "title": title, "created": meta.get("created", time.time())})
        else:
            layout.salvus_dir(folder)
        if self.owner and not in_place and self.uids is None:  # last: what we made belongs to the kernels' uid
            for base, dirs, files in os.walk(folder):
                for name in [base, *(os.path.join(base, n) for n in dirs + files)]:
                    os.lchown(name, *self.owner)
        now = time.time()
        with self.store.write() as db:
            if db.execute("select 1 from projects where path = ? and deleted is null", (str(folder),)).fetchone():
                raise Conflict(f"Folder is already a project: {folder.name}")
            db["projects"].insert({"id": pid, "title": title, "path": str(folder), "in_place": int(in_place),
                                   "origin": origin, "created": now, "last_opened": now, "archived": 0})
        if self.uids is not None:
            self.ids_of(pid)  # allocate its uid and hand it the folder now
        return self.get(pid)

    def _exists(self, pid: str) -> bool:
        return bool(self.store.query("select 1 from projects where id = ?", (pid,)))

    def _new_id(self, title: str) -> str:
        while True:
            pid = f"{slug(title)}-{secrets.token_hex(3)}"
            if not self._exists(pid):
                return pid

    @staticmethod
    def _title(title: Any) -> str:
        if not isinstance(title, str) or not title.strip():
            raise BadRequest("A project needs a non-empty title")
        if len(title) > 200 or "\x00" in title:
            raise BadRequest("A project title must be at most 200 characters, without NUL")
        return title.strip()


def _check_out_a_branch(repo: Any) -> None:
    """A remote whose HEAD names a missing branch (a bare repo made with another default) clones empty:
    check out its main, master or only branch instead."""
    if repo.head.is_valid() or not repo.remotes:
        return
    names = [ref.remote_head for ref in repo.remotes[0].refs if ref.remote_head != "HEAD"]
    for name in ("main", "master", *sorted(names)):
        if name in names:
            repo.git.branch("-f", "--track", name, f"{repo.remotes[0].name}/{name}")
            repo.git.symbolic_ref("HEAD", f"refs/heads/{name}")
            return


def _git_progress(report: Progress) -> Any:
    """Adapt GitPython's RemoteProgress callbacks to (stage, fraction, message)."""
    import git

    stages = {git.RemoteProgress.COUNTING: "counting", git.RemoteProgress.COMPRESSING: "compressing",
              git.RemoteProgress.RECEIVING: "receiving", git.RemoteProgress.RESOLVING: "resolving",
              git.RemoteProgress.CHECKING_OUT: "checking out"}

    class Adapter(git.RemoteProgress):
        def update(self, op_code: int, cur_count: Any, max_count: Any = None, message: str = "") -> None:
            fraction = float(cur_count) / float(max_count) if max_count else None
            report(stages.get(op_code & self.OP_MASK, "working"), fraction, message or "")

    return Adapter()


def _with_fsck(env: dict[str, str] | None) -> dict[str, str]:
    """git's environment (default: ours) plus transfer.fsckObjects, passed as GIT_CONFIG_KEY_n pairs."""
    out = dict(os.environ if env is None else env)
    n = int(out.get("GIT_CONFIG_COUNT", "0") or 0)
    pairs = (("transfer.fsckObjects", "true"), ("fetch.fsckObjects", "true"),
             ("fetch.fsck.zeroPaddedFilemode", "ignore"))  # an old, harmless oddity of many real repositories
    for i, (key, value) in enumerate(pairs, start=n):
        out[f"GIT_CONFIG_KEY_{i}"], out[f"GIT_CONFIG_VALUE_{i}"] = key, value
    out["GIT_CONFIG_COUNT"] = str(n + len(pairs))
    return out
