"""Handlers for the Jupyter requests a session answers, dispatched by message type."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any, Callable

from ..protocol import PROTOCOL_VERSION, Channel, MsgType, reply_type

if TYPE_CHECKING:
    from .session import Session


# Requests that run user code: interruptible, and their output counts against the cap.
USER_CODE = frozenset({MsgType.EXECUTE_REQUEST, MsgType.COMM_OPEN, MsgType.COMM_MSG, MsgType.COMM_CLOSE})


class Requests:
    """Answer shell and control requests for one session."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._to_abort: list[dict] = []  # requests queued behind a failed cell, taken when it failed
        self.shell_handlers: dict[str, Callable[[dict], dict | None]] = {
            MsgType.EXECUTE_REQUEST: self.execute,
            MsgType.COMPLETE_REQUEST: self.complete,
            MsgType.INSPECT_REQUEST: self.inspect,
            MsgType.IS_COMPLETE_REQUEST: self.is_complete,
            MsgType.HISTORY_REQUEST: self.history,
            MsgType.KERNEL_INFO_REQUEST: self.kernel_info,
            MsgType.COMM_INFO_REQUEST: self.comm_info,
            MsgType.COMM_OPEN: self.comm,
            MsgType.COMM_MSG: self.comm,
            MsgType.COMM_CLOSE: self.comm,
        }
        self.control_handlers: dict[str, Callable[[dict], dict | None]] = {
            MsgType.KERNEL_INFO_REQUEST: self.kernel_info,
            MsgType.INTERRUPT_REQUEST: self.interrupt,
            MsgType.SHUTDOWN_REQUEST: self.shutdown,
        }

    # ---- dispatch ----------------------------------------------------------------

    def dispatch(self, msg: dict[str, Any]) -> None:
        """Handle one shell request in the main thread, between busy and idle."""
        s = self.s
        msg_type = msg["header"].get("msg_type", "")
        handler = self.shell_handlers.get(msg_type)
        if handler is None:
            return
        s.parent, s.busy = msg, True
        user_code = msg_type in USER_CODE
        try:
            if user_code:
                s.begin_user_code()  # armed before 'busy': an interrupt sent on 'busy' always lands
            s.status("busy", msg)
            content = handler(msg)
        except KeyboardInterrupt:
            content = {"status": "error", "ename": "KeyboardInterrupt", "evalue": "", "traceback": []}
        except Exception as exc:  # a bug here must not kill the session
            content = {"status": "error", "ename": type(exc).__name__, "evalue": str(exc),
                       "traceback": traceback.format_exception(exc)}
        finally:
            if user_code:
                s.end_user_code()
        if content is not None:
            s.send(Channel.SHELL, reply_type(msg_type), content, parent=msg)
        s.busy = False
        s.status("idle", msg)
        if self._to_abort:
            pending, self._to_abort = self._to_abort, []
            self._abort(pending)
        if getattr(s.shell, "exit_now", False):
            s.shutdown()

    def control(self, msg: dict[str, Any]) -> None:
        """Handle a control request (or kernel_info while busy) in the reader thread."""
        msg_type = msg["header"].get("msg_type", "")
        handler = self.control_handlers.get(msg_type)
        if handler is None:
            return
        content = handler(msg)
        if content is not None:
            self.s.send(msg.get("channel", Channel.CONTROL), reply_type(msg_type), content, parent=msg)

    # ---- execution ---------------------------------------------------------------

    def execute(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Run a cell through the IPython shell."""
        s, shell = self.s, self.s.shell
        c = msg.get("content", {})
        code = str(c.get("code", ""))
        silent = bool(c.get("silent", False))
        store_history = bool(c.get("store_history", not silent))
        if not silent:
            s.send(Channel.IOPUB, MsgType.EXECUTE_INPUT, {"code": code, "execution_count": shell.execution_count})
        result = shell.run_cell(code, store_history=store_history, silent=silent)
        s.sync_output()
        count = shell.execution_count - 1 if store_history else shell.execution_count
        payload = shell.payload_manager.read_payload()
        shell.payload_manager.clear_payload()
        if result.success:
            exprs = c.get("user_expressions") or {}
            return {"status": "ok", "execution_count": count, "payload": payload,
                    "user_expressions": shell.user_expressions(exprs) if isinstance(exprs, dict) else {}}
        err = s.last_error or {"ename": type(result.error_in_exec or result.error_before_exec).__name__,
                               "evalue": str(result.error_in_exec or result.error_before_exec), "traceback": []}
        if c.get("stop_on_error", True):
            self._to_abort = self._take_queued()  # exactly what was queued when the cell failed
        return {"status": "error", "execution_count": count, "payload": payload, "user_expressions": {}, **err}

    def _take_queued(self) -> list[dict]:
        """Take every request waiting in the queue, in order."""
        taken = []
        while not self.s._requests.empty():
            taken.append(self.s._requests.get_nowait())
        return taken

    def _abort(self, pending: list[dict]) -> None:
        """Answer queued executes with 'aborted' and handle the other requests, in order."""
        s = self.s
        for msg in pending:
            if msg["header"].get("msg_type") != MsgType.EXECUTE_REQUEST:
                self.dispatch(msg)
                continue
            s.status("busy", msg)
            s.send(Channel.SHELL, MsgType.EXECUTE_REPLY,
                   {"status": "aborted", "execution_count": s.shell.execution_count}, parent=msg)
            s.status("idle", msg)

    # ---- introspection -----------------------------------------------------------

    def complete(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Complete at the cursor with IPython's completer (multi-line aware)."""
        from IPython.core.completer import provisionalcompleter, rectify_completions

        c = msg.get("content", {})
        code = str(c.get("code", ""))
        pos = min(max(int(c.get("cursor_pos", len(code)) or 0), 0), len(code))
        with provisionalcompleter():
            found = list(rectify_completions(code, self.s.shell.Completer.completions(code, pos)))
        start, end = (found[0].start, found[0].end) if found else (pos, pos)
        types = [{"start": f.start, "end": f.end, "text": f.text, "type": f.type, "signature": f.signature}
                 for f in found]
        return {"status": "ok", "matches": [f.text for f in found], "cursor_start": start, "cursor_end": end,
                "metadata": {"_jupyter_types_experimental": types}}

    def inspect(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Show the docstring (level 0) or source (level 1) of the name at the cursor."""
        from IPython.utils.tokenutil import token_at_cursor

        c = msg.get("content", {})
        code = str(c.get("code", ""))
        name = token_at_cursor(code, int(c.get("cursor_pos", len(code)) or 0))
        try:
            data = self.s.shell.object_inspect_mime(name, detail_level=int(c.get("detail_level", 0) or 0))
            found = True
        except KeyError:
            data, found = {}, False
        return {"status": "ok", "found": found, "data": data, "metadata": {}}

    def is_complete(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Tell whether the code is a complete statement (for consoles)."""
        code = str(msg.get("content", {}).get("code", ""))
        status, indent = self.s.shell.input_transformer_manager.check_complete(code)
        reply: dict[str, Any] = {"status": status}
        if status == "incomplete":
            reply["indent"] = " " * (indent or 0)
        return reply

    def history(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Return this session's input history (tail or range access)."""
        c = msg.get("content", {})
        hist = self.s.shell.history_manager.input_hist_raw
        n = int(c.get("n", 10) or 10)
        items = [(0, i, src) for i, src in enumerate(hist) if i and src]
        if c.get("hist_access_type") == "tail":
            items = items[-n:]
        return {"status": "ok", "history": items}

    def kernel_info(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Describe the kernel."""
        k = self.s.kernel_info
        return {
            "status": "ok", "protocol_version": PROTOCOL_VERSION,
            "implementation": k["implementation"], "implementation_version": k["implementation_version"],
            "language_info": k["language_info"], "banner": k["banner"], "help_links": [],
            "debugger": False,
        }

    # ---- comms -------------------------------------------------------------------

    def comm_info(self, msg: dict[str, Any]) -> dict[str, Any]:
        """List open comms."""
        target = msg.get("content", {}).get("target_name")
        return {"status": "ok", "comms": self.s.comms.info(target)}

    def comm(self, msg: dict[str, Any]) -> None:
        """Route comm_open/msg/close to the comm manager; output goes to this request."""
        self.s.comms.handle(msg)
        self.s.sync_output()

    # ---- control -----------------------------------------------------------------

    def interrupt(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Interrupt running code."""
        self.s.interrupt()
        return {"status": "ok"}

    def shutdown(self, msg: dict[str, Any]) -> None:
        """Reply, then end the session."""
        restart = bool(msg.get("content", {}).get("restart", False))
        self.s.send(msg.get("channel", Channel.CONTROL), MsgType.SHUTDOWN_REPLY,
                    {"status": "ok", "restart": restart}, parent=msg)
        self.s.shutdown()
