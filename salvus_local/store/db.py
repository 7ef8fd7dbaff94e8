"""The SQLite store: one write connection behind a lock, one read connection per thread.

The web server is one process with many threads (gunicorn gthread).  SQLite allows one
writer at a time, so every write goes through ``Store.write()``, which holds a process-wide
lock around a single connection and opens the transaction with ``BEGIN IMMEDIATE``: a
deferred transaction that later upgrades to a write can fail with SQLITE_BUSY at once, without
waiting out busy_timeout, when another process (the ``salvus-local project`` CLI) wrote in
between.  Reads use a connection per thread, which WAL lets run beside the writer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from .migrations import migrations
from .permissions import create_private_file

BUSY_TIMEOUT_MS = 15_000

# Connection settings, applied to every connection.  synchronous=NORMAL: in WAL mode this
# never corrupts the database; a power cut may lose only the last few commits, and what this
# database holds is either re-derivable (file index, project list: every project carries
# .salvus/project.json) or a log of past computations, while FULL would fsync on every
# recorded cell of every classroom kernel.
PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
)


class Store:
    """The salvus.db database of one data dir; thread-safe, opened lazily."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._write_lock = threading.RLock()
        self._write_conn: sqlite3.Connection | None = None
        self._local = threading.local()
        self._pid = os.getpid()
        self._migrated = False

    @classmethod
    def for_data_dir(cls, data_dir: str | os.PathLike[str]) -> Store:
        """Return the store at ``<data_dir>/salvus.db`` (created and migrated on first use)."""
        return cls(Path(data_dir) / "salvus.db")

    def _connect(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            # A connection must never cross a fork; a child gets its own Store.
            raise RuntimeError("Store used in a forked child; open a new Store there")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        create_private_file(self.path)  # 0600 from the start: it holds every project's cell history
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        for pragma in PRAGMAS:
            conn.execute(pragma)
        return conn

    def _writer(self) -> sqlite_utils.Database:
        if self._write_conn is None:
            conn = self._connect()
            # journal_mode is persistent in the file; setting it needs the write lock we hold.
            conn.execute("PRAGMA journal_mode = WAL")
            self._write_conn = conn
            if not self._migrated:
                migrations.apply(sqlite_utils.Database(conn, execute_plugins=False))
                self._migrated = True
        return sqlite_utils.Database(self._write_conn, execute_plugins=False)

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """Run the block as one IMMEDIATE transaction on the single write connection."""
        with self._write_lock:
            db = self._writer()
            if db.conn.in_transaction:  # nested use from the same thread: join the outer one
                yield db
                return
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.conn.rollback()
                raise
            db.conn.commit()

    def read(self) -> sqlite_utils.Database:
        """Return this thread's read connection (schema migrated first)."""
        if not self._migrated:
            with self.write():
                pass
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return sqlite_utils.Database(conn, execute_plugins=False)

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        """Run a read query and return its rows as dicts."""
        return list(self.read().query(sql, params))

    def close(self) -> None:
        """Close the write connection and this thread's read connection."""
        with self._write_lock:
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # Settings: a tiny key/value table for things the UI and the CLI remember.
    def get_setting(self, key: str, default: object = None) -> object:
        """Return a stored setting (JSON-decoded) or ``default``."""
        rows = self.query("select value from settings where key = ?", (key,))
        return json_loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: object) -> None:
        """Store a setting (JSON-encoded)."""
        with self.write() as db:
            db["settings"].upsert({"key": key, "value": json_dumps(value)}, pk="key")


def json_dumps(value: object) -> str:
    """Encode a value for a TEXT column."""
    return json.dumps(value, separators=(",", ":"))


def json_loads(text: str) -> object:
    """Decode a TEXT column written by json_dumps."""
    return json.loads(text)
