"""Running the git CLI for sync: never a prompt, the token only in the environment, stale locks handled.

Every command gets ``GIT_TERMINAL_PROMPT=0`` (and SSH in batch mode), so a missing credential is an
error, never a hung prompt.  A token travels as ``http.extraHeader`` through ``GIT_CONFIG_COUNT`` /
``GIT_CONFIG_KEY_n`` / ``GIT_CONFIG_VALUE_n``: not in argv (``ps`` shows argv), a URL, ``.git/config``
or a log, and error messages are scrubbed of it anyway.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Automatic gc/maintenance would fork background writers that outlive a sync (and a kill -9);
# fsync of objects and refs makes a crash leave old or new, never a torn ref.
CONFIG = ("-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c", "core.fsync=committed,reference",
          "-c", "core.quotepath=off", "-c", "core.hooksPath=/dev/null", "-c", "merge.directoryRenames=false",
          "-c", "core.attributesFile=/dev/null",
          "-c", "merge.renames=true", "-c", "advice.detachedHead=false",
          # A hostile remote's tree entries '..', '.git', '/x' are refused while its objects arrive,
          # before any ref or file changes (fsck in strict mode turns those warnings into errors).
          "-c", "transfer.fsckObjects=true", "-c", "fetch.fsckObjects=true", "-c", "receive.fsckObjects=true",
          # ...but not old, harmless oddities many real repositories carry (as GitHub also accepts them).
          "-c", "fetch.fsck.zeroPaddedFilemode=ignore")
LOCK_NAMES = ("index.lock", "HEAD.lock", "packed-refs.lock", "config.lock", "shallow.lock", "ORIG_HEAD.lock")


class GitError(Exception):
    """A git command failed; ``message`` is one line fit for a user (token scrubbed)."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.stderr = stderr


def git_env(token: str | None = None, base: dict[str, str] | None = None,
            config: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """The environment for sync's git commands: no prompts, C locale, the token (if any) as an HTTP header.

    ``config``: more (key, value) settings passed the same way (never argv).
    """
    env = dict(os.environ if base is None else base)
    for key in [k for k in env if k.startswith("GIT_CONFIG_") or k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")]:
        del env[key]  # a caller's git environment must not redirect ours (we may run inside a git hook)
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="", SSH_ASKPASS="", LC_ALL="C")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=20")
    pairs = list(config or []) + ([("http.extraHeader", f"Authorization: token {token}")] if token else [])
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    if pairs:
        env["GIT_CONFIG_COUNT"] = str(len(pairs))
    return env


def folder_owner(root: Path) -> tuple[int, int] | None:
    """(uid, gid) git must run as: the folder's owner when we are root and it is not (as snapshots do)."""
    # Sessions run as that uid and can write .git/config: git run as root would execute the
    # hooks, filters and fsmonitor named there as root, and leave root-owned objects behind.
    if os.geteuid() != 0:
        return None
    st = os.stat(root)
    return (st.st_uid, st.st_gid) if st.st_uid != 0 else None


class Git:
    """git in one work tree (or bare repository), as the folder's owner when we are root."""

    def __init__(self, root: str | os.PathLike[str], token: str | None = None) -> None:
        self.root = Path(root).resolve()
        self.token = token
        self.owner = folder_owner(self.root)
        self._git_dir: Path | None = None

    def run(self, *args: str, input: bytes | None = None, check: bool = True, env: dict[str, str] | None = None,
            timeout: float | None = None, on_stderr: Callable[[str], None] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run ``git ARGS`` in the work tree (or cwd); raise GitError (one line) on failure when check.

        on_stderr: called with each line of stderr as it comes (progress lines end in CR).
        """
        argv, full_env, run_as = self._command(args, env)
        try:
            if on_stderr is not None:
                proc = _streaming(argv, cwd or self.root, full_env, input, on_stderr, run_as)
            else:
                proc = subprocess.run(argv, cwd=cwd or self.root, env=full_env, input=input, capture_output=True,
                                      check=False, timeout=timeout,
                                      stdin=None if input is not None else subprocess.DEVNULL, **run_as)
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} timed out after {timeout:.0f}s") from None
        if check and proc.returncode:
            raise GitError(f"git {args[0]} failed: {self.last_line(proc.stderr)}", self.scrub(proc.stderr))
        return proc

    def _command(self, args: tuple[str, ...], env: dict[str, str] | None
                 ) -> tuple[list[str], dict[str, str], dict[str, Any]]:
        """(argv, environment, Popen's user/group arguments) of ``git ARGS`` here."""
        full_env = git_env(self.token)
        full_env.update(env or {})
        run_as: dict[str, Any] = {}
        if self.owner:
            run_as = {"user": self.owner[0], "group": self.owner[1], "extra_groups": []}
            full_env.update(HOME=_home_of(self.owner[0]), GIT_CONFIG_GLOBAL=os.devnull)
        return ["git", *CONFIG, "-c", f"safe.directory={self.root}", *args], full_env, run_as

    def blobs(self) -> Blobs:
        """A reader of many blobs through one ``git cat-file --batch`` (use as a context manager)."""
        return Blobs(self)

    def out(self, *args: str, **kw: Any) -> str:
        """stdout of ``git ARGS`` as text, stripped."""
        return self.run(*args, **kw).stdout.decode("utf-8", "surrogateescape").strip()

    def scrub(self, data: bytes | str) -> str:
        """Text of git's output with the token (should git ever echo it) replaced."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        return text.replace(self.token, "***") if self.token else text

    def last_line(self, data: bytes) -> str:
        """The last meaningful line of git's stderr (its actual complaint)."""
        lines = [ln.strip() for ln in self.scrub(data).splitlines() if ln.strip() and not ln.startswith("hint:")]
        return lines[-1] if lines else "(no message)"

    def rev(self, name: str) -> str | None:
        """The commit a name points to, or None."""
        proc = self.run("rev-parse", "-q", "--verify", f"{name}^{{commit}}", check=False)
        return proc.stdout.decode().strip() or None

    def is_ancestor(self, a: str, b: str) -> bool:
        """True when commit a is an ancestor of (or equal to) b."""
        return self.run("merge-base", "--is-ancestor", a, b, check=False).returncode == 0

    @property
    def git_dir(self) -> Path:
        """The repository's absolute git dir."""
        if self._git_dir is None:
            dot_git = self.root / ".git"
            # The usual layout needs no git process; anything else (a bare repository, a .git file
            # of a linked work tree, a link) is git's to answer.
            if dot_git.is_dir() and not dot_git.is_symlink() and (dot_git / "HEAD").is_file():
                self._git_dir = dot_git
            else:
                self._git_dir = Path(self.out("rev-parse", "--absolute-git-dir"))
        return self._git_dir

    def clear_stale_locks(self) -> list[str]:
        """Remove git lock files a killed git left behind; return their names.

        Called while holding sync's own lock.  A lock is stale when no live git process works in this
        repository (any other writer would be a git process here) and it is older than a second.
        """
        candidates = [self.git_dir / name for name in LOCK_NAMES]
        for folder in ("refs/heads", "refs/remotes", "refs/salvus", "salvus"):  # salvus/: sync's private indexes
            base = self.git_dir / folder
            if base.is_dir():
                candidates += base.rglob("*.lock")
        present = [p for p in candidates if p.exists() and p.name != "sync.lock"]  # sync.lock is an flock
        if not present or git_busy_in(self.root, self.git_dir):
            return []
        # A lock younger than a second may belong to a git that is only starting: wait out that second
        # (never skip: a lock left by a git killed just now would make every later step fail).
        newest = max((p.stat().st_mtime for p in present if p.exists()), default=0.0)
        if time.time() - newest < 1.0:
            time.sleep(max(0.0, 1.0 - (time.time() - newest)))
            if git_busy_in(self.root, self.git_dir):
                return []
        removed = []
        for path in present:
            try:
                path.unlink()
                removed.append(str(path.relative_to(self.git_dir)))
            except FileNotFoundError:
                continue
        return removed


class Blobs:
    """Blob contents through one long-lived ``git cat-file --batch``: one process for any number of files."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self.proc: subprocess.Popen | None = None

    def read(self, oid: str) -> bytes:
        """The bytes of blob oid; GitError when the repository lacks it."""
        if self.proc is None:
            argv, env, run_as = self.git._command(("cat-file", "--batch"), None)
            self.proc = subprocess.Popen(argv, cwd=self.git.root, env=env, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **run_as)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(oid.encode() + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()  # b"<oid> blob <size>" or b"<oid> missing"
        if len(header) != 3 or header[1] != b"blob":
            raise GitError(f"git cat-file failed: {oid} is not a blob here")
        size = int(header[2])
        data = self.proc.stdout.read(size)
        self.proc.stdout.read(1)  # the newline after the contents
        if len(data) != size:
            raise GitError(f"git cat-file failed: {oid} ended early")
        return data

    def close(self) -> None:
        """End the cat-file process."""
        proc, self.proc = self.proc, None
        if proc is not None:
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
            proc.wait()

    def __enter__(self) -> Blobs:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _streaming(argv: list[str], cwd: Path, env: dict[str, str], input: bytes | None,
               on_stderr: Callable[[str], None], run_as: dict[str, Any]) -> subprocess.CompletedProcess:
    """subprocess.run, but stderr goes line by line (CR or LF) to on_stderr as git writes it."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **run_as)
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else b""), daemon=True)
    reader.start()
    if input is not None and proc.stdin is not None:
        proc.stdin.write(input)
        proc.stdin.close()
    err = bytearray()
    pending = b""
    assert proc.stderr is not None
    while True:
        chunk = proc.stderr.read1(4096)
        if not chunk:
            break
        err += chunk
        pending += chunk
        *lines, pending = re.split(rb"[\r\n]", pending)
        for line in lines:
            if line.strip():
                on_stderr(line.decode("utf-8", "replace"))
    proc.wait()
    reader.join()
    return subprocess.CompletedProcess(argv, proc.returncode, out[0] if out else b"", bytes(err))


def git_busy_in(*folders: Path) -> bool:
    """True when a live git process has its working directory in one of folders."""
    import psutil

    roots = [str(f.resolve()) for f in folders]
    for proc in psutil.process_iter(["name", "cwd"]):
        try:
            name, cwd = proc.info["name"] or "", proc.info["cwd"] or ""
        except (psutil.Error, KeyError):
            continue
        if name.startswith("git") and any(cwd == r or cwd.startswith(r + os.sep) for r in roots):
            return True
    return False


def _home_of(uid: int) -> str:
    """The home folder of a uid, or one that does not exist."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return "/nonexistent"
