"""stdout/stderr of a session: Python-level streams and captured file descriptors 1 and 2.

Text is batched for a few milliseconds so a loop that prints a million lines sends a few
hundred messages, while a loop that prints and sleeps shows each line as it comes.
Output written at the C level (``os.system``, PARI, Maxima) is read from a pipe that
replaces fd 1/2 and forwarded to the same stream, in order with Python's own output.
"""

from __future__ import annotations

import codecs
import io
import os
import select
import threading
import time
from typing import Callable

FLUSH_INTERVAL = 0.05   # seconds output may wait to be batched
MAX_BUFFER = 64 * 1024  # flush at once when this much text is pending


class SessionText(io.TextIOBase):
    """What ``sys.stdout``/``sys.stderr`` of a session answer about themselves (UTF-8, writable, no tty)."""

    name = "stdout"

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        """Streams are writable."""
        return True

    def isatty(self) -> bool:
        """Not a terminal (libraries then skip progress bars drawn with cursor moves)."""
        return False

    def fileno(self) -> int:
        """The captured descriptor, so subprocess(stdout=sys.stdout) works."""
        return 1 if self.name == "stdout" else 2


class OutStream(SessionText):
    """A text stream that forwards writes as Jupyter ``stream`` messages."""

    def __init__(self, name: str, emit: Callable[[str, str], None], lock: threading.RLock) -> None:
        super().__init__()
        self.name = name
        self._emit = emit
        self._lock = lock
        self._buf: list[str] = []
        self._size = 0
        self._last = 0.0
        self._wake = threading.Event()
        self.before_write: Callable[[], None] = lambda: None  # drains captured fds (set by the session)

    def write(self, text: str) -> int:  # type: ignore[override]
        """Buffer text after what C code wrote before it; flush now or soon."""
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        self.before_write()
        return self.write_raw(text)

    def write_raw(self, text: str) -> int:
        """Buffer text as it comes (the fd pumps use this: they are what before_write drains)."""
        with self._lock:
            self._buf.append(text)
            self._size += len(text)
            # A whole line after a quiet spell goes out at once; partial lines wait for the rest.
            due = ("\n" in text and time.monotonic() - self._last >= FLUSH_INTERVAL) or self._size >= MAX_BUFFER
        if due:
            self.flush()
        else:
            self._wake.set()
        return len(text)

    def flush(self) -> None:
        """Send what is buffered as one stream message."""
        with self._lock:
            if self._buf:
                text = "".join(self._buf)
                self._buf.clear()
                self._size = 0
                self._emit(self.name, text)
            self._last = time.monotonic()

    def pending(self) -> bool:
        """Return True when text waits to be flushed."""
        return bool(self._buf)


class Flusher(threading.Thread):
    """Flushes streams whose batching interval has passed."""

    def __init__(self, streams: list[OutStream]) -> None:
        super().__init__(name="salvus-flusher", daemon=True)
        self.streams = streams

    def run(self) -> None:
        """Wait for writes, then flush after the interval."""
        wake = self.streams[0]._wake
        for s in self.streams[1:]:
            s._wake = wake
        while True:
            wake.wait()
            wake.clear()
            time.sleep(FLUSH_INTERVAL)
            for s in self.streams:
                if s.pending():
                    s.flush()


class FdCapture:
    """Replace fd 1 or 2 by a pipe and forward what is written there to a stream.

    Order with Python-level output is kept by draining the pipe synchronously before any
    Python-level write (see ``OutStream.before_write``): whatever C code or a subprocess wrote
    before is already in the pipe, so it is read and forwarded first.  A pump thread forwards
    what arrives while no Python code writes (a long-running subprocess).
    """

    def __init__(self, fd: int, stream: OutStream) -> None:
        self.fd = fd
        self.stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lock = threading.Lock()
        rfd, wfd = os.pipe()
        os.dup2(wfd, fd)
        os.close(wfd)
        os.set_blocking(rfd, False)
        self._rfd = rfd
        threading.Thread(target=self._pump, name=f"salvus-fd{fd}", daemon=True).start()

    def _pump(self) -> None:
        """Forward output that arrives while nobody else drains the pipe."""
        poller = select.poll()
        poller.register(self._rfd, select.POLLIN)
        while True:
            events = poller.poll()
            if any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) and not ev & select.POLLIN
                   for _, ev in events):
                return
            if not self.drain():
                time.sleep(0.001)  # readable but drained by another thread meanwhile

    def drain(self) -> bool:
        """Read and forward everything waiting in the pipe; return False if there was nothing."""
        with self._lock:
            got = False
            while True:
                try:
                    chunk = os.read(self._rfd, 65536)
                except BlockingIOError:
                    return got
                except OSError:
                    return got
                if not chunk:
                    return got
                got = True
                text = self._decoder.decode(chunk)
                if text:
                    self.stream.write_raw(text)
