"""The embedded default's kept connections (`core.sqlite_pool`, `PooledSQLiteEngine`): a page's
statements no longer open the file each time, and nothing a user relies on changes — foreign
keys hold, a failed transaction leaves nothing behind, a restored file is read at once, and a
command ends when its work does.  Temporary SQLite files; no server, no conftest fixtures."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from core.piccolo_private import PooledSQLiteEngine
from core.sqlite_pool import IDLE_MAX

ROOT = Path(__file__).resolve().parent.parent


def _file(name: str, journal: str = "WAL") -> str:
    path = Path(tempfile.mkdtemp(prefix="qq-pool-")) / name
    with sqlite3.connect(path) as db:
        db.executescript(f"""PRAGMA journal_mode={journal};
            CREATE TABLE maker (id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE gadget (id INTEGER PRIMARY KEY, maker INTEGER REFERENCES maker (id), name TEXT);
            INSERT INTO maker (id, name) VALUES (1, 'Huangyan Moulds');""")
    return str(path)


async def _names(engine, table: str = "gadget") -> list[str]:
    return [r["name"] for r in await engine._run_in_new_connection(f"SELECT name FROM {table} ORDER BY id")]


async def test_statements_reuse_kept_connections_and_keep_foreign_keys_on():
    engine = PooledSQLiteEngine(path=_file("q.db"), timeout=5)
    threads = threading.active_count()
    for i in range(30):
        async with engine.transaction():
            await engine.run_querystring(_sql(f"INSERT INTO gadget (maker, name) VALUES (1, 'die {i}')"))
        assert len(await _names(engine)) == i + 1
    assert threading.active_count() <= threads + 1  # one kept connection served them all
    with pytest.raises(sqlite3.IntegrityError):  # no maker 9: refused on a kept connection too
        async with engine.transaction():
            await engine.run_querystring(_sql("INSERT INTO gadget (maker, name) VALUES (9, 'orphan')"))
    assert len(await _names(engine)) == 30
    await engine.pool.close()


async def test_parallel_transactions_each_get_a_connection_and_at_most_the_limit_stay_open():
    engine = PooledSQLiteEngine(path=_file("p.db"), timeout=5)
    threads = threading.active_count()
    started = asyncio.Event()
    inside = 0

    async def read(i: int):
        nonlocal inside
        async with engine.transaction():
            inside += 1
            if inside == IDLE_MAX + 4:
                started.set()
            await asyncio.wait_for(started.wait(), 5)  # all open at once: none shares a connection
            return await _names(engine, "maker")

    answers = await asyncio.gather(*(read(i) for i in range(IDLE_MAX + 4)))
    assert answers == [["Huangyan Moulds"]] * (IDLE_MAX + 4)
    for _ in range(50):  # the extra connections' threads end once they are closed
        if threading.active_count() <= threads + IDLE_MAX:
            break
        await asyncio.sleep(0.02)
    assert threading.active_count() <= threads + IDLE_MAX
    await engine.pool.close()


async def test_a_failed_transaction_leaves_nothing_open_for_the_next_one():
    engine = PooledSQLiteEngine(path=_file("f.db"), timeout=5)
    with pytest.raises(LookupError):
        async with engine.transaction():
            await engine.run_querystring(_sql("INSERT INTO gadget (maker, name) VALUES (1, 'half-way')"))
            raise LookupError
    # A connection left inside a transaction (a COMMIT that failed) is not lent again.
    connection = await engine.pool.take()
    await connection.execute("BEGIN")
    await connection.execute("INSERT INTO gadget (maker, name) VALUES (1, 'uncommitted')")
    await engine.pool.give_back(connection)
    async with engine.transaction():
        await engine.run_querystring(_sql("INSERT INTO gadget (maker, name) VALUES (1, 'press')"))
    assert await _names(engine) == ["press"]
    await engine.pool.close()


async def test_a_busy_begin_gives_its_connection_back():
    path = _file("b.db")
    engine = PooledSQLiteEngine(path=path, timeout=0.2)
    threads = threading.active_count()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        from piccolo.engine.sqlite import TransactionType

        with pytest.raises(sqlite3.OperationalError):
            async with engine.transaction(transaction_type=TransactionType.immediate):
                pass
        assert engine.current_transaction.get() is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    async with engine.transaction(transaction_type=TransactionType.immediate):
        await engine.run_querystring(_sql("INSERT INTO gadget (maker, name) VALUES (1, 'after')"))
    assert await _names(engine) == ["after"]
    assert threading.active_count() == threads + 1  # the refused BEGIN's connection came back and served
    await engine.pool.close()


async def test_a_file_restored_under_the_server_is_read_at_once():
    """A file moved into place (a backup restored with the server up; in rollback-journal mode,
    as a copy made with `sqlite3 .backup` is, so no write-ahead log of the old file is left)."""
    path = _file("r.db", journal="DELETE")
    engine = PooledSQLiteEngine(path=path, timeout=5)
    async with engine.transaction():
        await engine.run_querystring(_sql("INSERT INTO gadget (maker, name) VALUES (1, 'before the restore')"))
    assert await _names(engine) == ["before the restore"]
    backup = _file("backup.db", journal="DELETE")
    with sqlite3.connect(backup) as db:
        db.execute("INSERT INTO gadget (maker, name) VALUES (1, 'from the backup')")
    os.replace(backup, path)
    assert await _names(engine) == ["from the backup"]
    await engine.pool.close()


def test_a_command_with_kept_connections_ends_when_its_work_does():
    """aiosqlite's threads are not daemons; a kept idle connection must not hold the process open."""
    script = f"""
import asyncio
from core.piccolo_private import PooledSQLiteEngine
engine = PooledSQLiteEngine(path={_file("e.db")!r})
async def main():
    print((await engine._run_in_new_connection("SELECT name FROM maker"))[0]["name"])
asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Huangyan Moulds"


def _sql(text: str):
    from piccolo.querystring import QueryString

    return QueryString(text)
