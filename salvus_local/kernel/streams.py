"""stdout/stderr of a session: Python-level streams and captured file descriptors 1 and 2.

Text is batched for a few milliseconds so a loop that prints a million lines sends a few
hundred messages, while a loop that prints and sleeps shows each line as it comes.
Output written at the C level (``os.system``, PARI, Maxima) is read from a pipe that
replaces fd 1/2 and forwarded to the same stream, in order, before a cell's reply.
"""

from __future__ import annotations

import codecs
import io
import os
import threading
import time
from typing import Callable

FLUSH_INTERVAL = 0.05   # seconds output may wait to be batched
MAX_BUFFER = 64 * 1024  # flush at once when this much text is pending
_MARK = b"\x00\x1bsalvus-sync-"  # written to a captured fd to know when all before it was read


class OutStream(io.TextIOBase):
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

    def write(self, text: str) -> int:  # type: ignore[override]
        """Buffer text; flush now if the last flush was a while ago, else soon."""
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
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
    """Replace fd 1 or 2 by a pipe and forward what is written there to a stream."""

    def __init__(self, fd: int, stream: OutStream) -> None:
        self.fd = fd
        self.stream = stream
        self._seq = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._seen = threading.Condition()
        self._done = 0
        rfd, wfd = os.pipe()
        os.dup2(wfd, fd)
        os.close(wfd)
        self._rfd = rfd
        threading.Thread(target=self._pump, name=f"salvus-fd{fd}", daemon=True).start()

    def _marker(self, n: int) -> bytes:
        return _MARK + b"%d\x00" % n

    def _pump(self) -> None:
        """Read the pipe, forward text, and acknowledge sync markers."""
        pending = b""
        while True:
            try:
                chunk = os.read(self._rfd, 65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            while _MARK in pending:
                head, _, rest = pending.partition(_MARK)
                num, sep, tail = rest.partition(b"\x00")
                if not sep:
                    break  # marker split across reads: wait for the rest
                self._forward(head)
                pending = tail
                with self._seen:
                    self._done = max(self._done, int(num or 0))
                    self._seen.notify_all()
            else:
                # Keep a possible partial marker; forward everything else.
                cut = pending.rfind(b"\x00")
                tail = pending[cut:] if cut >= 0 else b""
                keep = tail if (_MARK.startswith(tail) or tail.startswith(_MARK)) else b""
                self._forward(pending[: len(pending) - len(keep)])
                pending = keep

    def _forward(self, data: bytes) -> None:
        if data:
            self.stream.write(self._decoder.decode(data))

    def sync(self, timeout: float = 1.0) -> None:
        """Wait until everything written to the fd so far has been forwarded."""
        self._seq += 1
        n = self._seq
        try:
            os.write(self.fd, self._marker(n))
        except OSError:
            return
        with self._seen:
            self._seen.wait_for(lambda: self._done >= n, timeout)
