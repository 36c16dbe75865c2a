"""Database engines: SQLite (embedded default) or PostgreSQL, chosen by `DATABASE_URL`.

On PostgreSQL the application logs in as the application role, which is no superuser, owns
nothing and is a member of no other role, so row-level security applies to it and `RESET ROLE`
returns to it; only `qinqing migrate` (and `tenant export`) log in as the owner (`core.pg_logins`).
On SQLite every connection gets a busy timeout and the file runs in WAL mode.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from core import piccolo_speedups
from core.config import ConfigError, Settings, get_settings
from core.piccolo_private import run_in_new_connection

piccolo_speedups.install()

OWNER_ENV = "QINQING_DB_OWNER"
SQLITE_BUSY_SECONDS = 15  # a writer waits this long for the lock, then the request answers 503


def as_owner() -> bool:
    return os.environ.get(OWNER_ENV) == "1"


def make_engine(settings: Settings | None = None, owner: bool | None = None) -> Engine:
    settings = settings or get_settings()
    owner = as_owner() if owner is None else owner
    db = settings.database
    if db.engine == "sqlite":
        if db.path is None:
            raise ConfigError("DATABASE_URL", "a SQLite URL names a file")
        db.path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(db.path), timeout=SQLITE_BUSY_SECONDS)
    from core.pg_logins import app_login, owner_login

    login = owner_login(settings) if owner else app_login(settings)
    return PostgresEngine(config=login.asyncpg_config(), log_queries=False)


def is_postgres(engine: Engine | None = None) -> bool:
    engine = engine or current_engine()
    return isinstance(engine, PostgresEngine)


def current_engine() -> Engine:
    from piccolo.engine import engine_finder

    engine = engine_finder()
    if engine is None:
        raise RuntimeError("no database engine: PICCOLO_CONF names no module with one")
    return engine


async def check_reachable(engine: Engine) -> None:
    """Raise ConfigError naming DATABASE_URL if the database cannot be reached."""
    import asyncpg

    try:
        if isinstance(engine, PostgresEngine):
            conn = await asyncpg.connect(**engine.config, timeout=5)
            await conn.close()
        else:
            await run_in_new_connection(engine, "SELECT 1")
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - any connection failure is a configuration problem here
        variable, hint = "DATABASE_URL", ""
        if isinstance(engine, PostgresEngine):
            if as_owner():
                variable = "DATABASE_OWNER_URL" if get_settings().owner_database else variable
            elif isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):  # no such role, wrong password
                hint = f"; the application logs in as {engine.config.get('user')!r}: run `qinqing migrate` first"
        raise ConfigError(variable, f"database unreachable ({exc.__class__.__name__}: {exc}){hint}") from None


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) means the database cannot be had just now — down,
    restarting, the connection cut, or SQLite's lock busy — rather than a bug: callers answer 503
    and retry."""
    import sqlite3

    import asyncpg

    kinds = (ConnectionError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
             asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.ConnectionDoesNotExistError)
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if isinstance(current, kinds):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True  # SQLite's write lock still held when the busy timeout ran out
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


@asynccontextmanager
async def write_transaction():
    """A transaction for writes: on SQLite IMMEDIATE (no 'database is locked' on upgrade), taken
    in this process's turn with the request writers (`core.sqlite_turn`)."""
    from core.sqlite_turn import write_turn

    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        async with write_turn(engine, SQLITE_BUSY_SECONDS), \
                engine.transaction(transaction_type=TransactionType.immediate) as tx:
            yield tx
    else:
        async with engine.transaction() as tx:
            yield tx


def in_transaction() -> bool:
    engine = current_engine()
    return engine.current_transaction.get() is not None


async def _keep_session(connection) -> None:
    """What a connection returning to the pool needs beyond asyncpg's own clean-up (which rolls
    back an open transaction and drops listeners): nothing.  The application keeps no session
    state on a pooled connection (the tenant is set transaction-locally, the role is the login
    itself, the scheduler's advisory lock lives on a connection of its own), so the default
    reset query (`RESET ALL`, `UNLISTEN *`, advisory unlock, …) would be a round trip per request
    that changes nothing."""


async def start_pool() -> None:
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10, reset=_keep_session)


async def close_pool() -> None:
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
