"""A spare child, forked ahead of time, so a new session does not wait for fork().

Forking a parent that holds Sage takes about 10 ms (page tables of a few hundred MB),
and the first cell in a new child takes as long again while it copies the pages it
writes.  So the parent keeps one child forked and warmed in advance; ``start`` hands it
the client's socket (SCM_RIGHTS over a private socketpair) together with the request,
and the parent forks the next spare while the new session already answers.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any, Callable

from ..protocol import SignedConnection, dumps
from .child import child_main, prepare, run_child
from .preload import Preloaded


@dataclass
class Spare:
    """The parent's handle on a spare child."""

    pid: int
    ctl: socket.socket


def fork_spare(pre: Preloaded, in_child: Callable[[], None]) -> Spare:
    """Fork a spare child that waits for a session to take over."""
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        parent_end.close()
        in_child()
        child_main(lambda: _spare_main(child_end, pre))
    child_end.close()
    return Spare(pid, parent_end)


def hand_over(spare: Spare, conn: SignedConnection, req: dict[str, Any], tmp: str) -> bool:
    """Give a spare the client's connection and request; False if the spare is gone."""
    state = {"req": req, "tmp": tmp, "key": conn.key.hex(), "send_seq": conn.send_seq, "recv_seq": conn.recv_seq}
    try:
        socket.send_fds(spare.ctl, [dumps(state)], [conn.sock.fileno()])
        return True
    except OSError:
        return False
    finally:
        spare.ctl.close()


def _spare_main(ctl: socket.socket, pre: Preloaded) -> None:
    """Wait for a session request, then become that session (or exit when the parent goes)."""
    session = prepare(pre, warm=True)  # reseeded, output captured, a cell already run
    msg, fds, _, _ = socket.recv_fds(ctl, 1 << 20, 1)
    ctl.close()
    if not msg or not fds:
        os._exit(0)  # the parent closed our socketpair: it is stopping
    state = json.loads(msg)
    sock = socket.socket(fileno=fds[0])
    sock.settimeout(None)
    conn = SignedConnection(sock, bytes.fromhex(state["key"]), listener=True)
    conn.send_seq, conn.recv_seq = state["send_seq"], state["recv_seq"]
    run_child(conn, pre, state["req"], state["tmp"], session)
