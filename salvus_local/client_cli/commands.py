"""The click commands ``run``, ``exec`` and ``export`` (mounted on ``salvus-local`` by cli.py).

Exit codes: 0 success, 1 the code raised an error, 2 bad input or no server (one line, no traceback).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from salvus_local.config import default_data_dir

from .connect import ClientError, connect

if TYPE_CHECKING:
    from .session import RemoteKernel

KERNEL_HELP = "Kernel: sage, python (or a kernel spec name); default from the file's kind or the server."
SERVER_HELP = ("URL of a running salvus-local (token from $SALVUS_LOCAL_TOKEN); default: the server of the data "
               "dir (its run/server.json), else a private one started for this command.")


class UsageProblem(click.ClickException):
    """A one-line error, exit code 2."""

    exit_code = 2


def _data_dir(value: str | None) -> str:
    return value or os.environ.get("SALVUS_LOCAL_DATA_DIR") or default_data_dir()


def _kernel_for(path: Path, nb: Any, kernel: str | None) -> str | None:
    """Pick a kernel: --kernel, else the notebook's kernelspec, else from the extension (.py → python)."""
    if kernel:
        return kernel
    if nb is not None:
        return ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name") or None
    return {".py": "python", ".sage": "sage"}.get(path.suffix)


@contextmanager
def _remote_kernel(server: str | None, data_dir: str | None, kernel: str | None) -> Iterator[RemoteKernel]:
    """A new kernel on the server for the with-block, shut down and disconnected after; ClientError → UsageProblem."""
    from .session import RemoteKernel  # lazy: every salvus-local command imports this module

    conn = None
    try:
        conn = connect(server, _data_dir(data_dir))
        remote = RemoteKernel(conn, kernel)
        try:
            yield remote
        finally:
            remote.shutdown()
    except ClientError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        if conn is not None:
            conn.close()


def _run_code(server: str | None, data_dir: str | None, kernel: str | None, code: str) -> int:
    """Run one piece of code with streamed output; return the exit code."""
    from .session import print_output

    with _remote_kernel(server, data_dir, kernel) as remote:
        reply = remote.execute(code, print_output)
    return 0 if reply.get("status") == "ok" else 1


def _run_notebook(server: str | None, data_dir: str | None, kernel: str | None, path: Path, output: Path) -> int:
    """Run every code cell in order (stopping at the first error); write the executed notebook."""
    import nbformat  # imported here: it costs seconds, and every salvus-local command imports this module

    from .session import print_output

    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as exc:
        raise UsageProblem(f"{path} is not a readable notebook: {exc}") from None
    failed = False
    with _remote_kernel(server, data_dir, _kernel_for(path, nb, kernel)) as remote:
        for cell in nb.cells:
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            outputs: list[dict[str, Any]] = []

            def keep(out: dict[str, Any], outputs: list[dict[str, Any]] = outputs) -> None:
                print_output(out)
                outputs.append(out)

            reply = remote.execute(cell.source, keep)
            cell.outputs = [nbformat.from_dict(o) for o in outputs]
            cell.execution_count = reply.get("execution_count")
            if reply.get("status") != "ok":
                failed = True
                break
    tmp = output.with_name(output.name + ".tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, output)  # atomic: never a half-written notebook
    click.echo(f"wrote {output}", err=True)
    return 1 if failed else 0


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--kernel", default=None, help=KERNEL_HELP)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where a notebook's executed copy goes (default: NAME.executed.ipynb beside it).")
@click.option("--data-dir", default=None, help="Data dir whose running server to use.")
@click.pass_context
def run(ctx: click.Context, file: Path, server: str | None, kernel: str | None, output: Path | None,
        data_dir: str | None) -> None:
    """Run FILE (.sage, .py or .ipynb) on a server, streaming its output; exit 1 if it raised an error."""
    if not file.is_file():
        raise UsageProblem(f"no such file: {file}")
    if file.suffix == ".ipynb":
        target = output or file.with_name(file.stem + ".executed.ipynb")
        ctx.exit(_run_notebook(server, data_dir, kernel, file, target))
    if file.suffix not in (".sage", ".py"):
        raise UsageProblem(f"run takes a .sage, .py or .ipynb file, not {file.name}")
    try:
        code = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read {file}: {exc}") from None
    ctx.exit(_run_code(server, data_dir, _kernel_for(file, None, kernel), code))


@click.command("exec")
@click.argument("code")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--kernel", default=None, help=KERNEL_HELP)
@click.option("--data-dir", default=None, help="Data dir whose running server to use.")
@click.pass_context
def exec_(ctx: click.Context, code: str, server: str | None, kernel: str | None, data_dir: str | None) -> None:
    """Run one snippet of CODE and print its output; exit 1 if it raised an error."""
    if not code.strip():
        raise UsageProblem("give some code to run, e.g. salvus-local exec 'factor(2^64-1)'")
    ctx.exit(_run_code(server, data_dir, kernel, code))


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "to", type=click.Choice(["html", "pdf"]), required=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: FILE with the new extension).")
def export(file: Path, to: str, output: Path | None) -> None:
    """Export a notebook to HTML (nbconvert) or PDF (headless Chromium, else LaTeX); no server needed."""
    from salvus_local.server.share.export import ExportError, read, to_html, to_pdf

    if not file.is_file():
        raise UsageProblem(f"no such file: {file}")
    target = output or file.with_suffix(f".{to}")
    try:
        nb = read(file)
        if to == "html":
            data, how = to_html(nb, file.stem).encode(), "nbconvert"
        else:
            data, engine = to_pdf(nb, file.stem)
            how = {"chromium": "headless Chromium's print-to-PDF", "latex": "LaTeX (nbconvert)"}[engine]
    except ExportError as exc:
        raise UsageProblem(str(exc)) from None
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    click.echo(f"wrote {target} ({how})")
