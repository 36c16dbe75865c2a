"""Open SQLite connections kept for reuse (连接复用), for the embedded default.

Piccolo's SQLite engine opens a connection for every transaction and every query outside one: a
new thread, the file opened, `PRAGMA foreign_keys` sent, all closed again; and it sends the
pragma again before each statement.  A page of a dozen statements paid that each time.  Here a
process keeps up to `IDLE_MAX` open connections (each with its aiosqlite thread) and lends them
out; a connection comes back only when no transaction is open on it, else it is closed.

If the file at the path is replaced (a backup restored, a test's database made anew), the kept
connections still point at the old one: each loan compares the file's identity and drops them.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import dict_factory

IDLE_MAX = 8  # open connections a process keeps idle; more are opened when needed, closed after


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


class SqlitePool:
    """Connections to one SQLite file, opened with `connection_kwargs` (sqlite3.connect's)."""

    def __init__(self, connection_kwargs: dict[str, Any]):
        self.connection_kwargs = connection_kwargs
        self._idle: list[aiosqlite.Connection] = []
        self._file: tuple[int, int] | None = None

    @property
    def path(self) -> str:
        return str(self.connection_kwargs["database"])

    async def open(self) -> aiosqlite.Connection:
        """A new connection of its own (not from the pool): rows as dicts, foreign keys on."""
        connection = aiosqlite.connect(**self.connection_kwargs)
        # aiosqlite's worker thread is not a daemon: a kept idle connection would hold the
        # process open at exit.  It is made one before it starts.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]  # Piccolo's rows as dicts
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def take(self) -> aiosqlite.Connection:
        """An open connection, kept or new; give it back with `give_back`."""
        current = _file_id(self.path)
        if current != self._file:
            stale, self._idle = self._idle, []
            for connection in stale:
                await connection.close()
            self._file = current
        if self._idle:
            return self._idle.pop()
        connection = await self.open()
        if self._file is None:
            self._file = _file_id(self.path)  # the first connection made the file
        connection.qinqing_file = self._file  # type: ignore[attr-defined]
        return connection

    async def give_back(self, connection: aiosqlite.Connection) -> None:
        """Keep `connection` for the next loan, unless a transaction is still open on it (a
        commit that failed), the pool is full, its file was replaced, or it is already closed."""
        try:
            reusable = (connection.in_transaction is False and len(self._idle) < IDLE_MAX
                        and getattr(connection, "qinqing_file", None) == self._file)
        except (ValueError, AttributeError, sqlite3.ProgrammingError):  # closed
            return
        if reusable:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()
