"""``salvus-local sync …``: clone, link, push, pull, status, and bare ``sync`` (pull then push).

    salvus-local sync clone URL [--title T]         a new project from a remote (any git URL)
    salvus-local sync link PROJECT REMOTE           sync an existing project with REMOTE (URL or path)
    salvus-local sync link PROJECT HUB-URL          …on a hub (https://hub): its URL there is made for you
    salvus-local sync [-p PROJECT] [--with-history] pull, then push
    salvus-local sync pull|push [-p PROJECT]
    salvus-local sync status [-p PROJECT] [--json]
    salvus-local sync login HUB-URL [--token T]      sign in (a code to approve on the hub), token kept 0600
    salvus-local sync logout HUB-URL                 revoke the token on the hub and forget it

PROJECT is a project id or a project's folder (default: the default project).  A token for an
HTTPS remote comes from ``SALVUS_SYNC_TOKEN`` or from ``sync login`` (git gets it through the
environment only: never an argument, a URL or .git/config).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any

import click

from salvus_local.config import Config

from salvus_local.store.errors import StoreError

from .engine import Report, SyncError, Syncer, as_sync_error
from .git import Git, GitError, git_env
from . import tokens
from .state import SyncState, private_dir
from .status import git_author as _git_author
from .status import project_status

TOKEN_ENV = "SALVUS_SYNC_TOKEN"


class Fail(click.ClickException):
    """A sync that could not complete (offline, remote ahead): one line, exit code 1."""

    exit_code = 1


class BadInput(click.ClickException):
    """Bad input (unknown project, not a git URL): one line, exit code 2."""

    exit_code = 2


class Ctx:
    """Options shared by the sync commands."""

    def __init__(self, data_dir: str | None, machine: str | None, author: str | None) -> None:
        self.config = Config.from_env(**({"data_dir": data_dir} if data_dir else {}))
        self.machine = machine or self.config.machine_name or socket.gethostname().split(".")[0] or "machine"
        self.author = author

    def projects(self) -> Any:
        """The ProjectManager of the data dir (as `salvus-local project` opens it)."""
        from salvus_local.project_cli import _Ctx

        return _Ctx(self.config.data_dir).projects

    def root(self, project: str | None) -> Path:
        """The folder of a project given by id or folder."""
        if project and os.path.isdir(project):
            return Path(project).resolve()
        from salvus_local.store.errors import StoreError

        try:
            return self.projects().root(project or "default")
        except StoreError as exc:
            raise BadInput(exc.message) from None

    def syncer(self, project: str | None, with_history: bool = False) -> Syncer:
        """A Syncer for the project (progress bars when stderr is a terminal)."""
        root = self.root(project)
        try:
            state = SyncState.load(private_dir(Git(root).git_dir))
            url = Git(root).run("remote", "get-url", state.remote, check=False).stdout.decode().strip() \
                if state.remote else ""
            syncer = Syncer(root, self.machine, author=self.author or _git_author(root), token=self.token_for(url),
                            max_file_mb=self.config.sync_max_file_mb)
        except GitError as exc:
            raise BadInput(f"{root} is not a git repository: {exc.message}") from None
        syncer.with_history = with_history
        if sys.stderr.isatty():
            from .progress import Bars

            syncer.progress = Bars(sys.stderr.write)
        return syncer

    @property
    def tokens_file(self) -> Path:
        """Where `sync login` keeps hub tokens: {origin: token}, mode 0600."""
        return Path(self.config.data_dir) / tokens.FILE

    def stored_tokens(self) -> dict[str, str]:
        """The tokens `sync login` stored."""
        return tokens.stored(self.config.data_dir)

    def token_for(self, url: str) -> str | None:
        """SALVUS_SYNC_TOKEN, else the token stored for the URL's origin (scheme://host:port), else None."""
        return os.environ.get(TOKEN_ENV) or tokens.token_for(self.config.data_dir, url)


_origin = tokens.origin


def _run(ctx: Ctx, project: str | None, verb: str, as_json: bool, with_history: bool = False) -> None:
    """Run pull/push/sync on a project and print what happened."""
    _print_report(getattr(ctx.syncer(project, with_history), verb)(), as_json)


def _print_report(report: Report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report)))
        return
    done = [what for what, value in (("committed local work", report.committed), ("merged the remote's work",
            report.merged), ("pushed", report.pushed)) if value]
    click.echo("; ".join(done) if done else "already in sync")
    if report.backup:
        click.echo(f"the remote's history was rewritten: your previous work is also kept on {report.backup}")
    for c in report.conflicts:
        click.echo(f"conflict ({c['kind']}): {c['path']}" + (f" — other version: {c['other']}" if c.get("other") else ""))
    for path in report.refused:
        click.echo(f"not synced (over the size limit): {path}", err=True)
    if report.history:
        click.echo(f"snapshots pushed to {report.history}")
    if report.history_error:
        click.echo(f"snapshots not pushed: {report.history_error}", err=True)


class SyncGroup(click.Group):
    """The sync group: a git or sync failure anywhere below is one line and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SyncError, GitError, StoreError, OSError) as exc:  # a full disk, a folder gone: one line
            raise Fail(as_sync_error(exc).message) from None


@click.group("sync", cls=SyncGroup, invoke_without_command=True)
@click.option("--data-dir", envvar="SALVUS_LOCAL_DATA_DIR", default=None, help="Data dir of the server.")
@click.option("--machine", default=None, help="This machine's name in commits and conflict copies (default: host name).")
@click.option("--author", default=None, help='Author of sync commits, "Name <email>" (default: git config, else you@machine).')
@click.option("-p", "--project", default=None, help="Project id or folder (default: the default project).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--with-history", is_flag=True, help="Also push this machine's snapshots "
                                                   "(to refs/salvus/machines/<machine>/snapshots).")
@click.pass_context
def sync(ctx: click.Context, data_dir: str | None, machine: str | None, author: str | None, project: str | None,
         as_json: bool, with_history: bool) -> None:
    """Sync projects with a git remote (a hub, GitHub, a bare repository). Without a command: pull, then push."""
    ctx.obj = Ctx(data_dir, machine, author)
    ctx.obj.project, ctx.obj.as_json, ctx.obj.with_history = project, as_json, with_history
    if ctx.invoked_subcommand is None:
        _run(ctx.obj, project, "sync", as_json, with_history)


def _project_option(f: Any) -> Any:
    f = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(f)
    return click.option("-p", "--project", default=None, help="Project id or folder (default: the default project).")(f)


@sync.command()
@_project_option
@click.pass_obj
def pull(obj: Ctx, project: str | None, as_json: bool) -> None:
    """Commit local work, fetch, and merge the remote's work into this copy."""
    _run(obj, project or obj.project, "pull", as_json or obj.as_json)


@sync.command()
@_project_option
@click.option("--with-history", is_flag=True, help="Also push this machine's snapshots "
                                                   "(to refs/salvus/machines/<machine>/snapshots).")
@click.pass_obj
def push(obj: Ctx, project: str | None, as_json: bool, with_history: bool) -> None:
    """Commit local work and send it (refused when the remote has work this copy lacks: use `sync`)."""
    _run(obj, project or obj.project, "push", as_json or obj.as_json, with_history or obj.with_history)


@sync.command()
@click.argument("project")
@click.argument("remote")
@click.option("--branch", default=None, help="Remote branch (default: the project's current branch).")
@click.pass_obj
def link(obj: Ctx, project: str, remote: str, branch: str | None) -> None:
    """Sync PROJECT with REMOTE (a git URL or a path to a repository); the next `sync` pushes or merges."""
    from .link import LinkError, link_remote

    root = obj.root(project)
    url = remote
    if _origin(url) and urlsplit(url).path in ("", "/"):
        url = _hub_url(obj, url, root)
    try:
        state = link_remote(root, url, branch)
    except LinkError as exc:
        raise BadInput(exc.message) from None
    url = Git(root).run("remote", "get-url", state.remote).stdout.decode().strip()
    click.echo(f"{root} syncs with {url} (branch {state.branch}); run `salvus-local sync -p {project}`")


@sync.command()
@click.argument("url")
@click.option("--title", default=None, help="Title (default: the project's own, else the repository name).")
@click.option("--json", "as_json", is_flag=True, help="Print the project as JSON.")
@click.pass_obj
def clone(obj: Ctx, url: str, title: str | None, as_json: bool) -> None:
    """Clone a remote project into this data dir and set it up for sync."""
    from salvus_local.store.errors import StoreError

    source = str(Path(url).resolve()) if os.path.isdir(url) else url
    try:
        # A repository on this disk may belong to another user than us (root cloning a session's repo).
        trust = [("safe.directory", source)] if os.path.isdir(source) else []
        project = obj.projects().clone(source, title, env=git_env(obj.token_for(source), config=trust))
    except StoreError as exc:
        raise BadInput(exc.message) from None
    git = Git(project["path"])
    branch = git.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.decode().strip()
    folder = private_dir(git.git_dir)
    state = SyncState(remote="origin", branch=branch)
    tip = git.rev(f"refs/remotes/origin/{branch}")
    if tip:  # what we start from is in sync: the base for noticing a rewritten remote later
        git.run("update-ref", f"refs/salvus/remote/{branch}", tip)
        git.run("update-ref", f"refs/salvus/synced/{branch}", tip)
    state.save(folder)
    if as_json or obj.as_json:
        click.echo(json.dumps(project))
    else:
        click.echo(f"{project['id']}\t{project['title']}\t{project['path']}")


@sync.command()
@_project_option
@click.pass_obj
def status(obj: Ctx, project: str | None, as_json: bool) -> None:
    """Ahead/behind (as of the last fetch), uncommitted files, conflicts, last sync, offline."""
    info = project_status(obj.root(project or obj.project))
    if as_json or obj.as_json:
        click.echo(json.dumps(info))
        return
    when = dt.datetime.fromtimestamp(info["last_sync"]).strftime("%Y-%m-%d %H:%M") if info["last_sync"] else "never"
    click.echo(f"{info['state']}: {info['ahead']} ahead, {info['behind']} behind, {info['uncommitted']} uncommitted; "
               f"last sync {when}" + (f"; remote {info['url']} ({info['branch']})" if info["url"] else ""))
    if info["last_error"]:
        click.echo(f"last attempt failed: {info['last_error']}")
    for c in info["conflicts"]:
        click.echo(f"conflict ({c['kind']}): {c['path']}" + (f" — other version: {c['other']}" if c.get("other") else ""))


def _hub_url(obj: Ctx, hub: str, root: Path) -> str:
    """The project's URL on a hub given by its address alone: <hub>/git/<you>/<project id>.git."""
    from salvus_local.store import layout

    from .login import LoginError, check_token

    origin = _origin(hub)
    token = obj.token_for(origin)
    if not token:
        raise BadInput(f"sign in to {origin} first: run `salvus-local sync login {origin}`")
    try:
        user = check_token(origin, token)
    except LoginError as exc:
        raise Fail(exc.message) from None
    project_id = str(layout.read_meta(root).get("id") or "") or root.name
    return f"{origin}/git/{user}/{project_id}.git"


@sync.command()
@click.argument("hub")
@click.option("--token", default=None, help="An API token of scope sync made on the hub (for scripts; default: "
                                            "$SALVUS_SYNC_TOKEN, else a code to approve on the hub). Moved out of "
                                            "the command line (ps) at once; $SALVUS_SYNC_TOKEN never shows there.")
@click.option("--no-browser", is_flag=True, help="Only print the approve page's address (never open a browser).")
@click.pass_obj
def login(obj: Ctx, hub: str, token: str | None, no_browser: bool) -> None:
    """Sign this machine in to a hub: approve the printed code there; the token is kept (mode 0600)."""
    from .login import LoginError, check_token, device_login

    origin = _origin(hub)
    if not origin:
        raise BadInput(f"not an http(s) URL: {hub!r}")
    token = token or os.environ.get(TOKEN_ENV)
    try:
        if token:
            user = check_token(origin, token)
        else:
            token, user = device_login(origin, obj.machine, lambda line: click.echo(line, err=True),
                                       open_browser=not no_browser)
    except LoginError as exc:
        raise Fail(exc.message) from None
    tokens.write(obj.config.data_dir, {**obj.stored_tokens(), origin: token})
    click.echo(f"signed in to {origin} as {user or 'you'}")


@sync.command()
@click.argument("hub")
@click.pass_obj
def logout(obj: Ctx, hub: str) -> None:
    """Revoke this machine's token on the hub and forget it here."""
    from .login import revoke

    origin = _origin(hub)
    kept = obj.stored_tokens()
    token = kept.pop(origin, None)
    if token is None:
        click.echo(f"no token was kept for {origin or hub}")
        return
    problem = revoke(origin, token)
    tokens.write(obj.config.data_dir, kept)
    if problem:
        click.echo(f"signed out here, but the token is still valid on the hub: {problem}; revoke it on the hub's "
                   "Settings page", err=True)
    click.echo(f"signed out of {origin}")
