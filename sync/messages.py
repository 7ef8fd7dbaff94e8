"""One-line messages for what git says when a transfer fails: sign in again, offline, not found, disk full.

git's wording is stable across versions for these cases (curl's and git's own ``fatal:`` lines);
each message says what to do next, and names the hub so the command can be pasted.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# Failures of the connection, not of the request: the remote may be back later (the "offline" state).
OFFLINE = ("could not resolve host", "failed to connect", "couldn't connect", "connection refused",
           "connection timed out", "operation timed out", "timed out", "empty reply from server", "transfer closed",
           "rpc failed", "early eof", "hung up unexpectedly", "connection reset", "recv failure", "network is unreachable",
           "no route to host", "could not read from remote repository", "ssl_connect", "502", "503", "504")
AUTH = ("could not read username", "could not read password", "authentication failed", "returned error: 401",
        "terminal prompts disabled")
NOT_FOUND = ("not found", "does not appear to be a git repository", "returned error: 404", "no such file or directory")


@dataclass
class Failure:
    """What went wrong: ``kind`` (auth, forbidden, not_found, offline, disk_full, dubious_ownership, other), message."""

    kind: str
    message: str

    @property
    def offline(self) -> bool:
        """True when the remote could not be reached (retry later)."""
        return self.kind == "offline"


def hub_of(url: str) -> str:
    """scheme://host[:port] of an http(s) URL, else the URL itself (a path, ssh)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else url


# git fsck message ids (lowercased) that mean a tree entry would write outside the work tree or into .git.
UNSAFE = ("hasdotdot", "hasdotgit", "hasdot:", "fullpathname", "duplicateentries",
          "emptyname", "gitmodulessymlink", "badtree")


def explain(stderr: str, url: str, has_token: bool, doing: str) -> Failure:
    """Turn git's complaint into a Failure; ``doing`` is "fetch from" / "push to"."""
    low = stderr.lower()
    hub = hub_of(url)
    last = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip() and not ln.startswith("hint:")),
                "(no message)")
    if "no space left on device" in low or "disk quota exceeded" in low:
        side = "the remote" if "remote:" in low or "remote rejected" in low else "this machine"
        return Failure("disk_full", f"cannot {doing} {url}: the disk of {side} is full; free some space and sync "
                                    "again (nothing was lost)")
    if "fsck error" in low or any(s in low for s in UNSAFE):
        # transfer.fsckObjects refused the objects: nothing was stored, no ref or file changed.
        why = next((ln.split(":", 2)[-1].strip() for ln in stderr.splitlines() if any(s in ln.lower() for s in UNSAFE)),
                   "git's integrity check failed")
        return Failure("unsafe_remote", f"refused to {doing} {url}: its history holds an unsafe or broken tree "
                                        f"({why}); nothing was changed here, do not sync with it")
    if "dubious ownership" in low:
        # git (as the project's user) refuses a repository folder another user owns; it then says
        # "could not read from remote repository", which alone would read as offline.
        where = next((ln.split("repository at", 1)[1].strip(" '\"") for ln in stderr.splitlines()
                      if "dubious ownership in repository at" in ln), url)
        return Failure("dubious_ownership",
                       f"cannot {doing} {url}: git refuses the repository {where} because it is owned by another "
                       f"user than this project's; give that folder to the project's owner (chown -R), or trust it: "
                       f"git config --system --add safe.directory {where}")
    if any(s in low for s in AUTH):
        if has_token:
            return Failure("auth", f"Your sync token for {hub} was revoked or expired: run "
                                   f"`salvus-local sync login {hub}`")
        return Failure("auth", f"{hub} needs you to sign in: run `salvus-local sync login {hub}`")
    if "returned error: 403" in low:
        if not has_token:
            return Failure("auth", f"{hub} needs you to sign in: run `salvus-local sync login {hub}`")
        return Failure("forbidden", f"{hub} refused to let you {doing.split()[0]} this project (HTTP 403): its owner "
                                    "can make you an editor")
    if any(s in low for s in NOT_FOUND) and hub == url:  # a folder or ssh remote gone: a drive unplugged, a network
        return Failure("offline", f"cannot reach the remote {url} (offline, or the drive is not there?): your work "
                                  "is committed here and syncs when it is back")
    if any(s in low for s in NOT_FOUND):
        return Failure("not_found", f"there is no project at {url} (or you may not see it): check the URL with "
                                    f"`salvus-local sync status`")
    if any(s in low for s in OFFLINE):
        return Failure("offline", f"cannot reach the remote {hub} (offline?): your work is committed here and syncs "
                                  f"when it is back ({last})")
    return Failure("other", f"cannot {doing} {url}: {last}")
