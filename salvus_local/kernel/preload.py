"""Load Sage (or plain Python) once in the forking parent, build the shell, warm it up.

Everything done here is shared copy-on-write by every forked session, so the more is
imported and exercised here, the faster and smaller each session is.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import io
import os
import platform
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

from traitlets.config import Config as TraitletsConfig

from . import cellfiles, comms
from .shell import PythonShell, sage_shell_class

# The Sage globals come from the fullest module that is installed: a complete Sage has
# sage.all_cmdline; passagemath's modular distributions each provide sage.all__sagemath_*.
SAGE_FULL = "sage.all_cmdline"
SAGE_PARTS = ["repl", "objects", "categories", "modules", "combinat", "graphs", "groups", "pari", "flint",
              "ntl", "ecl", "maxima", "gsl", "singular", "schemes", "symbolics", "plot"]

SAGE_WARMUP = [
    "integrate(sin(x)^2, x)",
    "factor(2^64 - 1)",
    "matrix(QQ, [[1, 2], [3, 4]])^-1",
    "_ = plot(sin(x), (x, 0, 1))._rich_repr_(get_display_manager())",
    "from sage.repl.ipython_kernel.interact import interact",
    "1/0",
]
PYTHON_WARMUP = ["1 + 1", "1/0", "import json, math, re"]


@dataclass
class Preloaded:
    """The shell and what the kernel tells clients about itself."""

    kind: str
    shell: Any
    kernel: dict[str, Any] = field(default_factory=dict)


def sage_available() -> bool:
    """Return True when some Sage (full or passagemath parts) can be imported."""
    return any(importlib.util.find_spec(m) is not None for m in ("sage.all", "sage.all__sagemath_repl"))


def _shell_config() -> TraitletsConfig:
    """IPython settings for a forking parent."""
    c = TraitletsConfig()
    # IPython's history is SQLite plus a saving thread: neither may cross a fork.
    c.HistoryManager.enabled = False
    c.HistoryManager.hist_file = ":memory:"
    c.IPCompleter.use_jedi = False  # jedi's first completion takes seconds; IPython's own is instant
    c.InteractiveShell.xmode = "Context"
    return c


def _sage_globals(shell: Any) -> str:
    """Fill the user namespace with Sage's globals; return the Sage version."""
    from sage.repl.user_globals import initialize_globals

    if importlib.util.find_spec(SAGE_FULL) is not None:
        initialize_globals(importlib.import_module(SAGE_FULL), shell.user_ns)
    else:
        for part in SAGE_PARTS:
            name = f"sage.all__sagemath_{part}"
            if importlib.util.find_spec(name) is not None:
                initialize_globals(importlib.import_module(name), shell.user_ns)
    extra = importlib.import_module("sage.repl.ipython_kernel.widgets_sagenb")
    for name in ("input_box", "text_control", "slider", "range_slider", "checkbox", "selector",
                 "input_grid", "color_selector"):
        shell.user_ns[name] = getattr(extra, name)
    shell.user_ns["interact"] = importlib.import_module("sage.repl.ipython_kernel.interact").interact
    from sage.version import version

    return version


def load_sage() -> Preloaded:
    """Import Sage and build a Sage notebook shell."""
    os.environ["SAGE_IMPORTALL"] = "no"  # we import the globals ourselves, from what is installed
    shell = sage_shell_class().instance(config=_shell_config())
    from sage.repl.ipython_extension import load_ipython_extension

    load_ipython_extension(shell)
    version = _sage_globals(shell)
    from . import modes

    modes.install(shell)  # %gp, %maxima, %python, %latex, %html, %md, %sh, ... and %default_mode
    # Plots as SVG: crisp at any zoom, and text a browser can search.
    from sage.repl.rich_output import get_display_manager

    get_display_manager().preferences.graphics = "vector"
    info = {
        "name": "sagemath", "display_name": f"SageMath {version}", "language": "sage",
        "implementation": "sage", "implementation_version": version,
        "banner": f"SageMath version {version}",
        "language_info": {
            "name": "sage", "version": version, "mimetype": "text/x-sage",
            "codemirror_mode": {"name": "ipython", "version": 3},
            "pygments_lexer": "ipython3", "file_extension": ".sage", "nbconvert_exporter": "python",
        },
    }
    return Preloaded("sage", shell, info)


def load_python() -> Preloaded:
    """Build a plain IPython shell."""
    shell = PythonShell.instance(config=_shell_config())
    version = platform.python_version()
    import IPython

    info = {
        "name": "python3", "display_name": "Python 3 (salvus)", "language": "python",
        "implementation": "ipython", "implementation_version": IPython.__version__,
        "banner": f"Python {sys.version.split()[0]} -- IPython {IPython.__version__}",
        "language_info": {
            "name": "python", "version": version, "mimetype": "text/x-python",
            "codemirror_mode": {"name": "ipython", "version": 3},
            "pygments_lexer": "ipython3", "file_extension": ".py", "nbconvert_exporter": "python",
        },
    }
    return Preloaded("python", shell, info)


def warm_up(pre: Preloaded) -> None:
    """Run typical first cells, completions and lookups so children find them done."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for code in SAGE_WARMUP if pre.kind == "sage" else PYTHON_WARMUP:
            pre.shell.run_cell(code, store_history=False, silent=True)
        pre.shell.complete("fac", "fac", 3)
        with contextlib.suppress(Exception):
            pre.shell.object_inspect_mime("print")
        pre.shell.input_transformer_manager.check_complete("for i in range(3):")
    pre.shell.payload_manager.clear_payload()


def preload(kind: str) -> Preloaded:
    """Load the kernel kind ("sage" or "python"), warm it up and freeze the heap."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp(prefix="salvus-mpl-"))
    comms.install()  # before ipywidgets is imported, so its comm targets land in our manager
    pre = load_sage() if kind == "sage" else load_python()
    pre.shell.init_salvus()
    cellfiles.install(pre.shell)  # files a cell writes are listed under its output
    warm_up(pre)
    if "numpy" in sys.modules:
        # numpy imports numpy.random lazily; each child reseeds it, so import it once here, not per child.
        importlib.import_module("numpy.random")
    if threading.active_count() != 1:
        # A thread in the parent would be lost in every child, holding whatever lock it had.
        names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        print(f"salvus kernel: warning: threads alive before forking: {names}", file=sys.stderr)
    gc.collect()
    gc.freeze()  # children's garbage collector then leaves the shared heap untouched (less copy-on-write)
    return pre
