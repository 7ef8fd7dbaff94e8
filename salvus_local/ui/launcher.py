"""Start everything: the forking compute servers, the web server, the browser (docs/internals.md "Processes").

1. a per-boot master key; ``<data_dir>/run`` (0700);
2. one forker per kernel kind, exec'd as ``python -m salvus_local.kernel --kind K --socket S`` with the
   hex key as the first line of its stdin; wait until each answers ``info``;
3. the HTTP socket is bound here (so ``--port 0`` works), then gunicorn serves ``fd://N``;
4. the URL line on stdout, ``<run>/server.json`` (0600);
5. on SIGINT/SIGTERM/SIGHUP: gunicorn stops, then every forker, then any straggler process.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from salvus_local.config import Config
from salvus_local.kernel.limits import blocked_path
from salvus_local.store.errors import StoreError
from salvus_local.store.permissions import secure_data_dir

log = logging.getLogger("salvus_local.launcher")
FORKER_START_TIMEOUT = 300.0  # preloading Sage the first time after install compiles a lot
KINDS = ("sage", "python")


class LaunchError(Exception):
    """A problem the user can fix (port in use, unwritable data dir, …): shown as one line."""


@dataclass
class Forker:
    """One running forking compute server."""

    kind: str
    proc: subprocess.Popen
    socket_path: str


def sage_available() -> bool:
    """Tell whether Sage can be imported (without importing it)."""
    try:
        return any(importlib.util.find_spec(m) is not None for m in ("sage.all__sagemath_repl", "sage.all"))
    except (ImportError, ValueError):
        return False


def kernel_kinds(config: Config) -> list[str]:
    """Return the kinds to start (sage only when installed) and fix config.kernel to one of them."""
    unknown = [k for k in config.kernels if k not in KINDS]
    if unknown:
        raise LaunchError(f"unknown kernel kind {unknown[0]!r}: choose from {', '.join(KINDS)}")
    kinds = [k for k in dict.fromkeys(config.kernels) if k != "sage" or sage_available()] or ["python"]
    if config.kernel not in KINDS:
        raise LaunchError(f"unknown kernel {config.kernel!r}: choose from {', '.join(KINDS)}")
    if config.kernel not in kinds:
        if config.kernel == "sage":
            print("salvus-local: Sage is not installed; the default kernel is Python", file=sys.stderr)
        config.kernel = "python"
        kinds = list(dict.fromkeys([*kinds, "python"]))
    return kinds


def prepare_dirs(config: Config) -> None:
    """Create the data dir and ``run/`` (0700), checking that they are writable."""
    data = Path(config.data_dir).expanduser().absolute()
    config.data_dir = str(data)
    try:
        data.mkdir(parents=True, exist_ok=True)
        config.run_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(config.run_dir, 0o700)
        probe = config.run_dir / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise LaunchError(f"data dir {data} is not writable: {exc.strerror or exc}") from None
    other_uid = os.geteuid() == 0 and config.kernel_uid != 0
    if other_uid:
        (data / "projects").mkdir(exist_ok=True)
    # Kernels run as kernel_uid or a project's uid: they may pass through to projects/, never read the database,
    # the secret or run/ (0600/0700, repaired at every start).
    secure_data_dir(data, other_uid)
    if other_uid:
        # Sessions must reach the interpreter, the packages and the projects as that uid.
        needed = [sys.prefix, sys.base_prefix, os.path.dirname(os.__file__),
                  str(Path(__file__).resolve().parents[1]), str(data / "projects")]
        uid, gid = ((config.project_uid_min, config.project_uid_min) if config.project_uid_min
                    else (config.kernel_uid, config.kernel_gid))
        folder = blocked_path(uid, gid, needed)
        if folder:
            raise LaunchError(
                f"sessions run as uid {uid} (the server runs as root), which cannot enter {folder}; "
                f"make it reachable (chmod o+x {folder}), install Python and the data dir where that uid can "
                "read them, or choose another --kernel-uid")


def check_isolation(config: Config) -> dict[str, Any]:
    """Record how projects are kept apart (config.extra["isolation"], shown by /api/status and the pages).

    Multi-user mode refuses to start without isolation, naming what is missing, unless
    ``--allow-shared-uid``; then every page shows a warning.
    """
    from salvus_local.kernel.isolation import describe

    try:
        info = describe(config)
    except ValueError as exc:
        raise LaunchError(str(exc)) from None
    config.extra["isolation"] = info
    if getattr(config, "multi_user", False) and not info["ok"]:
        if not config.allow_shared_uid:
            raise LaunchError(f"multi-user mode needs the users' code isolated, and it cannot be: {info['reason']}. "
                              "Run the server as root (a uid per project), enable user namespaces, "
                              "or start with --allow-shared-uid to share one uid (every page then warns)")
        print(f"salvus-local: WARNING: users' code is not isolated ({info['reason']}); "
              "every user can read every project", file=sys.stderr)
    return info


SECRET_VARIABLES = ("SALVUS_LOCAL_TOKEN", "SALVUS_LOCAL_COMPUTE_SECRET")


def scrub_secret_environment() -> None:
    """Drop secrets from our environment once the Config holds them: forkers, kernels, terminals and
    git inherit it, and a session may read its own environment."""
    for name in SECRET_VARIABLES:
        os.environ.pop(name, None)


def check_compute_tcp(config: Config) -> None:
    """Refuse a TCP compute listener without a good shared secret, or with a bad host:port (one line)."""
    if not config.compute_tcp:
        return
    host, sep, port = config.compute_tcp.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise LaunchError(f"--compute-tcp {config.compute_tcp!r}: give HOST:PORT, e.g. 127.0.0.1:8765")
    secret = config.compute_secret or ""
    if len(secret) < 16 or any(c in secret for c in "\r\n"):
        raise LaunchError("--compute-tcp needs a shared secret of at least 16 characters on one line: set "
                          "SALVUS_LOCAL_COMPUTE_SECRET or give --compute-secret-file PATH")


def bind_http(ip: str, port: int) -> socket.socket:
    """Bind and listen on ip:port (port 0 = any free port)."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(ip or None, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise LaunchError(f"cannot listen on {ip!r}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and ip == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(addr)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise LaunchError(f"port {port} is already in use on {ip}; choose another with --port "
                              "(0 picks a free one)") from None
        raise LaunchError(f"cannot listen on {ip}:{port}: {exc.strerror or exc}") from None
    return sock


def first_admin(config: Config) -> str:
    """Make sure the first admin account exists (multi-user mode) and return its name; no connection stays open."""
    from salvus_local.accounts import Accounts
    from salvus_local.store.db import Store

    store = Store.for_data_dir(config.data_dir)
    try:
        return Accounts(store).ensure_admin(config.admin_user or None)["name"]
    finally:
        store.close()


def lan_hosts() -> list[str]:
    """Return this machine's host names and addresses (accepted as Host under --lan)."""
    name = socket.gethostname()
    hosts = {name, socket.getfqdn(), f"{name}.local"}
    try:
        import psutil

        for addrs in psutil.net_if_addrs().values():
            hosts.update(a.address.split("%")[0] for a in addrs if a.family in (socket.AF_INET, socket.AF_INET6))
    except ImportError:
        hosts.update(socket.gethostbyname_ex(name)[2])
    return sorted(h.lower() for h in hosts if h)


def start_forkers(config: Config, kinds: list[str], key: bytes) -> dict[str, Forker]:
    """Exec one forking compute server per kind, handing it the key on stdin."""
    forkers: dict[str, Forker] = {}
    for kind in kinds:
        path = str(config.run_dir / f"{kind}.sock")
        if len(path.encode()) > 100:
            raise LaunchError(f"data dir path too long for a unix socket ({path}); use a shorter --data-dir")
        argv = [sys.executable, "-m", "salvus_local.kernel", "--kind", kind, "--socket", path]
        lines = [key.hex().encode()]
        if config.compute_tcp and kind == config.kernel:
            argv += ["--tcp", config.compute_tcp]
            lines.append(config.compute_secret.encode())  # the TCP secret: 2nd stdin line, never argv
        # Own session: a Ctrl-C in the terminal reaches us, and we stop the forkers in order.
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=sys.stderr.fileno(), start_new_session=True)
        forkers[kind] = Forker(kind, proc, path)
        assert proc.stdin is not None
        proc.stdin.write(b"".join(line + b"\n" for line in lines))
        proc.stdin.close()
    return forkers


def wait_forkers(forkers: dict[str, Forker], key: bytes) -> dict[str, dict[str, Any]]:
    """Wait until every forker answers ``info``; return kind → kernel spec info."""
    from salvus_local.server.kernels.forker_client import ForkerClient, ForkerError, ForkerUnreachable

    specs: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + FORKER_START_TIMEOUT
    for kind, forker in forkers.items():
        client = ForkerClient(kind, forker.socket_path, key, connect_timeout=0.5)
        while kind not in specs:
            if forker.proc.poll() is not None:
                raise LaunchError(f"the {kind} compute server exited with code {forker.proc.returncode} "
                                  "while starting (see the messages above)")
            if time.monotonic() > deadline:
                raise LaunchError(f"the {kind} compute server did not start within {FORKER_START_TIMEOUT:.0f}s")
            try:
                specs[kind] = client.info().get("kernel") or {}
            except ForkerUnreachable:
                pass  # not listening yet: connect() already waited a little
            except ForkerError as exc:
                raise LaunchError(f"the {kind} compute server does not answer properly: {exc}") from None
    return specs


def stop_forkers(forkers: dict[str, Forker], grace: float) -> None:
    """SIGTERM every forker (each stops its kernels), then SIGKILL stragglers and their kernels."""
    survivors = []
    for forker in forkers.values():
        survivors += _descendants(forker.proc.pid)
        if forker.proc.poll() is None:
            forker.proc.terminate()
    for forker in forkers.values():
        try:
            forker.proc.wait(timeout=grace + 5)
        except subprocess.TimeoutExpired:
            forker.proc.kill()
            forker.proc.wait()
    for pid in survivors:  # kernels live in their own process groups: kill any the forker missed
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _descendants(pid: int) -> list[int]:
    """Return the pids of a process's descendants (empty without psutil)."""
    try:
        import psutil

        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:
        return []


def write_server_json(config: Config, url: str) -> Path:
    """Write ``<run>/server.json`` (0600) so other tools can find this server."""
    path = config.run_dir / "server.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url, "port": config.port, "token": config.token, "pid": os.getpid()}, f)
    os.replace(tmp, path)
    return path


_data_dir_lock: int | None = None  # the flock'd fd, open for the server's life (the gunicorn worker inherits it)


def hold_data_dir(config: Config) -> None:
    """Lock ``<run>/server.lock`` for this server's life; LaunchError when another server holds it.

    Two servers on one data dir would share its sockets, database and projects.
    """
    import fcntl

    global _data_dir_lock
    fd = os.open(config.run_dir / "server.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        try:
            pid = f" (pid {json.loads((config.run_dir / 'server.json').read_text())['pid']})"
        except (OSError, ValueError, KeyError, TypeError):
            pid = ""  # it is still starting
        raise LaunchError(f"another salvus-local{pid} already serves the data dir {config.data_dir}: use it "
                          f"(its URL is in {config.run_dir / 'server.json'}) or give another --data-dir") from None
    _data_dir_lock = fd


def open_browser(url: str) -> None:
    """Open the URL in the user's browser when there is a display to show it on."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("salvus-local: no display found; open the URL above in a browser", file=sys.stderr)
        return
    try:
        webbrowser.open(url, new=2)
    except webbrowser.Error as exc:
        print(f"salvus-local: could not open a browser ({exc}); open the URL above", file=sys.stderr)


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM/SIGHUP during start-up into a clean exit (the finally blocks stop the forkers)."""
    raise SystemExit(128 + signum)


def serve(config: Config, start_web: Any = None) -> None:
    """Run salvus-local until interrupted; ``start_web(config, sock, url)`` replaces gunicorn (desktop)."""
    import secrets

    logging.basicConfig(level=logging.WARNING, format="salvus-local: %(levelname)s %(name)s: %(message)s")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_exit)
    kinds = kernel_kinds(config)
    scrub_secret_environment()
    prepare_dirs(config)
    hold_data_dir(config)
    check_isolation(config)
    check_compute_tcp(config)
    admin = None
    if getattr(config, "multi_user", False):
        try:
            admin = first_admin(config)
        except StoreError as exc:  # a reserved or invalid --admin-user: one line, before anything starts
            raise LaunchError(f"--admin-user {config.admin_user!r}: {exc}") from None
    sock = bind_http(config.ip, config.port)
    config.port = sock.getsockname()[1]
    config.token = config.token or secrets.token_urlsafe(32)
    key = os.urandom(32)
    launcher_pid = os.getpid()
    forkers: dict[str, Forker] = {}
    server_json = None
    try:
        forkers = start_forkers(config, kinds, key)
        specs = wait_forkers(forkers, key)
        config.extra.update(master_key=key, kernel_specs=specs,
                            forkers={kind: f.socket_path for kind, f in forkers.items()})
        url = f"http://127.0.0.1:{config.port}/?token={config.token}"
        # server.json before the URL line: whoever saw the line (a test, a script) can find this server
        # through the data dir at once, instead of starting a second one there.
        server_json = write_server_json(config, url)
        print(url, flush=True)
        if config.ip in ("0.0.0.0", "::"):
            for host in lan_hosts():
                if "." in host and host[0].isdigit() and not host.startswith("127."):
                    print(f"salvus-local: on your network: http://{host}:{config.port}/?token={config.token}",
                          file=sys.stderr)
        if getattr(config, "multi_user", False):
            print(f"salvus-local: multi-user mode; the URL above signs you in as the admin "
                  f"{admin!r}", file=sys.stderr)
        if start_web is not None:
            start_web(config, sock, url)
            return
        if config.open_browser:
            open_browser(url)
        from salvus_local.server.wsgi import WSGIServer

        WSGIServer(config, sock).run()
    finally:
        # gunicorn's worker is a fork of this process and leaves through here too: only the launcher cleans up.
        if os.getpid() == launcher_pid:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, signal.SIG_IGN)  # stopping must not be interrupted
            try:
                sock.close()
            except OSError:
                pass  # gunicorn closed it already
            stop_forkers(forkers, config.kill_grace)
            if server_json is not None:
                server_json.unlink(missing_ok=True)
