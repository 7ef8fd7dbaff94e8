"""What keeps one project's code from another's, as the launcher and /api/status report it.

``isolation_status(config) -> (mode, ok, reason)``:

- ``project-uids`` (root): each project's sessions run as its own uid, its folder 0700 (store/uids.py);
  each session in its own pids + freezer cgroup when cgroup v1 is mounted (kernel/contain.py).
- ``namespaces`` (an ordinary user): each session in user + mount + PID namespaces that show its project,
  a private /tmp and read-only system folders, and none of the data dir (kernel/namespace.py).
- ``shared-uid``: every session runs as the same uid and can read every project: fine for one person,
  refused in multi-user mode unless ``--allow-shared-uid``.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

from . import contain


def namespaces_work() -> tuple[bool, str]:
    """Try an unprivileged user + mount + PID namespace (``unshare``); (ok, what is missing)."""
    from .namespace import unshare_command

    argv = unshare_command()
    if argv is None:
        return False, "the unshare command (util-linux) is not installed"
    try:
        proc = subprocess.run([*argv, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"unshare could not run ({exc})"
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        return False, ("unprivileged user namespaces are disabled (" + (detail[-1] if detail else "unshare failed")
                       + "); enable them (sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces)")
    return True, ""


def isolation_status(config: Any) -> tuple[str, bool, str]:
    """Return (mode, ok, reason) for this server: how sessions of different projects are kept apart."""
    if os.geteuid() == 0:
        if not config.project_uid_min:
            return "shared-uid", False, (f"project_uid_min is 0: every project runs as uid {config.kernel_uid}; "
                                         "set a uid range to give each project its own")
        cgroups = "a cgroup per session" if contain.cgroups_available() else "no cgroups (subreapers instead)"
        return "project-uids", True, (f"each project runs as its own uid ({config.project_uid_min}–"
                                      f"{config.project_uid_max}), folder mode 0700; {cgroups}")
    wanted = getattr(config, "session_namespaces", "multi-user")
    if wanted not in ("multi-user", "always", "never"):
        raise ValueError(f"session_namespaces must be multi-user, always or never, not {wanted!r}")
    if wanted == "never" or (wanted == "multi-user" and not getattr(config, "multi_user", False)):
        # One person's own laptop: sessions run as that person and see their files (and keep the spare's speed).
        return "shared-uid", False, f"not root, and session_namespaces is {wanted} in this mode: sessions run as you"
    ok, missing = namespaces_work()
    if ok:
        return "namespaces", True, "each session runs in user + mount + PID namespaces that show only its project"
    return "shared-uid", False, f"not root, and {missing}"


def describe(config: Any) -> dict[str, Any]:
    """The status as a JSON-able dict (``shared_uid``: multi-user mode running without isolation)."""
    mode, ok, reason = isolation_status(config)
    multi = bool(getattr(config, "multi_user", False))
    return {"mode": mode, "ok": ok, "reason": reason, "shared_uid": multi and not ok}
