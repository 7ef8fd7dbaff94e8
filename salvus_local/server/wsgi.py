"""Run the Flask app under gunicorn (one gthread worker) on a socket the launcher already bound.

The app is built in the worker process, after gunicorn's fork, so the worker's threads,
kernel connections and reader threads never exist in the arbiter.
"""

from __future__ import annotations

import socket
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from salvus_local.config import Config


class _Arbiter(Arbiter):
    """gunicorn's arbiter, but SIGHUP (terminal closed) stops the server instead of reloading it."""

    def handle_hup(self) -> None:
        """Stop like SIGTERM: a reload would lose every running kernel."""
        raise StopIteration


class WSGIServer(BaseApplication):
    """gunicorn application serving ``create_app(config)`` on a bound, listening socket."""

    def __init__(self, config: Config, sock: socket.socket) -> None:
        self.salvus_config = config
        self.sock = sock
        super().__init__()

    def load_config(self) -> None:
        """Set gunicorn's settings: quiet, one threaded worker, short graceful stop."""
        settings: dict[str, Any] = {
            "bind": [f"fd://{self.sock.fileno()}"],
            "worker_class": "gthread",
            "workers": 1,
            "threads": max(2, self.salvus_config.threads),
            "graceful_timeout": 2,
            "timeout": 120,
            "keepalive": 5,
            "loglevel": "warning",
            "accesslog": None,  # an access log would record ?token= URLs
            "errorlog": "-",
            "proc_name": "salvus-local",
            "control_socket_disable": True,
            "worker_exit": _worker_exit,
            "post_worker_init": _post_worker_init,
        }
        for key, value in settings.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the Flask app (in the worker)."""
        from salvus_local.server import create_app

        return create_app(self.salvus_config)

    def run(self) -> None:
        """Run the arbiter until SIGINT/SIGTERM/SIGHUP (raises SystemExit when it stops)."""
        _Arbiter(self).run()


def _post_worker_init(worker: Any) -> None:
    """Once the worker runs: sweep temp files a killed server left in the projects (in the background)."""
    services = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("salvus")
    workspace = getattr(services, "workspace", None)
    if workspace is not None:
        workspace.start_sweep()


def _worker_exit(server: Any, worker: Any) -> None:
    """Shut the worker's kernels and terminals down cleanly when it exits, then close the workspace."""
    app = getattr(worker, "wsgi", None)
    services = getattr(app, "extensions", {}).get("salvus")
    for name, stop in (("kernels", lambda m: m.shutdown_all(now=True)), ("terminals", lambda m: m.shutdown_all()),
                       ("mdns", lambda m: m.close()), ("workspace", lambda m: m.close())):
        manager = getattr(services, name, None)
        if manager is not None:
            stop(manager)
