"""The ``salvus-local`` (and ``sage-salvus``) command: options become a Config, nothing more.

    salvus-local [serve] [--ip IP] [--port N] [--data-dir DIR] [--token-file PATH] [--no-browser]
                         [--kernel sage|python] [--lan] [--allow-host HOST ...]
    salvus-local desktop [same options]
    salvus-local desktop --install-shortcut | --uninstall-shortcut

Every setting can also come from the environment as ``SALVUS_LOCAL_<NAME>``; options win.

Secrets never stay in a process's argv, where every local user (and every session) reads them in
``/proc/<pid>/cmdline``: give the token as ``SALVUS_LOCAL_TOKEN`` or ``--token-file PATH``.  For
compatibility ``--token T`` still works: ``main`` moves it into the environment and re-executes
the command without it (same pid), before anything else starts.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from salvus_local import __version__
from salvus_local.config import Config


class CLIError(click.ClickException):
    """A one-line error with exit code 2 (bad input, port in use, unwritable data dir)."""

    exit_code = 2


OPTIONS = [
    click.option("--ip", default=None, help="Address to listen on (default 127.0.0.1; see --lan)."),
    click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port to listen on; 0 picks a free one."),
    click.option("--data-dir", default=None, help="Where projects, the database and run files live."),
    click.option("--token", default=None,
                 help="Access token for the printed URL (random by default). Prefer SALVUS_LOCAL_TOKEN or "
                      "--token-file: a token given here is moved into the environment and the command "
                      "re-executed without it, so it does not stay visible in the process list."),
    click.option("--token-file", "token_file", default=None, type=click.Path(dir_okay=False),
                 help="Read the access token from this file (its first line)."),
    click.option("--compute-secret-file", "compute_secret_file", default=None, type=click.Path(dir_okay=False),
                 help="Read the TCP compute listener's shared secret (--compute-tcp) from this file (first line); "
                      "or set SALVUS_LOCAL_COMPUTE_SECRET."),
    click.option("--no-browser", is_flag=True, default=False, help="Do not open a browser."),
    click.option("--kernel", type=click.Choice(["sage", "python"]), default=None,
                 help="Default kernel (sage falls back to python when Sage is not installed)."),
    click.option("--lan", is_flag=True, default=False,
                 help="Serve the local network: listen on 0.0.0.0, accept this machine's host names, "
                      "and require accounts (implies --multi-user)."),
    click.option("--allow-host", "allow_host", multiple=True,
                 help="Also accept this Host name (DNS-rebinding guard); repeatable."),
]


# Settings with a hand-written option above; every other Config setting gets a generated one.
EXPLICIT = {"ip", "port", "data_dir", "token", "open_browser", "kernel", "allow_hosts"}  # (and --token-file)


def _setting_option(f: Any) -> Callable:
    """A --name option for one Config setting, typed and documented from its declaration."""
    flag = "--" + f.name.replace("_", "-")
    help_text = f.metadata["help"]
    if isinstance(f.default, bool):
        return click.option(f"{flag}/--no-{flag[2:]}", f.name, default=None, help=help_text)
    if f.default is dataclasses.MISSING:  # lists
        return click.option(flag, f.name, multiple=True, help=help_text + " Repeatable.")
    return click.option(flag, f.name, type=type(f.default), default=None, show_default=False, help=help_text)


SETTING_OPTIONS = [_setting_option(f) for f in Config.settings() if f.name not in EXPLICIT]


def serve_options(f: Callable) -> Callable:
    """Apply the server options to a command."""
    for option in reversed([*OPTIONS, *SETTING_OPTIONS]):
        f = option(f)
    return f


def build_config(options: dict[str, Any]) -> Config:
    """Turn command-line options (over SALVUS_LOCAL_* variables) into a Config."""
    try:
        generated = {f.name: options.get(f.name) for f in Config.settings() if f.name not in EXPLICIT}
        generated = {k: (list(v) or None) if isinstance(v, tuple) else v for k, v in generated.items()}
        config = Config.from_env(ip=options.get("ip"), port=options.get("port"), data_dir=options.get("data_dir"),
                                 token=options.get("token"), kernel=options.get("kernel"), **generated)
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    if config.collaboration not in ("auto", "on", "off"):
        raise CLIError(f"--collaboration must be auto, on or off, not {config.collaboration!r}")
    if options.get("token_file"):
        config.token = read_token_file(options["token_file"])
    if options.get("compute_secret_file"):
        config.compute_secret = read_token_file(options["compute_secret_file"], "compute secret")
    if options.get("no_browser"):
        config.open_browser = False
    config.allow_hosts = [*config.allow_hosts, *options.get("allow_host", ())]
    if options.get("lan"):
        from salvus_local.ui.launcher import lan_hosts

        if not options.get("ip"):
            config.ip = "0.0.0.0"
        config.multi_user = True
        config.allow_hosts += lan_hosts()
    return config


def read_token_file(path: str, what: str = "token") -> str:
    """The token (or another secret) in a file (first line, stripped), or a one-line CLIError."""
    try:
        with open(path, encoding="utf-8") as f:
            token = f.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read the {what} file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not token:
        raise CLIError(f"the {what} file {path} is empty: put the {what} on its first line")
    return token


def scrub_token_argv(argv: list[str], flag: str = "--token") -> tuple[list[str], str | None]:
    """Split ``--token T`` / ``--token=T`` (or another secret ``flag``) out of argv: (the rest, the value or None)."""
    rest: list[str] = []
    token = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg == flag and i + 1 < len(argv):
            token, i = argv[i + 1], i + 2
            continue
        if arg.startswith(flag + "="):
            token, i = arg.split("=", 1)[1], i + 1
            continue
        rest.append(arg)
        i += 1
    return rest, token


# Secret options moved from argv into the environment (then re-exec): flag → variable.
ARGV_SECRETS = {"--token": "SALVUS_LOCAL_TOKEN", "--compute-secret": "SALVUS_LOCAL_COMPUTE_SECRET"}


def _reexec_without_token(args: list[str] | None) -> None:
    """If the token came on the command line, put it in the environment and exec ourselves without it."""
    if args is not None:
        return  # called from Python: there is no command line to hide
    other = (set(cli.commands) | set(cli.lazy)) - {"serve", "desktop"}  # their own --token options (sync login) mean other things
    secrets = ARGV_SECRETS
    if _is_sync_login(sys.argv[1:]):
        secrets = {"--token": "SALVUS_SYNC_TOKEN"}  # the hub's sync token (sync login reads this variable)
    elif any(arg in other for arg in sys.argv[1:]):
        return
    rest, found = sys.argv[1:], False
    for flag, variable in secrets.items():
        rest, value = scrub_token_argv(rest, flag)
        if value is not None:
            os.environ[variable], found = value, True
    if not found:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "salvus_local", *rest])


def _is_sync_login(argv: list[str]) -> bool:
    """True for `salvus-local [...] sync [...] login ...` (its --token is a hub's sync token)."""
    return "sync" in argv and "login" in argv[argv.index("sync") + 1:]


def _merged(ctx: click.Context, options: dict[str, Any]) -> dict[str, Any]:
    """Combine options given before the subcommand with those after it (after wins)."""
    before = (ctx.obj or {}).get("options", {})
    return {k: v if v not in (None, False, ()) else before.get(k, v) for k, v in options.items()}


def _serve(options: dict[str, Any]) -> None:
    """Run the server in the foreground."""
    from salvus_local.ui.launcher import LaunchError, serve

    config = build_config(options)
    try:
        serve(config)
    except LaunchError as exc:
        raise CLIError(str(exc)) from None


class LazyGroup(click.Group):
    """A group whose ``lazy`` commands ({name: "module:attribute"}) are imported only when used or listed.

    Why: every ``salvus-local sync`` (run by each background and benchmarked sync) would otherwise
    import the HTTP client commands it never uses.
    """

    lazy: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            import importlib

            module, attr = self.lazy[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@serve_options
@click.version_option(__version__, prog_name="salvus-local")
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """salvus-local: a local notebook server for SageMath. Without a command, runs `serve`."""
    ctx.obj = {"options": options}
    if ctx.invoked_subcommand is None:
        _serve(options)


@cli.command()
@serve_options
@click.pass_context
def serve(ctx: click.Context, **options: Any) -> None:
    """Start the server and open the notebook in a browser."""
    _serve(_merged(ctx, options))


@cli.command()
@serve_options
@click.option("--install-shortcut", is_flag=True, default=False,
              help="Add Salvus Local with its icon to the desktop's application menu, then exit.")
@click.option("--uninstall-shortcut", is_flag=True, default=False, help="Remove that menu entry and icon, then exit.")
@click.pass_context
def desktop(ctx: click.Context, install_shortcut: bool, uninstall_shortcut: bool, **options: Any) -> None:
    """Start the server in a desktop window (needs pywebview)."""
    if install_shortcut or uninstall_shortcut:
        _shortcut(install_shortcut, uninstall_shortcut, _merged(ctx, options).get("data_dir"))
        return
    config = build_config(_merged(ctx, options))
    try:
        from salvus_local.ui import desktop as desktop_ui
    except ImportError as exc:
        raise CLIError(f"the desktop window is not available: {exc}") from None
    from salvus_local.ui.launcher import LaunchError

    try:
        desktop_ui.run(config)
    except LaunchError as exc:
        raise CLIError(str(exc)) from None


def _shortcut(install: bool, uninstall: bool, data_dir: str | None) -> None:
    """Install or remove the desktop menu launcher (or say what to do on macOS/Windows)."""
    from salvus_local.ui import shortcut

    if install and uninstall:
        raise CLIError("give either --install-shortcut or --uninstall-shortcut, not both")
    advice = shortcut.other_platform_help(sys.platform, data_dir)
    if advice:
        click.echo(advice)
        return
    try:
        if uninstall:
            removed = shortcut.uninstall()
            click.echo(f"removed {removed[0]} and its icons" if removed else "no Salvus Local menu entry was installed")
            return
        entry, *_icons = shortcut.install(data_dir)
    except shortcut.ShortcutError as exc:
        raise CLIError(str(exc)) from None
    click.echo(f"installed {entry}: Salvus Local is in the application menu")
    if not shortcut.desktop_window_available():
        click.echo("note: the desktop window needs pywebview: pip install 'salvus-local[desktop]'")


@cli.command("import")
@click.argument("worksheet", type=click.Path(dir_okay=False, path_type=Path))
def import_command(worksheet: Path) -> None:
    """Convert a Sage worksheet (.sws or .sagews) into an .ipynb beside it."""
    from salvus_local.worksheets import WorksheetError, import_worksheet

    try:
        target = import_worksheet(worksheet)
    except WorksheetError as exc:
        raise CLIError(f"{worksheet}: {' '.join(str(exc).split())}; nothing was written") from None
    click.echo(str(target))


def _add_project_commands() -> None:
    """Mount `salvus-local project ...` (create, list, open, clone, ...)."""
    cli.lazy = {**cli.lazy, "project": "salvus_local.project_cli:project"}


_add_project_commands()


def _add_account_commands() -> None:
    """Mount `salvus-local user ...` and `salvus-local token ...`."""
    from salvus_local.accounts_cli import token, user

    cli.add_command(user)
    cli.add_command(token)


_add_account_commands()


def _add_client_commands() -> None:
    """Mount `salvus-local run FILE`, `salvus-local exec CODE` and `salvus-local export FILE`."""
    cli.lazy = {**cli.lazy, "run": "salvus_local.client_cli:run", "exec": "salvus_local.client_cli:exec_",
                "export": "salvus_local.client_cli:export"}


_add_client_commands()


def _add_course_commands() -> None:
    """Mount `salvus-local course ...` (a teacher's course actions against a running multi-user server)."""
    cli.lazy = {**cli.lazy, "course": "salvus_local.client_cli.course:course"}


_add_course_commands()


def _add_sync_commands() -> None:
    """Mount `salvus-local sync ...` (clone, link, push, pull, status) when salvus_sync is installed."""
    try:
        from salvus_sync.cli import sync
    except ImportError:
        return
    cli.add_command(sync)


_add_sync_commands()


def main(args: list[str] | None = None, prog_name: str = "salvus-local") -> None:
    """Entry point of ``salvus-local`` and ``sage-salvus``: errors are one line, exit code 2."""
    _reexec_without_token(args)
    try:
        code = cli.main(args=args, prog_name=prog_name, standalone_mode=False)
    except click.UsageError as exc:  # without click's usage dump: one line saying what to fix
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
