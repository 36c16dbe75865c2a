"""Bulk writers of the generator: PostgreSQL (COPY through asyncpg, ids reserved in blocks from
each table's sequence) and SQLite (executemany)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).absolute().parent.parent

ADVISORY_KEY = 7_431_001


class PgWriter:
    def __init__(self, conn):
        self.conn = conn

    async def fast(self) -> None:
        """Skip the foreign-key triggers while copying (the rows are consistent by construction);
        only a superuser may, otherwise the checks run as usual."""
        import asyncpg

        try:
            await self.conn.execute("SET session_replication_role = replica")
        except asyncpg.PostgresError:
            pass

    async def reserve(self, table: str, n: int) -> int:
        """Reserve n ids of `table` from its sequence; returns the id before the first one."""
        if n <= 0:
            return 0
        await self.conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_KEY)
        try:
            last = await self.conn.fetchval(
                "SELECT setval(pg_get_serial_sequence($1, 'id'), nextval(pg_get_serial_sequence($1, 'id')) + $2 - 1)",
                table, n)
        finally:
            await self.conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_KEY)
        return last - n

    async def copy(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if rows:
            await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    def transaction(self):
        return self.conn.transaction()

    async def fetch(self, sql: str, *args) -> list:
        return await self.conn.fetch(sql, *args)


class SqliteWriter:
    def __init__(self, path: str):
        import sqlite3

        import piccolo.engine.sqlite  # noqa: F401 - registers the adapters Piccolo stores values with

        self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.next_ids: dict[str, int] = {}

    async def reserve(self, table: str, n: int) -> int:
        if table not in self.next_ids:
            self.next_ids[table] = self.db.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"').fetchone()[0]
        base = self.next_ids[table]
        self.next_ids[table] = base + max(0, n)
        return base

    async def copy(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if rows:
            cols = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            self.db.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)

    def transaction(self):
        writer = self

        class _Tx:
            async def __aenter__(self):
                writer.db.execute("BEGIN IMMEDIATE")

            async def __aexit__(self, kind, exc, tb):
                writer.db.execute("ROLLBACK" if kind else "COMMIT")

        return _Tx()

    async def fetch(self, sql: str, *args) -> list:
        return self.db.execute(re.sub(r"\$\d+", "?", sql), args).fetchall()


async def open_writer(url: str):
    if url.startswith("sqlite"):
        from core.config import parse_database_url

        return SqliteWriter(str(parse_database_url(url, ROOT / "var").path))
    import asyncpg

    from core.config import parse_database_url

    writer = PgWriter(await asyncpg.connect(**parse_database_url(url, ROOT / "var").asyncpg_config()))
    await writer.fast()
    return writer


async def close_writer(writer) -> None:
    if isinstance(writer, PgWriter):
        await writer.conn.close()
    else:
        writer.db.close()
