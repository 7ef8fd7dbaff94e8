"""Run a command with a session's isolation, then exec it (used for terminals).

    python -m salvus_local.kernel.sandbox --limits '{"cpu": 600}' [--uid N --gid N] [--cwd DIR] -- CMD ARGS...

The command gets its own session and process group, the rlimits of a kernel session and,
when started by root, an unprivileged uid/gid and the session cgroup ``--cgroup SCOPE/NAME`` (made by the
caller).  Stopping it is killpg on its pid, then killing the cgroup (or every descendant).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import contain
from .limits import Limits, apply_limits, drop_privileges


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, isolate this process and exec the command."""
    parser = argparse.ArgumentParser(prog="python -m salvus_local.kernel.sandbox")
    parser.add_argument("--limits", default="{}", help="JSON object of Limits fields")
    parser.add_argument("--uid", type=int, default=None)
    parser.add_argument("--gid", type=int, default=None)
    parser.add_argument("--umask", type=lambda v: int(v, 8), default=None, help="octal umask of the shell (root)")
    parser.add_argument("--cwd", default=None)
    parser.add_argument("--cgroup", default="", help="SCOPE/NAME of the session cgroup to join (root)")
    parser.add_argument("--isolate", default="", help="JSON {hide, keep}: run inside unshare's namespaces (non-root)")
    parser.add_argument("--host-ids", default="", help="UID:GID of the server outside the namespaces")
    parser.add_argument("--ctty", action="store_true", help="make stdin (a pty) the controlling terminal")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    try:
        limits = Limits.from_dict(json.loads(args.limits))
    except ValueError:
        parser.error("--limits must be a JSON object")
    if args.isolate:
        from .namespace import enter_for_terminal

        uid, _, gid = args.host_ids.partition(":")
        enter_for_terminal(json.loads(args.isolate), int(uid), int(gid))
    try:
        os.setsid()
    except OSError:
        pass  # already a session leader (e.g. started by a pty helper)
    if args.ctty:
        import fcntl
        import termios

        fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # so Ctrl-C in the terminal reaches the shell's jobs
    if args.cgroup:
        # Everything the shell starts stays in this cgroup, however it detaches (docs: "Containment").
        scope, _, name = args.cgroup.partition("/")
        group = contain.SessionCgroup(name, scope)
        group.join()
        group.limit(limits.nproc)
    else:
        contain.set_subreaper()  # kept across exec: orphans come back to the shell, which reaps them
    apply_limits(limits, args.uid, contained=bool(args.cgroup))
    drop_privileges(args.uid, args.gid, args.umask)
    if args.cwd:
        os.chdir(args.cwd)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"salvus sandbox: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
        return 127
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
