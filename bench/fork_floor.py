"""What one fresh forked run costs at least: the floor under the compute API's throughput (issue 13).

    python bench/fork_floor.py [--kinds sage python] [--runs 200] [--clients 16]

1. In this process: preload the kernel kind exactly as the forker does, then time ``fork + _exit``
   and ``fork + run_cell(code) + _exit`` (CPU of parent and child, minor page faults).  Nothing can
   serve a fresh process per request for less than this.
2. A real forker (``python -m salvus_local.kernel``), its ``run`` verb (kernel/oneshot.py) driven
   over its unix socket without the web server: one client, then ``--clients`` concurrent ones;
   CPU per run of the forker and of its reaped children.
Prints a Markdown table; no asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from salvus_local.protocol import SignedConnection, Verb  # noqa: E402

CODES = {"sage": ["2+2", "factor(2^64-1)"], "python": ["2+2"]}


def _cpu() -> tuple[float, float, int]:
    """(own CPU s, reaped children's CPU s, children's minor faults)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime, kids.ru_minflt


def in_process(kind: str, runs: int) -> list[tuple[str, float, float, float, float]]:
    """Fork floor inside a preloaded process (run in a subprocess: preloading changes this one)."""
    from salvus_local.kernel.preload import preload

    pre = preload(kind)
    import contextlib
    import io

    def body(code: str | None) -> None:
        if code is not None:
            with contextlib.redirect_stdout(io.StringIO()):
                pre.shell.run_cell(code, store_history=False)

    rows = []
    for label, code in [("fork + exit", None), *[(f"fork + `{c}` + exit", c) for c in CODES[kind]]]:
        body(code) if code else None  # the parent itself ran it once (as warm-up does)
        a0, b0, f0 = _cpu()
        t0 = time.perf_counter()
        for _ in range(runs):
            pid = os.fork()
            if pid == 0:
                try:
                    body(code)
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
        wall = (time.perf_counter() - t0) / runs
        a1, b1, f1 = _cpu()
        rows.append((label, wall * 1e3, (a1 - a0) / runs * 1e3, (b1 - b0) / runs * 1e3, (f1 - f0) / runs))
    return rows


class ForkerProcess:
    """A real ``python -m salvus_local.kernel`` on a private socket."""

    def __init__(self, kind: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="fork-floor-")
        os.chmod(self.dir, 0o755)  # a root forker runs children as another uid, which must enter cwd
        self.key = os.urandom(32)
        self.path = os.path.join(self.dir, "run", f"{kind}.sock")
        self.proc = subprocess.Popen([sys.executable, "-m", "salvus_local.kernel", "--kind", kind, "--socket",
                                      self.path], stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.write(self.key.hex().encode() + b"\n")
        self.proc.stdin.close()
        line = self.proc.stderr.readline().decode()
        if "ready" not in line:
            raise RuntimeError(line + self.proc.stderr.read().decode())
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # never block its logging

    def run(self, code: str) -> dict:
        """One ``run`` request; return the result content."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(60)
        sock.connect(self.path)
        conn, _ = SignedConnection.connect(sock, self.key)
        ids = {"uid": 65534, "gid": 65534} if os.geteuid() == 0 else {}
        conn.send({"type": Verb.RUN, "content": {"kernel_id": "bench-" + uuid.uuid4().hex, "code": code,
                                                 "timeout": 30, "cwd": self.dir, **ids,
                                                 "limits": {"cpu": 32, "max_lifetime": 35}}})
        answer = conn.recv()
        conn.close()
        if answer.get("type") != Verb.RESULT or answer["content"]["status"] != "ok":
            raise RuntimeError(str(answer))
        return answer["content"]

    def cpu(self) -> tuple[float, float]:
        """(forker CPU s, its reaped children's CPU s)."""
        t = psutil.Process(self.proc.pid).cpu_times()
        return t.user + t.system, t.children_user + t.children_system

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def through_forker(kind: str, runs: int, clients: int) -> list[tuple[str, float, float, float, float]]:
    """Drive the real forker's ``run`` verb; rows of (label, ms per run wall, forker ms, children ms, runs/s)."""
    forker = ForkerProcess(kind)
    rows = []
    try:
        for code in CODES[kind]:
            for _ in range(5):
                forker.run(code)  # warm
            for n in (1, clients):
                per = max(1, runs // n)
                a0, b0 = forker.cpu()
                t0 = time.perf_counter()
                threads = [threading.Thread(target=lambda: [forker.run(code) for _ in range(per)]) for _ in range(n)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                wall = time.perf_counter() - t0
                a1, b1 = forker.cpu()
                total = per * n
                rows.append((f"`run` `{code}`, {n} client{'s' if n > 1 else ''}", wall / total * 1e3,
                             (a1 - a0) / total * 1e3, (b1 - b0) / total * 1e3, total / wall))
    finally:
        forker.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", nargs="+", default=["sage", "python"])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--in-process", help=argparse.SUPPRESS)  # internal: the preloaded subprocess
    args = parser.parse_args()
    if args.in_process:
        for row in in_process(args.in_process, args.runs):
            print("\t".join(str(x) for x in row))
        return
    print(f"load average before: {os.getloadavg()[0]:.1f}; {psutil.cpu_count()} cores\n")
    print("| kind | what | wall per run | parent/forker CPU | child CPU | child faults or runs/s |")
    print("|---|---|---|---|---|---|")
    for kind in args.kinds:
        out = subprocess.run([sys.executable, __file__, "--in-process", kind, "--runs", str(args.runs)],
                             capture_output=True, text=True, check=True, cwd=REPO).stdout
        for line in out.strip().splitlines():
            label, wall, parent, child, faults = line.split("\t")
            print(f"| {kind} | {label} | {float(wall):.2f} ms | {float(parent):.2f} ms | {float(child):.2f} ms "
                  f"| {float(faults):.0f} faults |")
        for label, wall, parent, child, rate in through_forker(kind, args.runs, args.clients):
            print(f"| {kind} | {label} | {wall:.2f} ms | {parent:.2f} ms | {child:.2f} ms | {rate:.0f} runs/s |")


if __name__ == "__main__":
    main()
