"""Benchmark of sync (issue 9): salvus-local sync against plain git, same hub, same repositories, over loopback.

    python bench/sync_bench.py [--files 10000] [--repeat 5]

A hub (``salvus-local --multi-user`` on a free port) serves a project of ``--files`` small files.
Two laptops (folders A and B) each clone it, once with ``salvus-local sync clone`` and once with
``git clone``.  Then, ``--repeat`` times, one file changes on A, A sends it and B receives it:
``salvus-local sync push`` / ``salvus-local sync pull`` against ``git commit -a && git push`` /
``git pull --ff-only``.  Both talk to the same hub URL with the same token, so the difference is
what sync adds (committing local work, fetching before pushing, the merge and file-by-file update,
and the Python start of the command).  Prints a Markdown table of medians and ratios; no asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from projects_bench import REPO, Server  # noqa: E402  (the same hub process helper)


def git_env(token: str, home: Path) -> dict[str, str]:
    """Plain git's environment: the token as a header through the environment (as sync passes it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SALVUS_LOCAL_"))}
    (home / "gitconfig").write_text("[safe]\n\tdirectory = *\n[user]\n\tname = Bench\n\temail = b@x\n"
                                    "[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n")
    env.update(GIT_CONFIG_GLOBAL=str(home / "gitconfig"), GIT_TERMINAL_PROMPT="0", GIT_CONFIG_COUNT="1",
               GIT_CONFIG_KEY_0="http.extraHeader", GIT_CONFIG_VALUE_0=f"Authorization: token {token}",
               SALVUS_LOCAL_PROJECT_UID_MIN="0")
    return env


def run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """Run a command; raise with its output when it fails."""
    proc = subprocess.run(argv, env=env, cwd=cwd or REPO, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv)} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    """Set up hub and laptops, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="files in the project")
    parser.add_argument("--repeat", type=int, default=5, help="timed round trips")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="salvus-bench-sync-"))
    os.chmod(work, 0o711)
    hub_data = work / "hub"
    hub_data.mkdir()
    hub = Server(hub_data, extra=("--multi-user",))
    try:
        r = hub.call("POST", "/api/users", json={"username": "bench", "password": "bench-password-1"})
        user = r.json()["user"]["name"] if "user" in r.json() else "bench"
        s = requests.Session()
        s.get(hub.base + "/login")
        s.post(hub.base + "/login", data={"username": user, "password": "bench-password-1", "next": "/",
                                          "_xsrf": s.cookies.get("_xsrf", "")}, allow_redirects=False)
        token = s.post(hub.base + "/api/tokens", json={"scope": "sync"},
                       headers={"X-XSRFToken": s.cookies.get("_xsrf", "")}).json()["token"]
        env = git_env(token, work)
        env["SALVUS_SYNC_TOKEN"] = token
        # The project: made on a seed laptop, pushed (the first push creates it on the hub).
        seed = work / "seed"
        run(["git", "init", "-q", str(seed)], env)
        for i in range(args.files):
            sub = seed / f"d{i // 100}"
            sub.mkdir(exist_ok=True)
            (sub / f"f{i}.txt").write_text(f"file {i}\n")
        run(["git", "add", "-A"], env, seed)
        run(["git", "commit", "-qm", "seed"], env, seed)
        url = f"{hub.base}/git/{user}/bench-project.git"
        run(["git", "push", "-q", url, "HEAD:refs/heads/main"], env, seed)

        def sync_cli(data: Path, *argv: str) -> str:
            return run([sys.executable, "-m", "salvus_local", "sync", "--data-dir", str(data), *argv], env)

        rows: dict[str, tuple[float, float]] = {}
        # Clone: salvus-local sync clone (a project in a data dir) vs git clone.
        out: list[str] = []
        clone_s = timed(lambda: out.append(sync_cli(work / "sa", "clone", url, "--json")))
        clone_g = timed(lambda: run(["git", "clone", "-q", url, str(work / "ga")], env))
        rows["clone"] = (clone_s, clone_g)
        sa_root = Path(json.loads(out[0])["path"])
        sb_root = Path(json.loads(sync_cli(work / "sb", "clone", url, "--json"))["path"])
        for data, root in ((work / "sa", sa_root), (work / "sb", sb_root), (work / "sa", sa_root)):
            sync_cli(data, "-p", str(root))  # untimed: both clones' own first commits are on the hub
        run(["git", "clone", "-q", url, str(work / "gb")], env)
        push_s, pull_s, push_g, pull_g, trip_s, trip_g = [], [], [], [], [], []
        for i in range(args.repeat):
            # salvus-local sync: edit on A, push; pull on B.
            (sa_root / "d0" / "f0.txt").write_text(f"sync change {i}\n")
            p = timed(lambda: sync_cli(work / "sa", "push", "-p", str(sa_root)))
            q = timed(lambda: sync_cli(work / "sb", "pull", "-p", str(sb_root)))
            assert (sb_root / "d0" / "f0.txt").read_text() == f"sync change {i}\n"
            push_s.append(p), pull_s.append(q), trip_s.append(p + q)
            # plain git on its own two clones of the same hub project.
            ga, gb = work / "ga", work / "gb"
            run(["git", "pull", "-q", "--ff-only"], env, ga)
            (ga / "d0" / "f1.txt").write_text(f"git change {i}\n")
            p = timed(lambda: (run(["git", "commit", "-qam", f"change {i}"], env, ga),
                               run(["git", "push", "-q", "origin", "HEAD:main"], env, ga)))
            q = timed(lambda: run(["git", "pull", "-q", "--ff-only"], env, gb))
            assert (gb / "d0" / "f1.txt").read_text() == f"git change {i}\n"
            push_g.append(p), pull_g.append(q), trip_g.append(p + q)
            # Untimed: every copy takes in the other side's change before the next round, and sends
            # its own (a sync clone adds .salvus/project.json, which B must not carry unsent: its
            # timed pull would then be a merge, where plain git's B fast-forwards).
            run(["git", "pull", "-q", "--ff-only"], env, ga)
            for data, root in ((work / "sa", sa_root), (work / "sb", sb_root), (work / "sa", sa_root)):
                sync_cli(data, "-p", str(root))
        med = statistics.median
        rows["push of one changed file"] = (med(push_s), med(push_g))
        rows["pull of one changed file"] = (med(pull_s), med(pull_g))
        rows["round trip (A push → B pull)"] = (med(trip_s), med(trip_g))
        load = os.getloadavg()[0]
        print(f"\n{args.files} files, median of {args.repeat}, loopback hub, load average {load:.1f}\n")
        print("| | salvus-local sync | plain git | ratio |")
        print("|---|---|---|---|")
        for name, (ours, theirs) in rows.items():
            print(f"| {name} | {ours:.2f} s | {theirs:.2f} s | {ours / theirs:.2f}× |")
    finally:
        hub.stop()
        if not os.environ.get("SALVUS_BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
