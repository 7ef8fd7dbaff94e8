"""Entry point: ``python -m salvus_local.kernel --kind sage|python --socket PATH``.

The per-boot master key is read from the first line of stdin (hex), never from argv,
the environment or a file, so neither ``ps`` nor a session's environment shows it.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import stat
import sys

from .forker import Forker
from .preload import preload, sage_available


def _unix_listener(path: str) -> socket.socket:
    """Listen on a Unix socket in a private (0700) directory."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if stat.S_IMODE(os.stat(folder).st_mode) & 0o077:
        os.chmod(folder, 0o700)
    if os.path.exists(path):
        os.unlink(path)  # a stale socket of a previous run
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


def _tcp_listener(spec: str) -> socket.socket:
    """Listen on host:port for remote web servers."""
    host, _, port = spec.rpartition(":")
    sock = socket.create_server((host or "127.0.0.1", int(port)), backlog=128, reuse_port=False)
    return sock


def _reopen_stdin() -> None:
    """Keep fd 0 taken by /dev/null, so no socket ever lands on it."""
    fd = os.open(os.devnull, os.O_RDONLY)
    if fd != 0:
        os.dup2(fd, 0)
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    """Preload, listen and serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m salvus_local.kernel", description=__doc__)
    parser.add_argument("--kind", choices=["sage", "python"], default="python")
    parser.add_argument("--socket", required=True, help="Unix socket path (its directory is made 0700)")
    parser.add_argument("--tcp", default="", help="also listen on host:port; the TCP secret is the 2nd stdin line")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="salvus compute: %(message)s")
    key = bytearray(bytes.fromhex(sys.stdin.readline().strip() or "00"))
    tcp_key = bytearray(sys.stdin.readline().strip().encode()) if args.tcp else bytearray()
    sys.stdin.close()
    _reopen_stdin()
    if len(key) < 16:
        print("salvus compute: the key on stdin is missing or too short", file=sys.stderr)
        return 2
    if args.tcp and len(tcp_key) < 16:
        print("salvus compute: --tcp needs a shared secret of at least 16 characters", file=sys.stderr)
        return 2
    if args.kind == "sage" and not sage_available():
        print("salvus compute: Sage is not installed; use --kind python", file=sys.stderr)
        return 2
    pre = preload(args.kind)
    listeners = [(_unix_listener(args.socket), key)]
    if args.tcp:
        listeners.append((_tcp_listener(args.tcp), tcp_key))
    print(f"salvus compute: {pre.kernel['display_name']} ready on {args.socket}", file=sys.stderr, flush=True)
    try:
        Forker(pre, key, listeners).serve_forever()
    finally:
        try:
            os.unlink(args.socket)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
