"""Test helper: serve ``create_app(config)`` plus the project services on a free port.

    python tests/projects/serve_app.py DATA_DIR TOKEN

Prints ``http://127.0.0.1:PORT/`` once listening.  A real HTTP server (werkzeug, threaded,
websocket-capable) without forkers, for tests of contents/projects/terminals/history.
"""

from __future__ import annotations

import sys

from werkzeug.serving import make_server


def build(data_dir: str, token: str):  # noqa: ANN201 - a Flask app
    """Create the app with every projects-related service mounted once."""
    from salvus_local.config import Config
    from salvus_local.server import contents, create_app, history, projects, terminals

    config = Config(data_dir=data_dir, token=token, open_browser=False, port=0, snapshot_interval=2)
    app = create_app(config)
    for name, module in (("contents", contents), ("projects", projects), ("terminals", terminals),
                         ("history", history)):
        if name not in app.blueprints:
            module.init_app(app)
    return app


def main() -> None:
    """Serve until killed."""
    data_dir, token = sys.argv[1], sys.argv[2]
    server = make_server("127.0.0.1", 0, build(data_dir, token), threaded=True)
    print(f"http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
