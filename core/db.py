"""Database engines: SQLite (embedded default) or PostgreSQL, chosen by `DATABASE_URL`.

On PostgreSQL the application logs in as the application role, which is no superuser, owns
nothing and is a member of no other role, so row-level security applies to it and `RESET ROLE`
returns to it; only `qinqing migrate` (and `tenant export`) log in as the owner (`core.pg_logins`).
On SQLite every connection gets a busy timeout and the file runs in WAL mode; a process keeps
its connections open and reuses them (`core.sqlite_pool`).

Past one machine (README, "Deployment past one machine"): behind PgBouncer in transaction
pooling, `DATABASE_POOLER=transaction` turns asyncpg's statement cache off (any PgBouncer; needed
up to 1.20, e.g. Debian 12's 1.18); `DATABASE_POOLER=transaction-prepared` keeps it on, for
PgBouncer ≥ 1.21 with `max_prepared_statements` > 0, which carries each named statement to whichever
server session runs it — checked at start-up (`check_reachable`).  Both are tested by `.ci/replica`,
the first through Debian's 1.18, the second through 1.24.1 built from Debian 13's source.  With
`DATABASE_REPLICA_URLS` reads that tolerate lag go to a streaming replica (`core.read_routing`).
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import asynccontextmanager
from dataclasses import replace

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from core import piccolo_speedups
from core.config import ConfigError, DatabaseURL, Settings, get_settings
from core.piccolo_private import PooledSQLiteEngine, run_in_new_connection
from core.read_routing import Replica, RoutedEngine, primary_only

piccolo_speedups.install()

OWNER_ENV = "QINQING_DB_OWNER"
SQLITE_BUSY_SECONDS = 15  # a writer waits this long for the lock, then the request answers 503
POOL_SIZE = 10  # connections a process keeps to PostgreSQL (or the pooler), at most


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
        return PooledSQLiteEngine(path=str(db.path), timeout=SQLITE_BUSY_SECONDS)
    from core.pg_logins import app_login, owner_login

    if owner:
        return PostgresEngine(config=connection_config(settings, owner_login(settings)), log_queries=False)
    login = app_login(settings)
    return RoutedEngine(config=connection_config(settings, login), replicas=replicas_of(settings, login),
                        max_lag=settings.replica_max_lag_seconds, log_queries=False)


def connection_config(settings: Settings, login: DatabaseURL) -> dict:
    """asyncpg's arguments for `login`.

    `transaction` (PgBouncer 1.18, Debian 12's, keeps no prepared statement from one transaction
    to the next): asyncpg's statement cache is off, every statement is parsed unnamed in the
    transaction that runs it.  `transaction-prepared` (PgBouncer ≥ 1.21, `max_prepared_statements`
    > 0): asyncpg's defaults — each statement is parsed once per client connection under a name
    unique in the process (`__asyncpg_stmt_N__`), which PgBouncer maps to its own (`PGBOUNCER_N`,
    one per query text, shared by its clients) and prepares on a server session the first time a
    transaction there binds it; asyncpg's `Close` of a statement leaving its cache is handled by
    the pooler too.  Everything else is the same in both modes: BEGIN/COMMIT and the tenant's
    `set_config(…, true)` go in the simple protocol (`SimpleProtocolTransaction`), nothing sends
    SQL-level `PREPARE`/`DEALLOCATE`, and no session setting is relied on (asyncpg's type
    introspection sets `jit` for its one query at session level; through a pooler the reset may
    reach another server session, at worst leaving jit off on one — no query's answer changes)."""
    config = login.asyncpg_config()
    if settings.database_pooler == "transaction":
        config["statement_cache_size"] = 0
    return config


def replicas_of(settings: Settings, login: DatabaseURL) -> list[Replica]:
    """The replicas of `DATABASE_REPLICA_URLS`, logged into as the application (its role and
    password; the replica's own URL gives host, port and database, and the password if it names
    the application role)."""
    replicas = []
    for url in settings.replica_databases:
        same_role = url.user == login.user and url.password
        replica = replace(login, host=url.host, port=url.port, database=url.database,
                          password=url.password if same_role else login.password)
        replicas.append(Replica(name=f"{url.host}:{url.port}/{url.database}",
                                config=connection_config(settings, replica)))
    return replicas


def session_config(engine: PostgresEngine) -> dict:
    """asyncpg's arguments for a connection that holds session state (the scheduler's advisory
    lock): past the pooler when `DATABASE_DIRECT_URL` is set, since a transaction-pooled
    connection is a different server session from one transaction to the next."""
    settings = get_settings()
    if settings.direct_database is None or as_owner():
        return dict(engine.config)
    direct = settings.direct_database
    return {**engine.config, "host": direct.host, "port": direct.port, "database": direct.database}


def is_postgres(engine: Engine | None = None) -> bool:
    engine = engine or current_engine()
    return isinstance(engine, PostgresEngine)


def current_engine() -> Engine:
    """The engine `PICCOLO_CONF` names: read from its module when imported (as Piccolo's finder
    does, without building a finder and importing on every call: a page asks several times)."""
    module = sys.modules.get(os.environ.get("PICCOLO_CONF") or "piccolo_conf")
    engine = getattr(module, "DB", None)
    if engine is not None:
        return engine
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
            try:
                if get_settings().database_pooler == "transaction-prepared":
                    await check_pooler_tracks_statements(conn, f"{engine.config['host']}:{engine.config['port']}")
            finally:
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


POOLER_PROBE = "SELECT 'qinqing: does the pooler rename named statements?'::text AS probe"


async def check_pooler_tracks_statements(conn, where: str) -> None:
    """With `DATABASE_POOLER=transaction-prepared`, raise ConfigError unless the server `conn`
    reaches is PgBouncer tracking named statements: one prepared in a transaction must be known to
    the server session under the pooler's name (`PGBOUNCER_N`), not asyncpg's.  An older
    PgBouncer, `max_prepared_statements = 0` or no pooler at all passes asyncpg's name through,
    and behind a PgBouncer of the first two kinds the application would fail at the first
    statement run from a second transaction on another server session."""
    async with conn.transaction():
        statement = await conn.prepare(POOLER_PROBE)
        names = [row["name"] for row in await conn.fetch(
            "SELECT name FROM pg_prepared_statements WHERE statement = $1", POOLER_PROBE)]
    if names and statement.get_name() not in names:
        return
    raise ConfigError("DATABASE_POOLER", (
        "transaction-prepared wants PgBouncer ≥ 1.21 in transaction pooling with max_prepared_statements > 0, "
        f"but {where} keeps asyncpg's statement names as they are (an older PgBouncer, "
        "max_prepared_statements = 0, or no pooler): use DATABASE_POOLER=transaction there"))


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
async def connection_of_its_own(engine: PostgresEngine):
    """A connection outside any transaction: the pool's, or (no pool running: a command, a test
    without the lifespan) one opened and closed for it."""
    if engine.pool is not None:
        async with engine.pool.acquire() as connection:
            yield connection
        return
    connection = await engine.get_new_connection()
    try:
        yield connection
    finally:
        await connection.close()


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
        with primary_only():
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
        await engine.start_connection_pool(min_size=1, max_size=POOL_SIZE, reset=_keep_session)


async def close_pool() -> None:
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.pool.close()  # the last connection to close checkpoints the write-ahead log


async def execute_many(sql: str, rows: list[tuple]) -> None:
    """Run one statement (written with $1, $2, … placeholders) once per row of arguments, in the
    current transaction, as one batch (asyncpg's pipelined executemany, or sqlite3's): for bulk
    writes of thousands of rows without building a row object or a query per row."""
    transaction = current_engine().current_transaction.get()
    if transaction is None:
        raise RuntimeError("execute_many() must run inside a transaction")
    if not rows:
        return
    if current_engine().engine_type != "postgres":
        sql = re.sub(r"\$\d+", "?", sql)
    await transaction.connection.executemany(sql, rows)
