"""Every use of Piccolo's private API (Piccolo 内部接口), in one place.

The prepared reads (`core.prepared`), the scoping layer's one-message transaction (`core.scope`)
and the speed-ups (`core.piccolo_speedups`) lean on names Piccolo does not document: a query's
result processing, a frozen query string, the limit delegate, a transaction's protocol, module
globals it looks functions up in.  They are reached only through this module, and
`tests/test_piccolo_private.py` checks each one against the installed Piccolo (names,
signatures, behaviour on a sample table), so an upgrade that changes one fails there, by name,
rather than somewhere in a page.  Checked with Piccolo 1.38.
"""

from __future__ import annotations

from typing import Any, Callable

from piccolo import table as piccolo_table
from piccolo.columns import column_types, combination
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.query import mixins
from piccolo.query.base import Query
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils import sql_values

from core.sqlite_pool import SqlitePool

# -- queries ---------------------------------------------------------------------------------------


async def process_results(query: Query, rows: list) -> Any:
    """What `query` answers for `rows` fetched by other means: Piccolo's own result processing
    (`Query._process_results`: dicts, JSON columns loaded, objects, `first`)."""
    return await query._process_results(rows)


def frozen_querystring(sql: str, values: list, query_type: str, table: type[Table] | None) -> QueryString:
    """A query string that compiles to `sql` with `values`, whatever the engine
    (`QueryString._frozen_compiled_strings`, which `QueryString.freeze` sets)."""
    compiled = QueryString("", query_type=query_type, table=table)
    compiled._frozen_compiled_strings = (sql, values)
    return compiled


def limit_one(query: Query) -> None:
    """Add `LIMIT 1` to a select (`Query.limit_delegate`)."""
    query.limit_delegate.limit(1)  # type: ignore[attr-defined]


async def run_in_new_connection(engine: Engine, sql: str) -> Any:
    """Run `sql` on a connection of its own, outside pool and transaction
    (`Engine._run_in_new_connection`)."""
    return await engine._run_in_new_connection(sql)  # type: ignore[attr-defined]


def exists_in_db(row: Table) -> bool:
    """Whether `row` was loaded or saved, rather than made and not yet saved (`Table._exists_in_db`)."""
    return row._exists_in_db


def insert_values(row: Table) -> list:
    """The values an insert of `row` writes, one per column in `_meta.columns` order, as Piccolo's
    `Table.querystring` converts them (a `QueryString`, such as DEFAULT, goes into the SQL itself)."""
    convert = piccolo_table.convert_to_sql_value  # the speed-ups may replace it
    return [convert(value=row[column._meta.name], column=column) for column in row._meta.columns]


def is_querystring(value: Any) -> bool:
    return isinstance(value, QueryString)


def mark_saved(row: Table) -> None:
    """Mark `row`, written by an insert of its own making, as saved: a later `save()` updates it."""
    row._exists_in_db = True


# -- transactions ------------------------------------------------------------------------------------


class SimpleProtocolTransaction(PostgresTransaction):
    """A PostgreSQL transaction whose BEGIN, COMMIT and ROLLBACK are statements sent as they are
    (asyncpg's simple protocol, one round trip each), so BEGIN can carry more statements.

    Piccolo's `__aenter__` takes the connection and calls `begin()`; its `__aexit__` calls
    `commit()` or `rollback()` unless `_committed` / `_rolled_back` say it was done."""

    __slots__ = ()

    def begin_sql(self) -> str:
        return "BEGIN"

    async def begin(self):
        await self.connection.execute(self.begin_sql())

    async def commit(self):
        await self.connection.execute("COMMIT")
        self._committed = True

    async def rollback(self):
        await self.connection.execute("ROLLBACK")
        self._rolled_back = True


class PooledSQLiteTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a kept connection (`core.sqlite_pool`): taken from the
    pool, given back after COMMIT or ROLLBACK.  Piccolo's `__aexit__` closes the connection, and
    leaves it and the context variable behind when COMMIT fails; this one does neither."""

    __slots__ = ()

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()  # BEGIN IMMEDIATE may wait out the busy timeout and fail
        except BaseException:
            await self.engine.pool.give_back(self.connection)  # type: ignore[attr-defined]
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def get_connection(self):
        return await self.engine.pool.take()  # type: ignore[attr-defined]

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self.engine.pool.give_back(self.connection)  # type: ignore[attr-defined]
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with its connections kept open and lent out (`core.sqlite_pool`):
    transactions (`transaction`) and statements outside one (`_run_in_new_connection`) take a
    kept connection; a statement no longer sends `PRAGMA foreign_keys` before it
    (`_run_in_existing_connection`: a kept connection has it on) and is one call to the
    connection's thread (`execute_fetchall`).  `get_connection` (Piccolo's `batch`) still opens
    a connection of its own, which its caller closes."""

    __slots__ = ("pool",)

    def __init__(self, path: str, **connection_kwargs):
        super().__init__(path=path, **connection_kwargs)
        self.pool = SqlitePool(self.connection_kwargs)

    async def get_connection(self):
        return await self.pool.open()

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        return PooledSQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_new_connection(self, query: str, args: list | None = None, query_type: str = "generic",
                                     table: type[Table] | None = None):
        connection = await self.pool.take()
        try:
            return await connection.execute_fetchall(query, args or [])
        finally:
            await self.pool.give_back(connection)

    async def _run_in_existing_connection(self, connection, query: str, args: list | None = None,
                                          query_type: str = "generic", table: type[Table] | None = None):
        return await connection.execute_fetchall(query, args or [])


# -- the speed-ups' patches ------------------------------------------------------------------------

PICCOLOS_CONVERT_TO_SQL_VALUE: Callable[..., Any] = sql_values.convert_to_sql_value
"""Piccolo's own `convert_to_sql_value(value, column)`."""

CONVERT_TO_SQL_VALUE_USERS = (sql_values, piccolo_table, mixins, combination)
"""The modules that imported `convert_to_sql_value` by name and call it as a global."""


def replace_convert_to_sql_value(function: Callable[..., Any]) -> None:
    """Make every Piccolo module that converts values to SQL call `function` instead."""
    for module in CONVERT_TO_SQL_VALUE_USERS:
        module.convert_to_sql_value = function  # type: ignore[attr-defined]


PICCOLOS_TABLE_INIT: Callable[..., None] = Table.__init__
"""Piccolo's own `Table.__init__(self, _data, _ignore_missing, _exists_in_db, **kwargs)`."""


def replace_table_init(function: Callable[..., None]) -> None:
    """Make every row Piccolo or the project builds (`Table(...)`, a select's objects) go through `function`."""
    Table.__init__ = function  # type: ignore[method-assign]


def replace_foreign_key_dir(function: Callable[[object], Any]) -> None:
    """Make `ForeignKey.__getattribute__` call `function(self)` where it calls `dir(self)`: the
    module global `dir` of `piccolo.columns.column_types` shadows the builtin."""
    column_types.dir = function  # type: ignore[attr-defined]
