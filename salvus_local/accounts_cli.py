"""``salvus-local user …`` and ``salvus-local token …``: manage accounts from the shell.

    salvus-local user add NAME [--role R] [--display-name D] [--password-stdin]
    salvus-local user list [--json]          salvus-local user passwd NAME [--password-stdin]
    salvus-local user remove NAME            (their projects are kept, archived)
    salvus-local token create --user NAME [--scope api|sync] [--expires DAYS] [--note N]
    salvus-local token list [--user NAME]    salvus-local token revoke ID

Each works on ``--data-dir`` (or ``SALVUS_LOCAL_DATA_DIR``) with the server stopped or running:
SQLite in WAL mode lets these short write transactions run beside the server.  Bad input gets a
one-line message and exit status 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from salvus_local.config import Config
from salvus_local.store.errors import StoreError


class AccountsCLIError(click.ClickException):
    """A one-line error, exit status 2."""

    exit_code = 2


class _Ctx:
    """The data dir's Accounts, opened on first use."""

    def __init__(self, data_dir: str | None) -> None:
        self.config = Config.from_env(**({"data_dir": data_dir} if data_dir else {}))
        self._accounts: Any = None

    @property
    def accounts(self) -> Any:
        if self._accounts is None:
            from salvus_local.accounts import Accounts
            from salvus_local.store.db import Store

            self._accounts = Accounts(Store.for_data_dir(self.config.data_dir))
        return self._accounts


def _run(fn: Any) -> Any:
    try:
        return fn()
    except StoreError as exc:
        raise AccountsCLIError(exc.message) from None


def _data_dir(ctx: click.Context, data_dir: str | None) -> str | None:
    """The group's --data-dir, else the one given before the command (``salvus-local --data-dir D user …``)."""
    parent = ctx.parent.obj if ctx.parent is not None and isinstance(ctx.parent.obj, dict) else {}
    return data_dir or (parent.get("options") or {}).get("data_dir")


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    """The first line of stdin (--password-stdin), else a hidden prompt."""
    if password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise AccountsCLIError("--password-stdin: stdin is empty; pipe the password in")
        return line
    if not sys.stdin.isatty():
        raise AccountsCLIError("no terminal to ask for a password; use --password-stdin")
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@click.group("user")
@click.option("--data-dir", envvar="SALVUS_LOCAL_DATA_DIR", default=None, help="Data dir of the server.")
@click.pass_context
def user(ctx: click.Context, data_dir: str | None) -> None:
    """Add, list, change and remove user accounts (multi-user mode)."""
    ctx.obj = _Ctx(_data_dir(ctx, data_dir))


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "teacher", "student"]), default="student", show_default=True)
@click.option("--display-name", default=None, help="Name shown to others (default: the username).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin; else a one-time password "
              "is printed and must be changed at the first login.")
@click.pass_obj
def add(obj: _Ctx, name: str, role: str, display_name: str | None, password_stdin: bool) -> None:
    """Create an account."""
    from salvus_local.accounts.passwords import one_time_password

    password = _read_password(True) if password_stdin else one_time_password()
    row = _run(lambda: obj.accounts.users.create(name, role, password, display_name,
                                                 must_change_password=not password_stdin))
    click.echo(f"created {row['role']} {row['name']}")
    if not password_stdin:
        click.echo(f"one-time password: {password}  (to be changed at the first login)")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def list_users(obj: _Ctx, as_json: bool) -> None:
    """List accounts: name, role, status, last seen."""
    from salvus_local.accounts.users import public

    rows = [public(r) for r in _run(obj.accounts.users.list)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        flags = " [must change password]" if r["must_change_password"] else ""
        click.echo(f"{r['name']}\t{r['role']}\t{r['status']}\t{_when(r['last_seen'])}\t{r['display_name']}{flags}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
@click.pass_obj
def passwd(obj: _Ctx, name: str, password_stdin: bool) -> None:
    """Set a user's password; their login sessions end."""
    target = _run(lambda: obj.accounts.users.get(name))
    password = _read_password(password_stdin)
    _run(lambda: obj.accounts.users.set_password(target["id"], password))
    ended = obj.accounts.sessions.revoke_user(target["id"])
    click.echo(f"password of {target['name']} changed; {ended} login session(s) ended")


@user.command("remove")
@click.argument("name")
@click.pass_obj
def remove(obj: _Ctx, name: str) -> None:
    """Remove an account; its projects are kept, archived (an admin still sees and can restore them)."""
    row = _run(lambda: obj.accounts.users.remove(name))
    click.echo(f"removed {row['name']}; their projects are kept, archived")


@click.group("token")
@click.option("--data-dir", envvar="SALVUS_LOCAL_DATA_DIR", default=None, help="Data dir of the server.")
@click.pass_context
def token(ctx: click.Context, data_dir: str | None) -> None:
    """Create, list and revoke API tokens (multi-user mode)."""
    ctx.obj = _Ctx(_data_dir(ctx, data_dir))


@token.command("create")
@click.option("--user", "username", required=True, help="Whose token.")
@click.option("--scope", type=click.Choice(["api", "sync"]), default="api", show_default=True)
@click.option("--expires", type=click.IntRange(1, 3650), default=None, help="Days until it expires (default never).")
@click.option("--note", default=None, help="What the token is for.")
@click.pass_obj
def create_token(obj: _Ctx, username: str, scope: str, expires: int | None, note: str | None) -> None:
    """Make a token and print it (shown this once; only its hash is stored)."""
    target = _run(lambda: obj.accounts.users.get(username))
    value, row = _run(lambda: obj.accounts.tokens.create(target["id"], scope, expires, note))
    click.echo(value)
    click.echo(f"token {row['id']} ({row['prefix']}…, scope {scope}) for {target['name']}; "
               "it is not shown again", err=True)


@token.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
@click.pass_obj
def list_tokens(obj: _Ctx, username: str | None) -> None:
    """List tokens: id, user, prefix, scope, expiry, last use."""
    user_id = _run(lambda: obj.accounts.users.get(username))["id"] if username else None
    for t in _run(lambda: obj.accounts.tokens.list(user_id)):
        click.echo(f"{t['id']}\t{t['user']}\t{t['prefix']}…\t{t['scope']}\texpires {_when(t['expires'])}\t"
                   f"used {_when(t['last_used'])}\t{t['note']}")


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def revoke_token(obj: _Ctx, token_id: int) -> None:
    """Revoke a token by id (see token list)."""
    _run(lambda: obj.accounts.tokens.revoke(token_id))
    click.echo(f"token {token_id} revoked")
