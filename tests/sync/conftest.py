"""Sync test fixtures: a bare "hub" repository and laptops (each its own salvus-local data dir).

Everything goes through the real ``salvus-local sync …`` command and the real git.  As root, the
projects belong to the sessions' uid (as a root server makes them) and git runs as that uid, so the
bare remote is given to it too; root's own git (the clone) trusts the test folders through a
private global config, never the machine's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from salvus_sync.git import Git
from tests.conftest import REPO

SESSION_UID = 65534


def run_cli(*args: str, env: dict[str, str], timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
    """``salvus-local ARGS`` as a user runs it; check: exit 0 expected."""
    proc = subprocess.run([sys.executable, "-m", "salvus_local", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if check:
        assert proc.returncode == 0, f"salvus-local {' '.join(args)} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def give_to_sessions(path: Path) -> None:
    """As root, hand a folder tree to the sessions' uid (as the laptops' projects are)."""
    if os.geteuid() != 0:
        return
    for base, dirs, files in os.walk(path):
        for name in [base, *(os.path.join(base, n) for n in dirs + files)]:
            os.lchown(name, SESSION_UID, SESSION_UID)


class Laptop:
    """One machine: a data dir, a machine name, and the project being synced."""

    def __init__(self, tmp: Path, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.data_dir = tmp / f"data-{name}"
        self.env = env
        self.project = ""
        self.root = Path()

    def cli(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        """``salvus-local sync --data-dir D --machine NAME ARGS``."""
        return run_cli("sync", "--data-dir", str(self.data_dir), "--machine", self.name, *args, env=self.env,
                       check=check, timeout=timeout)

    def create_and_link(self, hub: Path, title: str = "Thesis") -> Laptop:
        """Create a project here, link it to the hub and push it."""
        out = run_cli("project", "--data-dir", str(self.data_dir), "create", title, "--json", env=self.env)
        self.project = json.loads(out.stdout)["id"]
        self.root = Path(json.loads(out.stdout)["path"])
        if not self.root.is_absolute():
            self.root = REPO / self.root
        self.cli("link", self.project, str(hub))
        return self

    def clone(self, hub: Path) -> Laptop:
        """Clone the hub's project into this data dir."""
        out = self.cli("clone", str(hub), "--json")
        info = json.loads(out.stdout)
        self.project, self.root = info["id"], Path(info["path"])
        if not self.root.is_absolute():
            self.root = REPO / self.root
        return self

    def sync(self, *verb: str, check: bool = True) -> subprocess.CompletedProcess:
        """`sync [pull|push] -p PROJECT`."""
        return self.cli(*verb, "-p", self.project, check=check) if verb else self.cli("-p", self.project, check=check)

    def status(self) -> dict[str, Any]:
        """`sync status --json`."""
        return json.loads(self.cli("status", "-p", self.project, "--json").stdout)

    def write(self, rel: str, data: str | bytes) -> None:
        """Write a file in the project as its user would (owned like the project)."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        give_to_sessions(path.parent)

    def read(self, rel: str) -> str:
        """A file's text."""
        return (self.root / rel).read_text()

    def files(self) -> set[str]:
        """Every file of the project outside .git and .salvus."""
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                if p.is_file() and ".git" not in p.relative_to(self.root).parts
                and ".salvus" not in p.relative_to(self.root).parts}

    def git(self, *args: str) -> str:
        """git in the project, as the project's owner."""
        return Git(self.root).out(*args)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A private folder the sessions' uid can enter, outside pytest's basetemp.

    pytest makes /tmp/pytest-of-<user> 0700 again whenever any pytest session starts, and
    the 2-core machines run several at once: git running as the sessions' uid would lose its way.
    """
    path = Path(tempfile.mkdtemp(prefix="salvus-sync-test-"))
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sync_env(workdir: Path) -> dict[str, str]:
    """The environment of the laptops' commands: a private git global config trusting the test folders."""
    gitconfig = workdir / "gitconfig"
    gitconfig.write_text("[safe]\n\tdirectory = *\n[init]\n\tdefaultBranch = main\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALVUS_LOCAL_", "GIT_"))}
    env["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    # As root, every laptop project belongs to the one sessions' uid (not a uid per project), so the
    # bare "hub" on this disk is reachable from both laptops; a real laptop is one user anyway.
    env["SALVUS_LOCAL_PROJECT_UID_MIN"] = "0"
    return env


@pytest.fixture
def hub(workdir: Path) -> Path:
    """A bare repository standing in for the hub (a file:// or path remote)."""
    path = workdir / "hub.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    give_to_sessions(path)
    return path


@pytest.fixture
def laptops(workdir: Path, hub: Path, sync_env: dict[str, str]) -> tuple[Laptop, Laptop]:
    """Two laptops with the same project: A created and pushed it, B cloned it."""
    a = Laptop(workdir, "laptop-a", sync_env).create_and_link(hub)
    a.write("notes.txt", "line 1\nline 2\nline 3\n")
    a.sync()
    b = Laptop(workdir, "laptop-b", sync_env).clone(hub)
    assert b.project == a.project and b.read("notes.txt") == a.read("notes.txt")
    return a, b


def fsck(path: Path) -> None:
    """git fsck --full passes (objects and refs intact)."""
    proc = Git(path).run("fsck", "--full", "--no-progress", check=False)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()


@pytest.fixture
def hub_server(start_server, workdir: Path) -> Any:
    """A hub: a multi-user salvus-local (Python kernels only) with its own data dir."""
    from tests.accounts.conftest import PYTHON_ONLY

    data = workdir / "hub-data"
    data.mkdir()
    return start_server("--multi-user", env=PYTHON_ONLY, data_dir=data)


def sync_token(person: Any) -> str:
    """A new API token of scope sync for a signed-in Person."""
    r = person.post("/api/tokens", json={"scope": "sync", "note": "laptop"})
    assert r.status_code == 201, r.text
    return r.json()["token"]
