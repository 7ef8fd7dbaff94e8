"""Client of a forking compute server (``python -m salvus_local.kernel``) over its unix socket.

Each request uses its own signed connection (see docs/internals.md, "Forker protocol"):
``start`` keeps the connection, which becomes the new kernel's message channel; the other
verbs get one answer and close.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from salvus_local.protocol import ConnectionClosed, ProtocolError, SignedConnection, Verb


class ForkerError(Exception):
    """The forker refused a request or could not be reached."""


class RunEnded(ForkerError):
    """A one-shot run's process ended without answering (killed at its deadline, or crashed)."""


class ForkerUnreachable(ForkerError):
    """Nothing answers on the forker's socket (not started yet, or gone)."""


def answer_fields(frame: dict[str, Any]) -> dict[str, Any]:
    """Return an answer's fields, whether sent at the top level or under ``content``."""
    content = frame.get("content")
    return {**frame, **content} if isinstance(content, dict) else dict(frame)


class ForkerClient:
    """Talks to one forker (one kernel kind) through its unix socket."""

    def __init__(self, kind: str, socket_path: str, master_key: bytes, connect_timeout: float = 60.0) -> None:
        self.kind = kind
        self.socket_path = socket_path
        self._key = master_key
        self.connect_timeout = connect_timeout

    def connect(self, timeout: float | None = None) -> tuple[SignedConnection, dict[str, Any]]:
        """Open a signed connection, retrying until the forker listens or the deadline passes."""
        deadline = time.monotonic() + (self.connect_timeout if timeout is None else timeout)
        delay = 0.02
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(1.0, deadline - time.monotonic()))
                sock.connect(self.socket_path)
                return SignedConnection.connect(sock, self._key)
            except (FileNotFoundError, ConnectionRefusedError, ConnectionClosed) as exc:
                sock.close()
                if time.monotonic() >= deadline:
                    raise ForkerUnreachable(f"the {self.kind} compute server is not answering "
                                      f"at {self.socket_path}") from exc
                time.sleep(delay)  # the forker is still starting: poll with a short back-off
                delay = min(delay * 2, 0.5)
            except (OSError, ProtocolError) as exc:
                sock.close()
                raise ForkerError(f"cannot talk to the {self.kind} compute server: {exc}") from exc

    def request(self, verb: str, content: dict[str, Any], timeout: float | None = 30.0) -> dict[str, Any]:
        """Send one request and return its answer's fields; raise ForkerError on ``error``."""
        conn, _hello = self.connect()
        try:
            conn.sock.settimeout(timeout)
            conn.send({"type": verb, "content": content})
            answer = answer_fields(conn.recv())
        except (OSError, ConnectionClosed, ProtocolError) as exc:
            raise ForkerError(f"{verb} request to the {self.kind} compute server failed: "
                              f"{exc or type(exc).__name__}") from exc
        finally:
            conn.close()
        if answer.get("type") == Verb.ERROR:
            raise ForkerError(str(answer.get("message") or f"{verb} failed"))
        return answer

    def start(self, content: dict[str, Any], timeout: float = 60.0) -> tuple[SignedConnection, dict[str, Any]]:
        """Fork a kernel; return its connection (now the kernel's channel) and the ``started`` fields."""
        conn, _hello = self.connect()
        try:
            conn.sock.settimeout(timeout)
            conn.send({"type": Verb.START, "content": content})
            answer = answer_fields(conn.recv())
            if answer.get("type") != Verb.STARTED:
                raise ForkerError(str(answer.get("message") or f"unexpected answer {answer.get('type')!r}"))
            conn.sock.settimeout(None)
            return conn, answer
        except (OSError, ConnectionClosed, ProtocolError) as exc:
            conn.close()
            raise ForkerError(f"starting a {self.kind} kernel failed: {exc or type(exc).__name__}") from exc
        except ForkerError:
            conn.close()
            raise

    def run(self, content: dict[str, Any], wait: float) -> dict[str, Any]:
        """Run code in a fresh one-shot child (forker verb ``run``); return its ``result`` content.

        Raise ForkerError when the forker refuses or the child ends without answering, TimeoutError
        when nothing comes within ``wait`` seconds."""
        conn, _hello = self.connect()
        try:
            conn.sock.settimeout(wait)
            conn.send({"type": Verb.RUN, "content": content})
            answer = conn.recv()
        except (ConnectionClosed, ProtocolError) as exc:
            raise RunEnded(f"it ended before answering ({exc or type(exc).__name__})") from exc
        except socket.timeout:
            raise TimeoutError(f"no answer within {wait:g} s") from None
        except OSError as exc:
            raise ForkerError(f"run request to the {self.kind} compute server failed: {exc}") from exc
        finally:
            conn.close()
        if answer.get("type") == Verb.RESULT and isinstance(answer.get("content"), dict):
            return answer["content"]
        raise ForkerError(str(answer_fields(answer).get("message") or f"unexpected answer {answer.get('type')!r}"))

    def signal(self, kernel_id: str, signum: int) -> None:
        """Send a signal to a kernel's process group."""
        self.request(Verb.SIGNAL, {"kernel_id": kernel_id, "signum": int(signum)})

    def kill(self, kernel_id: str, grace: float) -> None:
        """Stop a kernel: SIGTERM to its process group now, SIGKILL after grace seconds."""
        self.request(Verb.KILL, {"kernel_id": kernel_id, "grace": grace})

    def wait(self, kernel_id: str, timeout: float | None = 60.0) -> dict[str, Any]:
        """Wait until a kernel is reaped; return ``{exitcode, signal, reason}``."""
        return self.request(Verb.WAIT, {"kernel_id": kernel_id}, timeout=timeout)

    def info(self, timeout: float | None = 30.0) -> dict[str, Any]:
        """Return the forker's ``info_reply`` fields (pid, kind, kernel spec info, kernels)."""
        return self.request(Verb.INFO, {}, timeout=timeout)
