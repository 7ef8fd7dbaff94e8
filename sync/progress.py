"""Progress bars for long transfers: git's ``--progress`` lines drawn as one bar per phase on a terminal.

git writes lines such as ``Writing objects:  40% (2/5), 1.20 MiB | 1.19 MiB/s`` (CR-terminated while
they change).  ``parse`` reads the phase, percentage, counts, bytes and rate; ``Bars`` redraws one
line per phase and ends it when the phase says ``done`` or the next phase starts.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

_LINE = re.compile(r"^(?:remote:\s*)?(?P<phase>[A-Z][A-Za-z ]+?):\s+(?P<pct>\d+)% \((?P<done>\d+)/(?P<total>\d+)\)"
                   r"(?:,\s*(?P<bytes>[\d.]+ [KMGT]?i?B))?(?:\s*\|\s*(?P<rate>[\d.]+ [KMGT]?i?B/s))?")


@dataclass
class Step:
    """One progress report of git."""

    phase: str  # "Writing objects", "Receiving objects", "Resolving deltas", …
    percent: int
    done: int
    total: int
    size: str = ""  # "1.20 MiB"
    rate: str = ""  # "1.19 MiB/s"
    finished: bool = False


def parse(line: str) -> Step | None:
    """A Step from one line of git's stderr, or None for other lines."""
    m = _LINE.match(line.strip())
    if not m:
        return None
    return Step(m["phase"], int(m["pct"]), int(m["done"]), int(m["total"]), m["bytes"] or "", m["rate"] or "",
                line.rstrip().endswith("done."))


class Bars:
    """Draws Steps on a terminal (write: e.g. sys.stderr.write); other lines are passed to ``other``."""

    # Phases worth a bar: the ones that take time on a big transfer.
    SHOWN = ("Writing objects", "Receiving objects", "Resolving deltas", "Compressing objects")

    def __init__(self, write: Callable[[str], object], other: Callable[[str], object] | None = None,
                 width: int | None = None) -> None:
        self.write = write
        self.other = other
        self.width = width or max(40, min(100, shutil.get_terminal_size((80, 20)).columns))
        self.current: str | None = None

    def __call__(self, line: str) -> None:
        step = parse(line)
        if step is None:
            if self.other is not None and line.startswith(("error:", "fatal:", "warning:")):
                self.end()
                self.other(line)
            return
        if step.phase not in self.SHOWN:
            return
        if self.current and self.current != step.phase:
            self.end()
        self.current = step.phase
        self.write("\r" + self.render(step))
        if step.finished:
            self.end()

    def render(self, step: Step) -> str:
        """``Writing objects  [########------]  57%  4/7  1.20 MiB  1.19 MiB/s`` fitted to the width."""
        tail = f" {step.percent:3d}%  {step.done}/{step.total}" + (f"  {step.size}" if step.size else "") + (
            f"  {step.rate}" if step.rate else "")
        room = max(10, self.width - len(step.phase) - len(tail) - 5)
        filled = room * step.percent // 100
        return f"{step.phase}  [{'#' * filled}{'-' * (room - filled)}]{tail}"[: self.width - 1]

    def end(self) -> None:
        """Finish the current bar's line."""
        if self.current:
            self.write("\n")
            self.current = None
