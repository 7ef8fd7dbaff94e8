"""Run ``git http-backend`` (CGI) for one repository and stream its answer back as a WSGI response.

Why ``git http-backend`` and not dulwich: it is git's own smart-HTTP server, the same receive-pack
and upload-pack the client talks to over SSH.  Incoming objects land in a quarantine and become
visible only if every check passed (``receive.fsckObjects``: a corrupt pack moves no ref), ref
updates go through git's lock files and ``--atomic`` transactions, ``receive.denyNonFastForwards``
and ``denyDeletes`` make the hub fast-forward only; the hub's own work tree is updated after a
push by salvus_sync's merge rules (``salvus_sync.hub``).  dulwich would be a second implementation of all of
that to keep in step.  The cost, one process per request, is nothing next to a transfer.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

# Hub policy, passed as GIT_CONFIG_* (never from the repository's own config, which users can write).
POLICY = [
    ("http.receivepack", "true"),
    ("http.uploadpack", "true"),
    ("http.getanyfile", "false"),  # dumb HTTP would bypass the checks below
    ("receive.denyNonFastForwards", "true"),
    ("receive.denyDeletes", "true"),
    ("receive.fsckObjects", "true"),
    # The branch moves, the files do not: salvus_sync.hub merges the push into the hub's work tree
    # afterwards (updateInstead would refuse every push while someone edits on the hub).
    ("receive.denyCurrentBranch", "ignore"),
    ("receive.hideRefs", "refs/salvus"),  # snapshots and sync bookkeeping are the hub's own…
    ("receive.hideRefs", "!refs/salvus/machines"),  # …except each laptop's pushed snapshots (--with-history)
    ("uploadpack.hideRefs", "refs/salvus"),
    ("core.hooksPath", "/dev/null"),
    ("core.fsync", "committed,reference"),
    ("gc.auto", "0"),
]


def cgi_env(root: Path, path_info: str, environ: dict, user: str) -> dict[str, str]:
    """The CGI environment for http-backend serving repository root."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(root.parent),
        "PATH_INFO": f"/{root.name}/{path_info}",
        "GIT_HTTP_EXPORT_ALL": "1",
        "REMOTE_USER": user,
        "REMOTE_ADDR": environ.get("REMOTE_ADDR", ""),
        "REQUEST_METHOD": environ.get("REQUEST_METHOD", "GET"),
        "QUERY_STRING": environ.get("QUERY_STRING", ""),
        "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }
    for header in ("HTTP_CONTENT_ENCODING", "HTTP_GIT_PROTOCOL"):
        if environ.get(header):
            env[header] = environ[header]
    if environ.get("HTTP_GIT_PROTOCOL"):
        env["GIT_PROTOCOL"] = environ["HTTP_GIT_PROTOCOL"]
    pairs = [*POLICY, ("safe.directory", str(root))]
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    env["GIT_CONFIG_COUNT"] = str(len(pairs))
    return env


class Body:
    """http-backend's answer after its headers, chunk by chunk; ``on_done`` runs once when it ends or is closed.

    A class, not a generator: a WSGI server calls close() even when it never iterated, and a
    push's lock must be released then too.
    """

    def __init__(self, proc: subprocess.Popen, rest: bytes, on_done: Callable[[], None] | None) -> None:
        self.proc, self.rest, self.on_done = proc, rest, on_done

    def __iter__(self) -> Iterator[bytes]:
        try:
            if self.rest:
                yield self.rest
            assert self.proc.stdout is not None
            while True:
                chunk = self.proc.stdout.read1(65536)
                if not chunk:
                    break
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """End the process (if the client went away) and run on_done, once."""
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        done, self.on_done = self.on_done, None
        if done is not None:
            done()


def run_backend(root: Path, path_info: str, environ: dict, user: str, body: IO[bytes],
                on_done: Callable[[], None] | None = None) -> tuple[str, list[tuple[str, str]], Body]:
    """Start http-backend; return (status line, headers, body chunks) as its CGI answer says."""
    from salvus_sync.git import folder_owner  # lazy: the app starts even where salvus_sync is not installed

    env = cgi_env(root, path_info, environ, user)
    owner = folder_owner(root)
    run_as: dict = {}
    if owner:  # as root: git acts as the project's own uid, like every other git we run on it
        run_as = {"user": owner[0], "group": owner[1], "extra_groups": []}
        env.update(HOME="/nonexistent", GIT_CONFIG_GLOBAL=os.devnull)
    proc = subprocess.Popen(["git", "http-backend"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=root, **run_as)
    threading.Thread(target=_feed, args=(body, proc.stdin), daemon=True).start()
    errors: list[bytes] = []
    threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True).start()
    assert proc.stdout is not None
    head = b""
    while b"\r\n\r\n" not in head and b"\n\n" not in head:
        chunk = proc.stdout.read1(65536)
        if not chunk:
            break
        head += chunk
    sep = b"\r\n\r\n" if b"\r\n\r\n" in head else b"\n\n"
    raw_headers, _, rest = head.partition(sep)
    status = "200 OK"
    headers: list[tuple[str, str]] = []
    for line in raw_headers.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = value.strip()
        elif name.strip():
            headers.append((name.strip(), value.strip()))
    if not raw_headers:
        status = "500 Internal Server Error"
    return status, headers, Body(proc, rest, on_done)


def _feed(body: IO[bytes], stdin: IO[bytes] | None) -> None:
    """Copy the request body into http-backend (a push's pack can be large: never all in memory)."""
    assert stdin is not None
    try:
        while True:
            chunk = body.read(65536)
            if not chunk:
                break
            stdin.write(chunk)
    except (BrokenPipeError, OSError):
        pass
    finally:
        try:
            stdin.close()
        except OSError:
            pass
