"""Rate-limit counters in a SQLite file: limits that hold across processes without Redis.

On the embedded default (no REDIS_URL) gunicorn runs several worker processes; counters kept
in each process's memory would let each of them admit the whole limit. This storage keeps the
fixed-window counters in one SQLite file beside the database, and every increment is a single
atomic statement, so two processes racing for the last slot cannot both get it.
Registered with the `limits` library under the scheme `newsletter+sqlite:///path`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

from limits.storage import Storage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
)
"""

# One statement: a window that has ended starts again at `amount`; otherwise it grows.
_INCR = """
INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END,
    expires_at = CASE WHEN expires_at <= :now THEN :now + :expiry ELSE expires_at END
RETURNING count
"""


class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["newsletter+sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path = (uri or "").split("://", 1)[1]
        self._local = threading.local()
        self._increments = 0
        self._connection().execute(_SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and per process: sqlite3 connections cross neither a
        # thread nor a fork.
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            connection = sqlite3.connect(self.path, timeout=15)
            connection.isolation_level = None  # autocommit: each statement is its own write
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection, self._local.pid = connection, pid
        return self._local.connection  # type: ignore[no-any-return]

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self._increments += 1
        if self._increments % 1000 == 0:
            self.purge_expired()
        row = self._connection().execute(
            _INCR, {"key": key, "amount": amount, "now": time.time(), "expiry": expiry}
        )
        return int(row.fetchone()[0])

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._connection()
            .execute("SELECT expires_at FROM counters WHERE key = ?", (key,))
            .fetchone()
        )
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))

    def purge_expired(self) -> int:
        """Drop ended windows; the table otherwise keeps one row per key ever seen."""
        return (
            self._connection()
            .execute("DELETE FROM counters WHERE expires_at <= ?", (time.time(),))
            .rowcount
        )
