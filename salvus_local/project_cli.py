"""``salvus-local project …``: manage projects from the shell (works beside a running server).

    salvus-local project create "My thesis"      salvus-local project list [--all] [--json]
    salvus-local project open ~/src/repo          salvus-local project clone https://host/repo.git
    salvus-local project rename ID "New title"    salvus-local project archive ID [--undo]
    salvus-local project delete ID                salvus-local project restore ID
    salvus-local project snapshot ID              salvus-local project history ID [PATH]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

import click

from salvus_local.config import Config
from salvus_local.store.errors import StoreError


class _Ctx:
    """Lazily opened store and project manager for one command."""

    def __init__(self, data_dir: str | None) -> None:
        overrides = {"data_dir": data_dir} if data_dir else {}
        self.config = Config.from_env(**overrides)
        self._pm: Any = None

    @property
    def projects(self) -> Any:
        """The ProjectManager of the data dir."""
        if self._pm is None:
            from salvus_local.store.db import Store
            from salvus_local.store.projects import ProjectManager

            store = Store.for_data_dir(self.config.data_dir)
            c = self.config
            owner = (c.kernel_uid, c.kernel_gid) if os.geteuid() == 0 else None  # as the server does
            from salvus_local.store.uids import for_config

            self._pm = ProjectManager(store, c.data_dir, c.default_project_dir, owner, for_config(c, store))
        return self._pm


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _show(project: dict[str, Any], as_json: bool = False) -> None:
    if as_json:
        click.echo(json.dumps(project))
    else:
        flags = "".join([" [archived]" if project["archived"] else "", " [deleted]" if project["deleted"] else ""])
        click.echo(f"{project['id']}\t{project['title']}\t{project['path']}{flags}")


def _run(fn: Any) -> Any:
    """Run fn, turning store errors into a one-line message and exit status 1."""
    try:
        return fn()
    except StoreError as exc:
        raise click.ClickException(exc.message) from None


@click.group("project")
@click.option("--data-dir", envvar="SALVUS_LOCAL_DATA_DIR", default=None, help="Data dir of the server.")
@click.pass_context
def project(ctx: click.Context, data_dir: str | None) -> None:
    """Create, list, open, clone and manage projects."""
    ctx.obj = _Ctx(data_dir)


@project.command()
@click.argument("title")
@click.option("--path", default=None, help="Create the project in this (empty or new) folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the project as JSON.")
@click.pass_obj
def create(obj: _Ctx, title: str, path: str | None, as_json: bool) -> None:
    """Create an empty project (a new git repository)."""
    _show(_run(lambda: obj.projects.create(title, path)), as_json)


@project.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include archived projects.")
@click.option("--deleted", is_flag=True, help="List the projects in the trash.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def list_(obj: _Ctx, show_all: bool, deleted: bool, as_json: bool) -> None:
    """List projects, most recently opened first."""
    rows = _run(lambda: obj.projects.list(archived=show_all, deleted=deleted))
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        _show(row)


@project.command("open")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--title", default=None, help="Title (default: the folder name or .salvus/project.json).")
@click.option("--json", "as_json", is_flag=True, help="Print the project as JSON.")
@click.pass_obj
def open_(obj: _Ctx, folder: str, title: str | None, as_json: bool) -> None:
    """Open an existing folder (or git repository) as a project, in place."""
    _show(_run(lambda: obj.projects.open(folder, title)), as_json)


@project.command()
@click.argument("url")
@click.option("--title", default=None, help="Title (default: the repository name).")
@click.option("--json", "as_json", is_flag=True, help="Print the project as JSON.")
@click.pass_obj
def clone(obj: _Ctx, url: str, title: str | None, as_json: bool) -> None:
    """Clone a git repository into a new project, showing progress."""
    tty = sys.stderr.isatty()

    def progress(stage: str, fraction: float | None, message: str) -> None:
        pct = f" {fraction * 100:5.1f}%" if fraction is not None else ""
        line = f"{stage}{pct} {message}".rstrip()
        click.echo(f"\r\033[K{line}" if tty else line, err=True, nl=not tty)

    result = _run(lambda: obj.projects.clone(url, title, progress))
    if tty:
        click.echo("", err=True)
    _show(result, as_json)


@project.command()
@click.argument("project_id")
@click.argument("title")
@click.pass_obj
def rename(obj: _Ctx, project_id: str, title: str) -> None:
    """Change a project's title."""
    _show(_run(lambda: obj.projects.update(project_id, title=title)))


@project.command()
@click.argument("project_id")
@click.option("--undo", is_flag=True, help="Unarchive instead.")
@click.pass_obj
def archive(obj: _Ctx, project_id: str, undo: bool) -> None:
    """Archive a project (hidden from the default list)."""
    _show(_run(lambda: obj.projects.update(project_id, archived=not undo)))


@project.command()
@click.argument("project_id")
@click.pass_obj
def delete(obj: _Ctx, project_id: str) -> None:
    """Move a project to the trash (a folder opened in place is only forgotten)."""
    _show(_run(lambda: obj.projects.delete(project_id)))


@project.command()
@click.argument("project_id")
@click.pass_obj
def restore(obj: _Ctx, project_id: str) -> None:
    """Bring a project back from the trash."""
    _show(_run(lambda: obj.projects.restore(project_id)))


@project.command()
@click.argument("project_id")
@click.option("-m", "--message", default="manual snapshot", help="Snapshot message.")
@click.pass_obj
def snapshot(obj: _Ctx, project_id: str, message: str) -> None:
    """Snapshot a project now (a commit on refs/salvus/snapshots)."""
    from salvus_local.store.snapshots import Snapshots
    from salvus_local.store.state import ProjectState

    max_size = obj.config.snapshot_max_file_mb * 1024 * 1024
    state = ProjectState(obj.config.data_dir, project_id)
    snap = _run(lambda: Snapshots(obj.projects.root(project_id), max_size, state).take(message))
    for path in snap.skipped:
        click.echo(f"skipped (too large): {path}", err=True)
    click.echo(snap.commit or "no changes since the last snapshot")


@project.command()
@click.argument("project_id")
@click.argument("path", required=False)
@click.option("-n", "--limit", default=20, help="How many versions.")
@click.pass_obj
def history(obj: _Ctx, project_id: str, path: str | None, limit: int) -> None:
    """List a project's (or one file's) snapshot versions, newest first."""
    from salvus_local.store.snapshots import Snapshots
    from salvus_local.store.state import ProjectState

    state = ProjectState(obj.config.data_dir, project_id)
    for v in _run(lambda: Snapshots(obj.projects.root(project_id), state=state).history(path, limit)):
        click.echo(f"{v['id'][:12]}  {_when(float(v['time']))}  {v['message']}")


def main() -> None:
    """Run the group standalone (``python -m salvus_local.project_cli``)."""
    project(prog_name="salvus-local project")


if __name__ == "__main__":
    main()
