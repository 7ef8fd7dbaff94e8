"""Sage worksheet modes as cell magics: ``%gp``, ``%maxima``, ``%python``, ``%latex``, ``%html``,
``%md``, ``%sh``, ``%gap``, ``%singular``, ``%R`` on a cell's first line, and ``%default_mode NAME``
so that following cells without a ``%`` first line run in that mode (``%default_mode sage`` ends it).

A cleanup input transformer rewrites a mode cell into ``%%salvus_mode NAME`` + body, which
IPython then runs as a cell magic (the body reaches the system untouched by the Sage
preparser). ``%python`` cells become the body behind a marker line that makes the Sage
preparser step pass them through. Systems run through Sage's own interfaces
(``gp.eval``, ``maxima.eval``, ...), so the output is what Sage prints for them.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from typing import Any, Callable

from IPython.core.error import UsageError

PYTHON_MARK = "# salvus-mode: python\n"
FIRST_LINE = re.compile(r"^%([A-Za-z_]\w*)[ \t]*(.*?)\s*$")

# Interface modes: name -> (Sage module, object in it, the pip package that provides it).
INTERFACES = {
    "gp": ("sage.interfaces.gp", "gp", "passagemath-pari"),
    "maxima": ("sage.interfaces.maxima", "maxima", "passagemath-maxima"),
    "gap": ("sage.interfaces.gap", "gap", "passagemath-gap"),
    "singular": ("sage.interfaces.singular", "singular", "passagemath-singular"),
    "R": ("sage.interfaces.r", "r", "passagemath-r (and R itself)"),
}
TEXT_MODES = ("html", "md", "markdown", "latex", "sh")
MODES = frozenset({*INTERFACES, *TEXT_MODES, "python", "sage"})


class ModeUnavailable(Exception):
    """A mode whose system is not installed; the message says how to install it."""


def _interface(name: str) -> Any:
    """Sage's interface object for a mode (raises ModeUnavailable when it cannot run)."""
    module, attr, package = INTERFACES[name]
    try:
        if importlib.util.find_spec(module) is None:
            raise ImportError(module)
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        raise ModeUnavailable(f"%{name}: {name} is not installed here (pip install {package})") from None


def _ensure_dot_sage() -> None:
    """Sage's pexpect interfaces log into $DOT_SAGE, which a session's fresh home lacks at first."""
    folders = {os.environ.get("DOT_SAGE", "")}
    with contextlib.suppress(ImportError):
        import sage.env

        folders.add(str(getattr(sage.env, "DOT_SAGE", "") or ""))
    for folder in folders - {""}:
        with contextlib.suppress(OSError):
            os.makedirs(folder, mode=0o700, exist_ok=True)


def run_interface(name: str, code: str) -> None:
    """Evaluate code in a system through Sage's interface and print what it prints."""
    interface = _interface(name)
    _ensure_dot_sage()
    try:
        output = interface.eval(code)
    except (RuntimeError, TypeError, OSError) as exc:
        # pexpect interfaces raise these when the program itself is missing or will not start.
        if "start" in str(exc).lower() or "not found" in str(exc).lower() or isinstance(exc, OSError):
            raise ModeUnavailable(f"%{name}: could not start {name} ({exc})") from None
        raise
    if output:
        print(output)


def run_shell(code: str) -> None:
    """Run the cell with bash (or sh) in the working folder; output streams as it comes."""
    shell = shutil.which("bash") or "/bin/sh"
    done = subprocess.run([shell, "-c", code], check=False)
    if done.returncode:
        print(f"[exit status {done.returncode}]", file=sys.stderr)


def show(shell: Any, data: dict[str, str]) -> None:
    """Publish a display_data bundle."""
    shell.display_pub.publish(data, {})


def run_latex(shell: Any, code: str) -> None:
    """LaTeX, rendered: pure math as display math, text with $...$ as markdown with math."""
    body = code.strip()
    if "$" in body or "\\begin{document}" in body or "\\[" in body or "\\(" in body:
        body = re.sub(r"\\(?:documentclass|usepackage)(\[[^\]]*\])?\{[^}]*\}|\\(?:begin|end)\{document\}", "", body)
        show(shell, {"text/markdown": body.strip(), "text/plain": code})
    else:
        show(shell, {"text/latex": f"$${body}$$", "text/plain": code})


class Modes:
    """The mode state of one shell: its default mode and the magics that run cells."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.default = "sage"

    def runners(self) -> dict[str, Callable[[str], None]]:
        """Mode name -> function running a cell body in it."""
        from IPython.display import HTML, Markdown

        table: dict[str, Callable[[str], None]] = {name: (lambda code, n=name: run_interface(n, code))
                                                  for name in INTERFACES}
        table.update({
            "html": lambda code: show(self.shell, {"text/html": code.rstrip("\n"), "text/plain": repr(HTML(code))}),
            "md": lambda code: show(self.shell, {"text/markdown": code.rstrip("\n"), "text/plain": repr(Markdown(code))}),
            "latex": lambda code: run_latex(self.shell, code),
            "sh": run_shell,
        })
        table["markdown"] = table["md"]
        return table

    def cell_magic(self, line: str, cell: str) -> None:
        """``%%salvus_mode NAME``: run the cell in mode NAME."""
        name = line.split()[0] if line.split() else ""
        runner = self.runners().get(name)
        if runner is None:
            raise UsageError(f"unknown mode {name!r}; modes: {', '.join(sorted(MODES))}")
        try:
            runner(cell)
        except ModeUnavailable as exc:
            print(str(exc), file=sys.stderr)

    def default_mode(self, line: str) -> None:
        """``%default_mode NAME``: cells without a % first line run in NAME (sage to end it)."""
        name = line.strip()
        if not name:
            print(self.default)
            return
        if name not in MODES:
            raise UsageError(f"unknown mode {name!r}; modes: {', '.join(sorted(MODES))}")
        self.default = name

    def transform(self, lines: list[str]) -> list[str]:
        """IPython cleanup transformer: a mode cell becomes ``%%salvus_mode NAME`` + body."""
        if not lines:
            return lines
        m = FIRST_LINE.match(lines[0])
        if m and m.group(1) in MODES:
            name, body = m.group(1), lines[1:]
        elif self.default != "sage" and not lines[0].lstrip().startswith(("%", "!")):
            name, body = self.default, lines
        else:
            return lines
        if name == "sage":
            return body or ["\n"]
        if name == "python":
            return [PYTHON_MARK, *body]
        return [f"%%salvus_mode {name}\n", *body]


def skip_marked(preparse: Callable[[list[str]], list[str]]) -> Callable[[list[str]], list[str]]:
    """Wrap the Sage preparser transformer so that %python cells pass through unchanged."""
    def transformer(lines: list[str]) -> list[str]:
        if lines and lines[0] == PYTHON_MARK:
            return lines[1:]
        return preparse(lines)
    transformer.has_side_effects = getattr(preparse, "has_side_effects", False)  # type: ignore[attr-defined]
    return transformer


def install(shell: Any) -> Modes:
    """Register the mode magics and transformers on a Sage shell; return its Modes."""
    modes = Modes(shell)
    shell.register_magic_function(modes.cell_magic, "cell", "salvus_mode")
    shell.register_magic_function(modes.default_mode, "line", "default_mode")
    shell.input_transformer_manager.cleanup_transforms.append(modes.transform)
    checker = getattr(shell, "_check_complete_transformer", None)
    if checker is not None and checker is not shell.input_transformer_manager:
        checker.cleanup_transforms.insert(0, modes.transform)  # a mode body is never "incomplete" Sage
    post = shell.input_transformers_post
    for i, step in enumerate(post):
        if getattr(step, "__name__", "") == "SagePreparseTransformer":
            post[i] = skip_marked(step)
    shell.salvus_modes = modes
    return modes
