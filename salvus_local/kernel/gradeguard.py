"""The autograder's guard: snapshot the shell's machinery before a student's cells, put it back before each test cell.

The server calls these through an execute_request's ``user_expressions`` (evaluated by IPython without input
transformers, AST transformers or cell events), so hooks a student's cell registered cannot turn a test cell into
``pass``.  The student's code runs in this same process, so a determined one can still patch this module or the
shell's methods; the server's grading therefore also reports what it found changed (``tampered``), and the only
things the student's code can affect are this run's outputs, never files outside the run's scratch folder.
"""

from __future__ import annotations

import builtins
import sys
from typing import Any

_saved: dict[str, Any] = {}

_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
_SHELL_METHODS = ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell", "showtraceback",
                  "user_expressions")


def _shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell._instance  # the session's one shell, not a name the student's namespace could rebind


def snapshot() -> str:
    """Remember the session shell's pristine machinery (call once, before any student cell); 'ok'."""
    shell = _shell()
    _saved["lists"] = {name: list(getattr(shell, name, [])) for name in _LISTS}
    _saved["events"] = {name: list(cbs) for name, cbs in shell.events.callbacks.items()}
    _saved["methods"] = {name: shell.__dict__.get(name) for name in _SHELL_METHODS}
    _saved["builtins"] = dict(vars(builtins))
    _saved["sys"] = {"trace": sys.gettrace(), "profile": sys.getprofile(), "excepthook": sys.excepthook,
                     "displayhook": sys.displayhook, "exit": sys.exit}
    return "ok"


def restore() -> list[str]:
    """Put back what snapshot saw; the names of what had been changed (empty when nothing was)."""
    shell = _shell()
    changed: list[str] = []
    for name, items in _saved["lists"].items():
        if getattr(shell, name, None) != items:
            changed.append(name)
            setattr(shell, name, list(items))
    for name, cbs in _saved["events"].items():
        if shell.events.callbacks.get(name) != cbs:
            changed.append(f"events.{name}")
            shell.events.callbacks[name] = list(cbs)
    for name, method in _saved["methods"].items():
        if shell.__dict__.get(name) is not method:
            changed.append(f"shell.{name}")
            if method is None:
                shell.__dict__.pop(name, None)
            else:
                shell.__dict__[name] = method
    names = vars(builtins)
    for name, value in _saved["builtins"].items():
        if names.get(name) is not value:
            changed.append(f"builtins.{name}")
            names[name] = value
    s = _saved["sys"]
    if sys.gettrace() is not s["trace"]:
        changed.append("sys.settrace")
        sys.settrace(s["trace"])
    if sys.getprofile() is not s["profile"]:
        changed.append("sys.setprofile")
        sys.setprofile(s["profile"])
    for name in ("excepthook", "displayhook", "exit"):
        if getattr(sys, name) is not s[name]:
            changed.append(f"sys.{name}")
            setattr(sys, name, s[name])
    return changed
