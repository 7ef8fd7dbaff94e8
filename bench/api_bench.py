"""Benchmark of the HTTP compute API (issue 13) against a real ``salvus-local`` on a free port.

    python bench/api_bench.py [--clients 16] [--seconds 10]

For ``2+2`` and ``factor(2^64-1)`` (Sage; Python's sympy-free ``2+2`` too), 16 client threads
POST ``/api/v1/execute`` over loopback as fast as they can (keep-alive HTTP, each request a fresh
forked process: the forker's one-shot ``run``), then report requests per second and the p50/p99
latency as a Markdown table, beside the issue's target (>= 500 requests/s, p99 <= 1 s on 2 cores).
bench/fork_floor.py measures what a fork alone costs.  No asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from http.client import HTTPConnection

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from projects_bench import Server  # noqa: E402  (same real-server harness)


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server's process tree, reaped sessions included."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        # children_*: processes this one has reaped (the forked sessions); live ones are listed themselves.
        total += t.user + t.system + t.children_user + t.children_system
    return total


def load(server: Server, body: dict, clients: int, seconds: float) -> tuple[float, float, float, int, float]:
    """Run clients threads for seconds; return (requests/s, p50 s, p99 s, errors, server CPU s per request)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    payload = json.dumps(body).encode()
    headers = {"Authorization": f"token {server.token}", "Content-Type": "application/json"}

    def client() -> None:
        # http.client, not requests: the client shares the 2 cores with the server, so it should cost
        # little (about 0.3 ms a request against 1.8 ms); the connection is kept alive between requests.
        http = HTTPConnection("127.0.0.1", server.port, timeout=120)
        mine: list[float] = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            http.request("POST", "/api/v1/execute", payload, headers)
            r = http.getresponse()
            answer = r.read()
            mine.append(time.perf_counter() - t0)
            if r.status != 200 or json.loads(answer).get("status") != "ok":
                with lock:
                    errors[0] += 1
        http.close()
        with lock:
            latencies.extend(mine)

    cpu0 = server_cpu(server.proc.pid)
    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = (server_cpu(server.proc.pid) - cpu0) / max(1, len(latencies))
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies), p99, errors[0], cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="api-bench-"))
    data.chmod(0o755)  # a root server runs sessions as another uid, which must enter the data dir
    (data / "data").mkdir(parents=True)
    server = Server(data / "data", kernels=("sage", "python"))
    try:
        cases = [("`2+2`, Sage", {"code": "2+2", "kernel": "sage"}),
                 ("`factor(2^64-1)`, Sage", {"code": "factor(2^64-1)", "kernel": "sage"}),
                 ("`2+2`, Python", {"code": "2+2", "kernel": "python"})]
        rows = []
        for label, body in cases:
            load(server, body, args.clients, 1.0)  # warm up (spare children, connections)
            rate, p50, p99, errors, cpu = load(server, body, args.clients, args.seconds)
            cores = psutil.cpu_count() or 1
            rows.append(f"| {label} | {rate:.0f} req/s | {p50 * 1000:.0f} ms | {p99 * 1000:.0f} ms | "
                        f"{cpu * 1000:.1f} ms | {cores / cpu:.0f} req/s | {errors} |")
        print(f"\n{args.clients} concurrent clients, {args.seconds:g} s each, fresh forked session per request; "
              f"load average before: {os.getloadavg()[0]:.1f}\n")
        print("| code | throughput (target ≥ 500 req/s) | p50 | p99 (target ≤ 1 s) | server CPU per request "
              "| CPU bound on idle cores | errors |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
