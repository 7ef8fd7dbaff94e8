"""The measurements, each run the same way against any Jupyter-API server."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from api import Channels, Server, new_session_first_result
from servers import descendants, memory

SMALL_CELL = "sum(i*i for i in range(10000))"


@dataclass
class Results:
    """Raw samples and derived numbers of one server."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)

    def median(self, key: str) -> float | None:
        """Median of a sample list, or the stored value."""
        if key in self.samples:
            return statistics.median(self.samples[key])
        return self.values.get(key)


def percentile(data: list[float], pct: int) -> float:
    """The pct-th percentile (inclusive method) of data."""
    if len(data) == 1:
        return data[0]
    return statistics.quantiles(data, n=100, method="inclusive")[pct - 1]


def close_all(server: Server, sessions: list[tuple[str, Channels]]) -> None:
    """Close websockets and shut the kernels down, a few at a time."""
    def one(item: tuple[str, Channels | None]) -> None:
        kernel_id, chans = item
        if chans is not None:
            chans.close()
        try:
            server.shutdown_kernel(kernel_id)
        except RuntimeError as exc:
            if " 404 " not in str(exc):  # a kernel that died is already gone
                raise
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, sessions))


def new_sessions(server: Server, kernel: str, key: str, repeats: int, res: Results) -> None:
    """New session → first result of 1+1, repeated; one discarded warm-up first."""
    samples = []
    for i in range(repeats + 1):
        elapsed, kernel_id, chans = new_session_first_result(server, kernel)
        close_all(server, [(kernel_id, chans)])
        if i:  # the first start warms disk caches and lazy imports of the server itself
            samples.append(elapsed)
    res.samples[key] = samples


def round_trips(server: Server, kernel: str, key: str, repeats: int, res: Results) -> None:
    """2+2 round trips on one warm kernel: request until result and reply arrived."""
    _, kernel_id, chans = new_session_first_result(server, kernel)
    try:
        for _ in range(10):
            chans.execute("2+2")
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            if chans.execute("2+2") != "4":
                raise RuntimeError(f"{server.name}: 2+2 gave a wrong result")
            samples.append(time.perf_counter() - t0)
        res.samples[key] = samples
    finally:
        close_all(server, [(kernel_id, chans)])


def idle_memory(server: Server, kernel: str, key: str, count: int, res: Results) -> None:
    """Unique memory per idle session: USS of the processes that count new sessions add."""
    before = descendants(server.pid) | {server.pid}
    base_uss, _, _ = memory(before)
    res.values[key + "_fixed_uss"] = base_uss
    sessions = []
    try:
        for _ in range(count):
            _, kernel_id, chans = new_session_first_result(server, kernel)
            sessions.append((kernel_id, chans))
        new = descendants(server.pid) - before
        uss, pss, _rss = memory(new)
        res.values[key + "_uss"] = uss / count
        res.values[key + "_pss"] = pss / count
        res.values[key + "_procs"] = len(new)
    finally:
        close_all(server, sessions)


def concurrent(server: Server, kernel: str, key: str, count: int, res: Results) -> None:
    """count sessions started at once, each running a small cell: wall time, p50, p95."""
    gate = threading.Barrier(count)
    sessions: list[tuple[str, Channels | None]] = []
    errors: list[str] = []

    def one(_: int) -> float | None:
        gate.wait()
        t0 = time.perf_counter()
        try:
            kernel_id = server.start_kernel(kernel)
            sessions.append((kernel_id, None))
            chans = server.connect(kernel_id)
            sessions[sessions.index((kernel_id, None))] = (kernel_id, chans)
            chans.execute(SMALL_CELL)
        except Exception as exc:  # noqa: BLE001 -- a failed session is a result, not a crash
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return None
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(count) as pool:
            latencies = [x for x in pool.map(one, range(count)) if x is not None]
        res.values[key + "_wall"] = time.perf_counter() - t0
        res.values[key + "_failed"] = len(errors)
        for error in sorted(set(errors)):
            print(f"\n  {server.name}: failed session: {error}", end="")
        if latencies:
            res.samples[key] = latencies
            res.values[key + "_p95"] = percentile(latencies, 95)
    finally:
        close_all(server, sessions)
