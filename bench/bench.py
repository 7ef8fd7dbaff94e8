"""Benchmark salvus_local against jupyter_server, side by side, through the Jupyter API.

Run with bench/run (it makes .venv-bench).  Both servers run at once on free ports with
their own temp dirs; every measurement is taken for each server in turn, in one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import measure
from measure import Results
from servers import Running, descendants, start_jupyter, start_salvus, wait_until

HERE = Path(__file__).parent
STARTERS = {"salvus": start_salvus, "jupyter": start_jupyter}
LABELS = {"salvus": "salvus_local", "jupyter": "jupyter_server"}
MB = 1024 * 1024
STEPS = ["new", "roundtrip", "idle", "concurrent"]


def run_all(servers: dict[str, Running], args: argparse.Namespace) -> dict[str, Results]:
    """Take every measurement for each server in turn."""
    results = {name: Results() for name in servers}
    kernels = {name: {lang: run.server.kernel_name(lang) for lang in ("sage", "python")}
               for name, run in servers.items()}
    # (group, label, measurement, kernel language, result key, how many)
    steps = [
        ("new", "new session, python", measure.new_sessions, "python", "new_python", args.repeats),
        ("new", "new session, sage", measure.new_sessions, "sage", "new_sage", args.repeats),
        ("roundtrip", "2+2 round trip, python", measure.round_trips, "python", "rt_python", args.roundtrips),
        ("roundtrip", "2+2 round trip, sage", measure.round_trips, "sage", "rt_sage", args.roundtrips),
        ("idle", "idle memory, sage", measure.idle_memory, "sage", "idle_sage", args.idle),
        ("concurrent", "concurrent sessions", measure.concurrent, args.concurrent_kernel, "conc", args.concurrent),
    ]
    # Process counts once idle: before each measurement every server is back to these, so
    # kernels still exiting from the previous step do not steal CPU from the next one.
    baseline = {name: steady_count(run.server.pid) for name, run in servers.items()}
    for group, label, step, lang, key, count in steps:
        if group not in args.steps:
            continue
        for name, run in servers.items():
            for other, other_run in servers.items():
                pid, limit = other_run.server.pid, baseline[other]
                try:
                    wait_until(lambda pid=pid, limit=limit: len(descendants(pid)) <= limit, 60, "")
                except TimeoutError:
                    print(f"(note: {LABELS[other]} still has extra processes)", end=" ")
            t0 = time.perf_counter()
            print(f"[{LABELS[name]}] {label} ...", end=" ", flush=True)
            step(run.server, kernels[name][lang], key, count, results[name])
            print(f"{time.perf_counter() - t0:.1f} s", flush=True)
    return results


def steady_count(pid: int) -> int:
    """Number of descendants of pid once it has not changed for a second."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < 1.0:
        count = len(descendants(pid))
        if count != last:
            last, since = count, time.monotonic()
        time.sleep(0.1)
    return last


def fmt_time(seconds: float | None) -> str:
    """Format seconds as ms or s."""
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_mb(value: float | None) -> str:
    """Format bytes as MB."""
    return "—" if value is None else f"{value / MB:.1f} MB"


def fmt_count(value: float | None) -> str:
    """Format a count."""
    return "—" if value is None else f"{value:.0f}"


def table(results: dict[str, Results], args: argparse.Namespace) -> str:
    """Render the Markdown table: medians, targets and the jupyter ÷ salvus ratio."""
    ck = args.concurrent_kernel
    rows = [
        (f"New Sage session → first result (median of {args.repeats})", "≤ 30 ms", "new_sage", fmt_time),
        (f"New Python session → first result (median of {args.repeats})", "≤ 20 ms", "new_python", fmt_time),
        (f"`2+2` round trip, warm Sage kernel (median of {args.roundtrips})", "≤ 3 ms", "rt_sage", fmt_time),
        (f"`2+2` round trip, warm Python kernel (median of {args.roundtrips})", "≤ 3 ms", "rt_python", fmt_time),
        (f"Unique memory (USS) per idle Sage session ({args.idle} sessions)", "≤ 15 MB", "idle_sage_uss", fmt_mb),
        ("Proportional memory (PSS) per idle Sage session", "", "idle_sage_pss", fmt_mb),
        ("Server + preloaded kernels before any session (USS)", "", "idle_sage_fixed_uss", fmt_mb),
        (f"{args.concurrent} concurrent {ck} sessions, each `{measure.SMALL_CELL}`: wall time", "",
         "conc_wall", fmt_time),
        ("… per-session start → result, p50", "", "conc", fmt_time),
        ("… per-session start → result, p95", "", "conc_p95", fmt_time),
        ("… sessions that failed", "0", "conc_failed", fmt_count),
    ]
    out = ["| Measurement | Target | salvus_local | jupyter_server | jupyter ÷ salvus |",
           "|---|---|---|---|---|"]
    for label, target, key, fmt in rows:
        ours = results["salvus"].median(key) if "salvus" in results else None
        theirs = results["jupyter"].median(key) if "jupyter" in results else None
        ratio = f"{theirs / ours:.1f}×" if ours and theirs and fmt is not fmt_count else "—"
        out.append(f"| {label} | {target} | {fmt(ours)} | {fmt(theirs)} | {ratio} |")
    return "\n".join(out)


def environment(load: tuple[float, float, float]) -> str:
    """One line about the machine, its load before the run and the versions, for the report."""
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"
    # Other work on the machine skews timings: the load average before the run goes into the report.
    loads = ", ".join(f"{x:.1f}" for x in load)
    return (f"{platform.machine()}, {os.cpu_count()} cores (load average {loads} before the run), "
            f"Python {platform.python_version()}, "
            f"passagemath-standard {version('passagemath-standard')}, "
            f"jupyter_server {version('jupyter_server')}, ipykernel {version('ipykernel')}, "
            f"salvus-local {version('salvus-local')}; {time.strftime('%Y-%m-%d %H:%M')}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=sorted(STARTERS), help="measure one server only")
    p.add_argument("--repeats", type=int, default=10, help="new sessions per kernel (after one warm-up)")
    p.add_argument("--roundtrips", type=int, default=200, help="2+2 round trips per kernel")
    p.add_argument("--idle", type=int, default=10, help="idle Sage sessions for the memory measurement")
    p.add_argument("--concurrent", type=int, default=50, help="sessions started at once")
    p.add_argument("--concurrent-kernel", choices=["sage", "python"], default="sage")
    p.add_argument("--steps", nargs="+", choices=STEPS, default=STEPS, help="measurements to take (default all)")
    p.add_argument("--out", type=Path, default=HERE / "results" / "latest.md")
    p.add_argument("--update-readme", action="store_true", help="also put the table into README.md")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the servers, measure, print and write the table."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = [args.only] if args.only else ["salvus", "jupyter"]
    load = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="salvus-bench-"))
    # As root salvus_local runs sessions as an unprivileged uid, which must reach the data dir.
    tmp.chmod(0o755)
    servers: dict[str, Running] = {}
    try:
        for name in names:
            servers[name] = STARTERS[name](tmp)
        results = run_all(servers, args)
    except BaseException:
        print(f"\nbench failed; server logs kept in {tmp}", file=sys.stderr)
        raise
    finally:
        for run in servers.values():
            run.stop()
    # Keep the servers' logs next to the table: failures are explained there.
    logs = args.out.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for log in tmp.glob("*.log"):
        shutil.copy2(log, logs / log.name)
    shutil.rmtree(tmp, ignore_errors=True)
    text = (f"{table(results, args)}\n\n{environment(load)}\n\n"
            f"Command: `bench/run {' '.join(sys.argv[1:] if argv is None else argv)}`\n")
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}")
    if args.update_readme:
        update_readme(text)
    return 0


def update_readme(text: str) -> None:
    """Replace the README's block between the bench markers with text."""
    readme = HERE.parent / "README.md"
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    old = readme.read_text(encoding="utf-8")
    head, rest = old.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{text.strip()}\n{end}{tail}", encoding="utf-8")
    print(f"table written into {readme}")


if __name__ == "__main__":
    sys.exit(main())
