"""The IPython shell a session executes in, wired to send Jupyter messages.

The shell is built once in the forking parent (so each child starts with it ready) and
gets a ``salvus_session`` in the child.  Until then (warm-up in the parent) output goes
to the parent's own stdout like any IPython shell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core import page, payloadpage
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

if TYPE_CHECKING:
    from .session import Session


class SalvusDisplayPublisher(DisplayPublisher):
    """Send ``display(...)`` and ``clear_output`` as iopub messages."""

    def publish(self, data: dict, metadata: dict | None = None, source: Any = None, *,
                transient: dict | None = None, update: bool = False, **kwargs: Any) -> None:
        """Publish a display_data or update_display_data message."""
        session = getattr(self.shell, "salvus_session", None)
        if session is None:
            return super().publish(data, metadata, transient=transient, update=update)
        session.display(data, metadata or {}, transient or {}, update)

    def clear_output(self, wait: bool = False) -> None:
        """Publish a clear_output message."""
        session = getattr(self.shell, "salvus_session", None)
        if session is None:
            return super().clear_output(wait)
        session.clear_output(wait)


class SalvusDisplayHook(DisplayHook):
    """Turn a cell's last value into an execute_result message."""

    _data: dict | None = None
    _md: dict | None = None

    def start_displayhook(self) -> None:
        """Reset the pending result."""
        self._data, self._md = None, None

    def write_output_prompt(self) -> None:
        """No prompt: the client shows execution counts."""

    def write_format_data(self, format_dict: dict, md_dict: dict | None = None) -> None:
        """Keep the formatted result until finish."""
        self._data, self._md = format_dict, md_dict or {}

    def finish_displayhook(self) -> None:
        """Send the execute_result."""
        session = getattr(self.shell, "salvus_session", None)
        if session is None:
            if self._data:
                print(self._data.get("text/plain", ""))
        elif self._data:
            session.execute_result(self.prompt_count, self._data, self._md or {})
        self._data, self._md = None, None


class KernelShim:
    """The few attributes of ipykernel's Kernel that ipywidgets and friends look up."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.shell = session.shell
        self.comm_manager = session.comms

    def get_parent(self, channel: str = "shell") -> dict:
        """Return the request being handled."""
        return self.session.parent

    @property
    def _parent_header(self) -> dict:
        return self.session.parent


class SalvusShellMixin:
    """Overrides shared by the plain Python and the Sage shells."""

    salvus_session: Session | None = None
    kernel: KernelShim | None = None

    def init_salvus(self) -> None:
        """Finish the shell set-up: pager payloads, colored tracebacks."""
        self.set_hook("show_in_pager", page.as_hook(payloadpage.page), 99)  # type: ignore[attr-defined]
        self.colors = "linux"  # type: ignore[attr-defined]

    def get_parent(self) -> dict:
        """Return the request being handled (ipywidgets' Output widget asks)."""
        return self.salvus_session.parent if self.salvus_session else {}

    def set_parent(self, parent: dict) -> None:
        """Make output go to this request (ipywidgets' Output widget sets it)."""
        if self.salvus_session:
            self.salvus_session.parent = parent

    def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
        """Send the traceback as an ``error`` message."""
        session = self.salvus_session
        if session is None:
            return super()._showtraceback(etype, evalue, stb)  # type: ignore[misc]
        session.error(getattr(etype, "__name__", str(etype)), str(evalue), stb)

    def enable_gui(self, gui: str | None = None) -> None:
        """No GUI event loops in a notebook session."""

    def ask_exit(self) -> None:
        """``exit`` / ``quit`` end the session, as in ipykernel."""
        self.exit_now = True  # type: ignore[attr-defined]
        self.payload_manager.write_payload({"source": "ask_exit", "keepkernel": False})  # type: ignore


class PythonShell(SalvusShellMixin, InteractiveShell):
    """A plain IPython shell for the python kernel."""

    display_pub_class = SalvusDisplayPublisher  # type: ignore[assignment]
    displayhook_class = SalvusDisplayHook  # type: ignore[assignment]


def sage_shell_class() -> type:
    """Return the Sage notebook shell class with our overrides (imports Sage)."""
    from sage.repl.interpreter import SageNotebookInteractiveShell

    class SageShell(SalvusShellMixin, SageNotebookInteractiveShell):
        """Sage's notebook shell: preparser, rich output backend, Sage magics."""

        display_pub_class = SalvusDisplayPublisher
        displayhook_class = SalvusDisplayHook

    return SageShell
