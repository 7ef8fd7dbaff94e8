"""Benchmark of projects storage (issue 4) against a real ``salvus-local`` on a free port.

    python bench/projects_bench.py [--files 10000] [--repeat 7]

Measures, over HTTP as a client sees it, the median of:
- ``POST /api/projects/<id>/snapshots`` of an unchanged project of 10,000 files (target <= 0.3 s),
- the same after one file changed (target <= 0.5 s),
- ``GET /p/<id>/api/contents/many`` of a folder of 10,000 files (target <= 0.2 s),
and prints a Markdown table.  No asserts: targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import os
import queue
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 300.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A ``salvus-local`` subprocess (Python kernels only) and an authenticated HTTP session to it."""

    def __init__(self, data_dir: Path, kernels: tuple[str, ...] = ("python",), extra: tuple[str, ...] = ()) -> None:
        self.token = secrets.token_hex(16)
        self.port = free_port()
        argv = [sys.executable, "-m", "salvus_local", "--port", str(self.port), "--no-browser",
                "--data-dir", str(data_dir), "--token", self.token, *[a for k in kernels for a in ("--kernels", k)], "--kernel", kernels[0],
                "--snapshot-interval", "120", *extra]  # no automatic snapshot runs during the measurements
        self.log = open(data_dir.parent / f"{data_dir.name}.log", "wb")
        self.proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=self.log)
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {self.token}"
        self._wait_started()

    def _wait_started(self) -> None:
        """Wait for the printed URL line (read in a thread so a silent server cannot block us)."""
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        stdout = self.proc.stdout
        threading.Thread(target=lambda: [lines.put(raw.decode()) for raw in stdout], daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if lines.get(timeout=0.5).startswith(self.base):
                    return
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
        self.stop()
        raise RuntimeError(f"salvus-local did not start; see {self.log.name}")

    def call(self, method: str, path: str, **kw: object) -> requests.Response:
        """One request; raises on an HTTP error."""
        r = self.http.request(method, self.base + path, timeout=120, **kw)  # type: ignore[arg-type]
        r.raise_for_status()
        return r

    def stop(self) -> None:
        """SIGTERM (the launcher stops its compute servers), SIGKILL if it hangs."""
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def fill(folder: Path, count: int, per_dir: int | None) -> None:
    """Write count small files (per_dir to a subfolder, or all in one), owned like the folder (kernel files)."""
    st = folder.stat()
    for i in range(count):
        sub = folder / (f"d{i // per_dir}" if per_dir else "many")
        made = [] if sub.is_dir() else [sub]
        sub.mkdir(exist_ok=True)
        path = sub / f"f{i}.txt"
        path.write_text(f"file {i}\n")
        if os.geteuid() == 0:
            for new in (*made, path):
                os.chown(new, st.st_uid, st.st_gid)


def median_of(fn: Callable[[], object], repeat: int, before: Callable[[], object] = lambda: None) -> float:
    """Median seconds of fn over repeat runs (``before`` runs untimed before each)."""
    samples = []
    for _ in range(repeat):
        before()
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    """Set up the projects, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="files per project / folder")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per measurement")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="salvus-bench-projects-"))
    server = Server(data)
    try:
        spread = server.call("POST", "/api/projects", json={"title": "spread"}).json()
        flat = server.call("POST", "/api/projects", json={"title": "flat"}).json()
        fill(Path(spread["path"]), args.files, per_dir=100)
        fill(Path(flat["path"]), args.files, per_dir=None)

        def snapshot() -> dict:
            return server.call("POST", f"/api/projects/{spread['id']}/snapshots", json={"message": "bench"}).json()

        t = time.perf_counter()
        first = snapshot()
        first_s = time.perf_counter() - t
        unchanged = median_of(snapshot, args.repeat)
        counter = iter(range(10**9))
        changed_file = Path(spread["path"]) / "d0" / "f0.txt"
        one_changed = median_of(snapshot, args.repeat, lambda: changed_file.write_text(f"changed {next(counter)}\n"))
        listing_url = f"/p/{flat['id']}/api/contents/many"
        entries = len(server.call("GET", listing_url).json()["content"])  # also warms the project's managers
        listing = median_of(lambda: server.call("GET", listing_url), args.repeat)
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
        Path(f"{data}.log").unlink(missing_ok=True)

    rows = [
        (f"snapshot, unchanged project ({args.files:,} files)", unchanged, 0.3),
        ("snapshot, one file changed", one_changed, 0.5),
        (f"GET /api/contents of a folder ({entries:,} entries)", listing, 0.2),
    ]
    print(f"salvus-local projects benchmark: median of {args.repeat} runs over HTTP, Python {sys.version.split()[0]}, "
          f"{'root (git runs as the kernels uid)' if os.geteuid() == 0 else 'non-root'}\n")
    print("| operation | median (s) | target (s) | within target |")
    print("|---|---:|---:|:---:|")
    for name, value, target in rows:
        print(f"| {name} | {value:.3f} | {target:.1f} | {'yes' if value <= target else 'NO'} |")
    print(f"\nFirst snapshot of the project (one time): {first_s:.2f} s, {len(first['changed']):,} files.")


if __name__ == "__main__":
    main()
