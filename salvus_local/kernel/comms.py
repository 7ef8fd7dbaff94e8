"""Jupyter comms in a session, through the ``comm`` package ipywidgets uses.

ipywidgets (and so Sage's ``@interact``) create comms with ``comm.create_comm`` and find
the manager with ``comm.get_comm_manager``; we point both at this session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import comm
from comm.base_comm import BaseComm, CommManager

from ..protocol import MsgType

if TYPE_CHECKING:
    from .session import Session


class SessionComm(BaseComm):
    """A comm whose messages go out on the session's iopub channel."""

    session: Session | None = None  # set by install()

    @property
    def kernel(self) -> Any:
        """ipywidgets checks that a comm has a live kernel before sending."""
        return self.session.shell.kernel if self.session else None

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:
        """Send one comm message."""
        if self.session is None:
            return
        content = {"data": {} if data is None else data, "comm_id": self.comm_id, **keys}
        self.session.send_iopub(msg_type, content, metadata=metadata or {}, buffers=list(buffers or []))


class SessionCommManager(CommManager):
    """Dispatch comm_open / comm_msg / comm_close requests from clients."""

    def handle(self, msg: dict[str, Any]) -> None:
        """Route one comm request by its type."""
        handler = {
            MsgType.COMM_OPEN: self.comm_open,
            MsgType.COMM_MSG: self.comm_msg,
            MsgType.COMM_CLOSE: self.comm_close,
        }[msg["header"]["msg_type"]]
        # comm's handlers expect buffers as bytes-like objects next to content.
        handler(None, None, msg)  # type: ignore[arg-type]

    def info(self, target_name: str | None) -> dict[str, dict[str, str]]:
        """Return open comms, optionally only those of one target (comm_info_reply)."""
        return {
            comm_id: {"target_name": c.target_name}
            for comm_id, c in self.comms.items()
            if target_name is None or c.target_name == target_name
        }


def install() -> SessionCommManager:
    """Point ``comm.create_comm`` and ``comm.get_comm_manager`` at our classes.

    Called in the forking parent before ipywidgets is imported, so the widget comm
    targets it registers at import land in our manager; each child then attaches its
    session with ``SessionComm.session = session``.
    """
    manager = SessionCommManager()
    try:
        manager.targets.update(comm.get_comm_manager().targets)  # targets registered earlier
    except Exception:  # a broken earlier manager must not stop the kernel
        pass

    def create_comm(*args: Any, **kwargs: Any) -> BaseComm:
        return SessionComm(*args, **kwargs)

    comm.create_comm = create_comm
    comm.get_comm_manager = lambda: manager
    return manager
