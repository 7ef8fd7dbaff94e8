"""One Config: every setting declared once, with its default and help.

Each setting can be given on the command line (see ``salvus-local --help``) or in the
environment as ``SALVUS_LOCAL_<NAME>`` (upper case).  The README lists them all, and a
test fails when one is undocumented.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "SALVUS_LOCAL_"


def default_data_dir() -> str:
    """Return the platform's user data dir for salvus-local."""
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA", str(Path.home() / "AppData" / "Local"))
    elif os.uname().sysname == "Darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME", str(Path.home() / ".local" / "share"))
    return str(Path(base) / "salvus-local")


def setting(default: Any, help: str, **kw: Any) -> Any:
    """Declare a setting with its default and one line of help."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class Config:
    """Every salvus-local setting."""

    # Web server
    ip: str = setting("127.0.0.1", "Address to listen on; use --lan or 0.0.0.0 to serve other machines.")
    port: int = setting(8765, "Port to listen on; 0 picks a free one.")
    data_dir: str = setting(default_data_dir(), "Where projects, the database and run files live.")
    token: str = setting("", "Access token for the printed URL; random when empty.")
    open_browser: bool = setting(True, "Open the notebook in the default browser after start.")
    allow_hosts: list = setting([], "Extra Host names accepted besides loopback (DNS-rebinding guard).")
    allow_origins: list = setting([], "Extra Origins accepted on websockets besides the server's own.")
    threads: int = setting(256, "Worker threads of the web server (one per open websocket).")
    # Compute
    kernel: str = setting("sage", "Default kernel: sage (when importable) or python.")
    kernels: list = setting(["sage", "python"], "Kernels to preload; sage is skipped when not installed.")
    cpu_limit: int = setting(3600, "CPU seconds a session may use before it is stopped.")
    memory_limit: int = setting(4096, "Megabytes of address space a session may add to the preloaded parent.")
    nproc_limit: int = setting(256, "Processes and threads a session may add (fork bomb guard).")
    uid_nproc_limit: int = setting(4096, "Processes and threads all sessions of one uid may run together.")
    fsize_limit: int = setting(1024, "Largest file a session may write, in megabytes.")
    nofile_limit: int = setting(1024, "Open files a session may hold.")
    idle_timeout: int = setting(0, "Seconds of no activity after which a session is stopped; 0 never.")
    max_lifetime: int = setting(0, "Seconds after which any session is stopped; 0 never.")
    output_limit: int = setting(20_000_000, "Bytes of output one execution may send before it is truncated (3D plots need megabytes).")
    kernel_uid: int = setting(65534, "Unprivileged uid sessions run as when the server runs as root.")
    kernel_gid: int = setting(65534, "Unprivileged gid sessions run as when the server runs as root.")
    project_uid_min: int = setting(200000, "As root, each project runs as its own uid from here on; 0: all as kernel_uid.")
    project_uid_max: int = setting(299999, "Last uid of the per-project range (see project_uid_min).")
    session_namespaces: str = setting("multi-user", "Non-root: sessions in their own namespaces: multi-user (mode only), always or never.")
    allow_shared_uid: bool = setting(False, "Multi-user mode even without isolation of users' code: pages show a warning.")
    project_quota_mb: int = setting(0, "Disk quota per project in megabytes (server writes get 507 past it); 0: none.")
    kill_grace: float = setting(2.0, "Seconds between SIGTERM and SIGKILL when a session is stopped.")
    compute_tcp: str = setting("", "Also serve compute on host:port (needs compute_secret), for remote web servers.")
    compute_secret: str = setting("", "Shared secret for the TCP compute listener.")
    # Projects, snapshots, terminals (salvus_local/store, server/projects, server/terminals)
    snapshot_interval: int = setting(60, "Seconds between automatic snapshots while a project's files change (max 120).")
    snapshot_max_file_mb: int = setting(50, "Files larger than this many megabytes are left out of snapshots.")
    watch_polling: bool = setting(False, "Watch project folders by polling instead of inotify/FSEvents.")
    terminal_shell: str = setting("", "Shell that terminals run; empty means $SHELL, else /bin/bash or /bin/sh.")
    # Accounts (salvus_local/accounts, server/accounts)
    multi_user: bool = setting(False, "Require accounts: users sign in, each has projects; --lan implies it.")
    admin_user: str = setting("", "Name of the admin account made at the first multi-user start; empty: $USER or admin.")
    max_kernels_per_user: int = setting(8, "Sessions (kernels) one non-admin user may run at once; 0 no limit.")
    mdns: bool = setting(True, "Announce a multi-user server on the LAN by mDNS (_http._tcp) as HOST.local.")
    # Realtime collaboration (salvus_local/collab, server/collab)
    collaboration: str = setting("auto", "Realtime co-editing rooms: auto (on with --multi-user/--lan), on or off.")
    collaboration_idle: int = setting(60, "Seconds a room nobody is in stays in memory (its history stays stored).")
    collaboration_save_delay: float = setting(1.0, "Seconds after the last edit in a room before the server writes its file.")
    collaboration_room_mb: int = setting(64, "Cap (MB) on a room's stored edit history, compacted by size first; past it edits are refused.")
    collaboration_max_mb: int = setting(4, "Largest text file (MB) a room opens; notebooks 4 times that (outputs); larger: 413, edit alone.")
    # Publishing, embedding and the HTTP compute API (server/share, server/embed, server/compute_api)
    execute_timeout: float = setting(30.0, "Default seconds a /api/v1/execute run may take before its session is killed.")
    embed_origins: list = setting([], "Origins of pages allowed to embed live cells (embed.js) and run code without the token; empty: off.")
    embed_rate_limit: int = setting(30, "Anonymous runs or embedded sessions one client address may start per minute.")
    embed_timeout: float = setting(10.0, "Seconds an anonymous run may take (embedded cells: CPU seconds per session).")
    embed_lifetime: int = setting(600, "Seconds an anonymous embedded session lives (it also ends after 120 s idle).")
    embed_memory_limit: int = setting(1024, "Megabytes of address space an anonymous session may add.")
    embed_max_sessions: int = setting(20, "Anonymous embedded sessions that may run at once.")
    # Courses (salvus_local/courses, server/courses)
    grade_cell_timeout: float = setting(30.0, "Seconds one cell of a submission may run when autograding before it counts as failed.")
    grade_notebook_timeout: float = setting(300.0, "Seconds all cells of one submitted notebook may run when autograding.")
    grade_workers: int = setting(0, "Submissions autograded at once; 0: one per CPU core (at least 2).")
    # Chat (salvus_local/chat)
    chat_burst: int = setting(10, "Chat messages (posts and edits) one person may send at once before chat_rate applies.")
    chat_rate: float = setting(1.0, "Chat messages a second one person may send after a burst (429 past it); 0: no limit.")
    # Sync (sync/: package salvus_sync)
    machine_name: str = setting("", "This machine's name in sync commits and conflict copies; empty means the host name.")
    sync_max_file_mb: int = setting(100, "Files larger than this many megabytes are refused by sync (named, never sent).")
    sync_interval: int = setting(300, "Seconds between background syncs of linked projects (also 10 s after a save); "
                                      "0 syncs only when asked. Failures back off from 30 s to 30 minutes.")

    # Not settings: filled in at start.
    extra: dict = field(default_factory=dict, metadata={"internal": True})

    @property
    def run_dir(self) -> Path:
        """Directory for sockets and run files (mode 0700)."""
        return Path(self.data_dir) / "run"

    @property
    def default_project_dir(self) -> Path:
        """Working directory of kernels that belong to no project."""
        return Path(self.data_dir) / "projects" / "default"

    @classmethod
    def settings(cls) -> list[dataclasses.Field]:
        """Return the declared settings (not internal fields)."""
        return [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
        """Build a Config from SALVUS_LOCAL_* variables, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in cls.settings():
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = parse_value(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def parse_value(f: dataclasses.Field, raw: str) -> Any:
    """Parse an environment string into the setting's type, or raise ValueError."""
    kind = type(f.default) if f.default is not dataclasses.MISSING else list
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{ENV_PREFIX}{f.name.upper()} must be true or false, not {raw!r}")
    if kind is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{f.name.upper()} must be a {kind.__name__}, not {raw!r}") from None
