"""A classroom on one machine: N students sign in over a window, some run a small Sage cell every few seconds,
the others browse files; report login and execute latencies, errors and the server's memory.

    python bench/classroom.py [--students 100] [--runners 50] [--login-window 60] [--duration 300]
                              [--interval 3] [--kernel sage|python] [--code "factor(2^64-1)"]

A bounded harness of our own (threads + websocket-client), loopback only: one real
``salvus-local --multi-user`` on a free port with a temporary data dir, stopped at the end.
Accounts are made through the admin API first (not timed); "login" is the timed POST /login.
Prints a Markdown table (paste it into the README).  Benchmarks report; tests never time.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import requests
import websocket

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "classroom password"


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values, in ms; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))] * 1000


class Server:
    """salvus-local --multi-user in a subprocess."""

    def __init__(self, kernel: str, max_kernels: int) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="salvus-classroom-"))
        os.chmod(self.data_dir, 0o711)
        self.token = secrets.token_hex(16)
        env = {**os.environ, "SALVUS_LOCAL_KERNEL": kernel, "SALVUS_LOCAL_KERNELS": kernel}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "salvus_local", "--multi-user", "--no-mdns", "--port", "0", "--no-browser",
             "--data-dir", str(self.data_dir), "--token", self.token, "--max-kernels-per-user", str(max_kernels)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode()
            if line.startswith("http://127.0.0.1:"):
                self.base = re.match(r"(http://127\.0\.0\.1:\d+)", line).group(1)
                break
        else:
            raise RuntimeError("salvus-local did not start")
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def api(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, self.base + path, headers={"Authorization": f"token {self.token}"},
                                timeout=60, **kw)

    def memory(self) -> dict[str, float]:
        """RSS of the whole server tree and the USS of each kernel process (MB)."""
        root = psutil.Process(self.proc.pid)
        procs = [root, *root.children(recursive=True)]
        total = sum(p.memory_info().rss for p in procs if p.is_running())
        kernels = []  # children of a forker (salvus_local.kernel): sessions, and the one spare
        for p in procs:
            try:
                parent = p.parent()
                if parent is not None and "salvus_local.kernel" in " ".join(parent.cmdline()):
                    kernels.append(p.memory_full_info().uss)
            except psutil.Error:
                continue
        return {"rss_mb": total / 2**20, "kernel_uss_mb": statistics.median(kernels) / 2**20 if kernels else 0.0,
                "kernels": len(kernels)}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class Student(threading.Thread):
    """One student: signs in at ``start_at``, then runs ``code`` every ``interval`` s or browses files."""

    def __init__(self, srv: Server, name: str, start_at: float, end_at: float, runner: bool, args, results) -> None:
        super().__init__(daemon=True)
        self.srv, self.name, self.start_at, self.end_at, self.runner = srv, name, start_at, end_at, runner
        self.args, self.results = args, results
        self.s = requests.Session()

    def call(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"X-XSRFToken": self.s.cookies.get("_xsrf", "")}
        return self.s.request(method, self.srv.base + path, headers=headers, timeout=60, allow_redirects=False, **kw)

    def run(self) -> None:
        try:
            time.sleep(max(0.0, self.start_at - time.monotonic()))
            self.s.get(self.srv.base + "/login", timeout=60)
            t0 = time.perf_counter()
            r = self.s.post(self.srv.base + "/login", data={"username": self.name, "password": PASSWORD, "next": "/",
                                                            "_xsrf": self.s.cookies.get("_xsrf", "")},
                            allow_redirects=False, timeout=60)
            self.results.put(("login", time.perf_counter() - t0, r.status_code == 302))
            if r.status_code != 302:
                return
            self.execute_loop() if self.runner else self.browse_loop()
        except Exception as exc:  # counted, never fatal to the run
            self.results.put(("error", 0.0, f"{type(exc).__name__}: {exc}"))

    def browse_loop(self) -> None:
        self.call("PUT", "/api/contents/notes.md", json={"type": "file", "format": "text", "content": "# notes\n"})
        while time.monotonic() < self.end_at:
            t0 = time.perf_counter()
            ok = self.call("GET", "/api/contents").status_code == 200 and \
                self.call("GET", "/api/contents/notes.md").status_code == 200
            self.results.put(("browse", time.perf_counter() - t0, ok))
            time.sleep(self.args.interval)

    def execute_loop(self) -> None:
        r = self.call("POST", "/api/kernels", json={"name": "sagemath" if self.args.kernel == "sage" else "python3"})
        if r.status_code != 201:
            self.results.put(("error", 0.0, f"kernel start {r.status_code}"))
            return
        kid = r.json()["id"]
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.s.cookies)
        ws = websocket.create_connection(self.srv.base.replace("http", "ws", 1) + f"/api/kernels/{kid}/channels",
                                         header=[f"Cookie: {cookie}"], timeout=60)
        session = uuid.uuid4().hex
        try:
            while time.monotonic() < self.end_at:
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({"channel": "shell", "header": {"msg_id": msg_id, "msg_type": "execute_request",
                                    "session": session, "username": self.name, "version": "5.3", "date": ""},
                                    "parent_header": {}, "metadata": {}, "buffers": [],
                                    "content": {"code": self.args.code, "silent": False, "store_history": True,
                                                "user_expressions": {}, "allow_stdin": False}}))
                t0 = time.perf_counter()
                ok, idle, replied = True, False, False
                while not (idle and replied):
                    msg = json.loads(ws.recv())
                    if msg.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    if msg["channel"] == "shell":
                        replied, ok = True, msg["content"].get("status") == "ok"
                    elif msg["msg_type"] == "status" and msg["content"]["execution_state"] in ("idle", "dead"):
                        idle, ok = True, ok and msg["content"]["execution_state"] == "idle"
                        replied = replied or msg["content"]["execution_state"] == "dead"
                self.results.put(("execute", time.perf_counter() - t0, ok))
                time.sleep(self.args.interval)
        finally:
            ws.close()
            self.call("DELETE", f"/api/kernels/{kid}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=100)
    ap.add_argument("--runners", type=int, default=50)
    ap.add_argument("--login-window", type=float, default=60.0)
    ap.add_argument("--duration", type=float, default=300.0, help="seconds of work after the last login")
    ap.add_argument("--interval", type=float, default=3.0)
    ap.add_argument("--kernel", choices=["sage", "python"], default="sage")
    ap.add_argument("--code", default=None)
    args = ap.parse_args()
    args.code = args.code or ("factor(2^64-1)" if args.kernel == "sage" else "sum(range(10**5))")
    srv = Server(args.kernel, max_kernels=2)
    try:
        names = [f"student{i:03d}" for i in range(args.students)]
        for name in names:
            assert srv.api("POST", "/api/users", json={"username": name, "password": PASSWORD}).status_code == 201
        idle = srv.memory()
        results: queue.Queue = queue.Queue()
        start = time.monotonic() + 1.0
        end = start + args.login_window + args.duration
        runner_ids = {j * args.students // args.runners for j in range(min(args.runners, args.students))}
        students = [Student(srv, name, start + args.login_window * i / max(1, args.students), end, i in runner_ids,
                            args, results) for i, name in enumerate(names)]
        for s in students:
            s.start()
        peak = idle
        while any(s.is_alive() for s in students):
            time.sleep(2.0)
            mem = srv.memory()
            peak = mem if mem["rss_mb"] > peak["rss_mb"] else peak
        rows = [results.get() for _ in range(results.qsize())]
    finally:
        srv.stop()
    by = {k: [r for r in rows if r[0] == k] for k in ("login", "execute", "browse", "error")}
    errors = sum(1 for k in ("login", "execute", "browse") for r in by[k] if not r[2]) + len(by["error"])
    lat = {k: [r[1] for r in by[k]] for k in ("login", "execute", "browse")}
    runners = sum(1 for s in students if s.runner)
    print(f"\n{args.students} students ({runners} running `{args.code}` every {args.interval:g} s, the others browsing"
          f" files), logins over {args.login_window:g} s, then {args.duration:g} s; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| | p50 | p95 | p99 | count |\n|---|---|---|---|---|")
    for k in ("login", "execute", "browse"):
        print(f"| {k} (ms) | {pct(lat[k], 50):.1f} | {pct(lat[k], 95):.1f} | {pct(lat[k], 99):.1f} | {len(lat[k])} |")
    print(f"\nerrors: {errors}" + (f" (first: {by['error'][0][2]})" if by["error"] else ""))
    print(f"server tree RSS (counts shared pages once per process): {idle['rss_mb']:.0f} MB before any "
          f"session, peak {peak['rss_mb']:.0f} MB with {peak['kernels']} forked children (sessions + the spare); "
          f"median unique memory (USS) per session {peak['kernel_uss_mb']:.1f} MB")


if __name__ == "__main__":
    main()
