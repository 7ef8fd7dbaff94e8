"""Benchmark of realtime collaboration (issue 10) against a real ``salvus-local`` on a free port.

    python bench/collab_bench.py [--clients 30] [--rate 5] [--seconds 30]

``--clients`` headless pycrdt clients (tests/collab/yclient.py, the browser's y-websocket behaviour)
join one notebook; each types ``--rate`` characters per second into its own cell.  Reported:
- the delay from an edit to its arrival at every other client (p50, p99, max), in ms;
- lost edits (characters missing from some client's document at the end);
- CPU used by the server (web server process) and by the client process, in % of one core.
Target on 2 cores: p99 ≤ 50 ms, 0 lost edits.  No asserts: results are reported, not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from pycrdt import get_state

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from salvus_local.collab.wire import decode_state_vector  # noqa: E402
from tests.collab.conftest import notebook, room_url  # noqa: E402
from tests.collab.yclient import YClient  # noqa: E402
from tests.conftest import Server  # noqa: E402


def typist(c: YClient, index: int, rate: float, stop: threading.Event, sent: dict, lock: threading.Lock) -> None:
    """Type one character every 1/rate seconds into cell ``index``; record when each edit was made."""
    rng = random.Random(index)
    time.sleep(rng.random() / rate)  # spread the clients over the period
    period, n = 1.0 / rate, 0
    next_at = time.monotonic()
    while not stop.is_set():
        with c.lock:
            t = time.monotonic()
            c.edit(lambda _doc: c.cells[index]["source"].insert(n, "abcdefghij"[n % 10]))
            clock = decode_state_vector(c.doc.get_state())[c.doc.client_id]
        with lock:
            sent[(c.doc.client_id, clock)] = t
        n += 1
        next_at += period
        stop.wait(max(0.0, next_at - time.monotonic()))


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU seconds of a process and its children (the gunicorn worker)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run(clients: int, rate: float, seconds: float, warmup: float) -> dict[str, float]:
    """Start a server, run the typists, return the measurements."""
    data = Path(tempfile.mkdtemp(prefix="collab-bench-"))
    server = Server("--collaboration", "on", "--kernel", "python", "--kernels", "python", data_dir=data / "data")
    try:
        r = server.put("/api/contents/bench.ipynb", json={"type": "notebook",
                                                         "content": notebook(*[""] * clients)})
        assert r.status_code in (200, 201), r.text
        url = room_url(server, "bench.ipynb")
        people = [YClient(url, [f"Authorization: token {server.token}"], "notebook", f"c{i}").connect()
                  for i in range(clients)]
        sent: dict[tuple[int, int], float] = {}
        lock, stop = threading.Lock(), threading.Event()
        threads = [threading.Thread(target=typist, args=(c, i, rate, stop, sent, lock), daemon=True)
                   for i, c in enumerate(people)]
        for t in threads:
            t.start()
        time.sleep(warmup)
        start = time.monotonic()
        proc, me = psutil.Process(server.proc.pid), psutil.Process()
        cpu0, mine0 = cpu_seconds(proc), cpu_seconds(me)
        for c in people:
            c.received.clear()
        time.sleep(seconds)
        cpu1, mine1 = cpu_seconds(proc), cpu_seconds(me)
        elapsed = time.monotonic() - start
        stop.set()
        for t in threads:
            t.join()
        time.sleep(2.0)  # let the last edits arrive
        delays = []
        for c in people:
            for at, frame in c.received:
                if frame[:2] != b"\x00\x02":
                    continue
                update = frame[2:]
                size, pos = 0, 0
                shift = 0
                while True:  # skip the varUint length of the update
                    byte = update[pos]
                    size |= (byte & 0x7F) << shift
                    pos += 1
                    if byte < 0x80:
                        break
                    shift += 7
                for cid, clock in decode_state_vector(get_state(update[pos:pos + size])).items():
                    t0 = sent.get((cid, clock))
                    if t0 is not None and cid != c.doc.client_id and at >= start:
                        delays.append((at - t0) * 1000)
        want = [str(people[i].cells[i]["source"]) for i in range(clients)]  # each typist's own cell
        lost = 0
        for c in people:
            with c.lock:
                got = [str(cell["source"]) for cell in c.cells]
            lost += sum(max(0, len(w) - len(g)) for w, g in zip(want, got))
        typed = sum(len(w) for w in want)
        for c in people:
            c.disconnect()
        delays.sort()
        return {
            "clients": clients, "rate": rate, "seconds": round(elapsed, 1), "typed": typed,
            "arrivals": len(delays),
            "p50_ms": round(statistics.median(delays), 1) if delays else float("nan"),
            "p99_ms": round(delays[int(len(delays) * 0.99) - 1], 1) if delays else float("nan"),
            "max_ms": round(delays[-1], 1) if delays else float("nan"),
            "lost": lost,
            "server_cpu_pct": round(100 * (cpu1 - cpu0) / elapsed, 1),
            "clients_cpu_pct": round(100 * (mine1 - mine0) / elapsed, 1),
            "load_avg": round(os.getloadavg()[0], 1),
        }
    finally:
        server.stop()


def main() -> None:
    """Parse arguments, run, print a JSON line and a Markdown table row."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--rate", type=float, default=5.0, help="characters per second per client")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    args = ap.parse_args()
    result = run(args.clients, args.rate, args.seconds, args.warmup)
    print(json.dumps(result))
    print("| Clients × chars/s | p50 | p99 (target ≤ 50 ms) | max | Lost edits | Server CPU | Clients' CPU | Load avg |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {result['clients']} × {result['rate']:g} | {result['p50_ms']} ms | {result['p99_ms']} ms | "
          f"{result['max_ms']} ms | {result['lost']} of {result['typed']} | {result['server_cpu_pct']} % | "
          f"{result['clients_cpu_pct']} % | {result['load_avg']} |")


if __name__ == "__main__":
    main()
