"""One writer at a time per process on SQLite (写入排队): a fair, first-come queue in front of
`BEGIN IMMEDIATE`.

SQLite lets one connection write at a time; a connection that finds the lock held sleeps and
polls (1, 2, 5 … 100 ms) until its busy timeout runs out.  The polling is not a queue: under a
steady stream of writers a newcomer polling every millisecond keeps winning against a waiter
polling every 100 ms, and that waiter starves until the timeout answers it 503 — 18 to 31 of
1,000 submissions did, with 50 clients on one `qinqing serve` (`python -m bench.load
--database-url sqlite://`).  Within a process, writers therefore wait for their turn here, in
order; only one at a time contends for the file's lock, where the busy timeout is left to
arbitrate between processes (a CLI command beside the server).  A turn not had within the busy
timeout raises the same "database is locked" as SQLite's, which the request answers with 503.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from contextlib import asynccontextmanager

_turns: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = weakref.WeakKeyDictionary()


@asynccontextmanager
async def write_turn(engine, timeout: float):
    """Hold this process's turn to write on `engine` (a SQLiteEngine) while the block runs.  A
    block already inside a transaction of this context holds the turn (or is a reader that
    cannot write anyway): it does not queue again."""
    if engine.current_transaction.get() is not None:
        yield
        return
    loop = asyncio.get_running_loop()
    lock = _turns.get(loop)
    if lock is None:
        lock = _turns[loop] = asyncio.Lock()
    try:
        await asyncio.wait_for(lock.acquire(), timeout)
    except asyncio.TimeoutError:
        raise sqlite3.OperationalError(f"database is locked (no turn to write within {timeout:.0f}s)") from None
    try:
        yield
    finally:
        lock.release()
