"""Tenant scoping: the one layer that adds the tenant to every query (租户隔离).

A request (or a background message) enters a tenant with :func:`tenant_scope`; inside it,
:func:`scoped` gives queries on a tenant-owned table that always carry the tenant filter, and
inserts that always carry the tenant id.  On PostgreSQL the scope's transaction also sets
``app.tenant_id`` with ``set_config(..., true)``, which row-level security checks a second time.
No handler filters by tenant by hand.

Set-based SQL that Piccolo's query builder cannot say (an ``UPDATE … FROM`` a list, a batch insert
of plain tuples) goes through the same layer: ``scoped(Table).raw(sql, *args)`` and
``scoped(Table).execute_many(sql, rows)``.  The SQL keeps Piccolo's engine-neutral ``{}``
placeholders for its own arguments and writes ``{tenant}`` where the tenant's id goes; the layer
binds the current tenant's id there as a parameter (never formatted into the SQL).  Both refuse to
run outside a tenant scope's transaction, refuse SQL without ``{tenant}``, and refuse SQL that
names more tenant-owned tables (after FROM, JOIN, UPDATE or INTO) than it has ``{tenant}``
placeholders — each such table filtered, or each inserted row carrying the tenant::

    await scoped(Case).raw("UPDATE case_file SET overdue = {} WHERE tenant_id = {tenant} AND id = {}",
                           True, case_id)
"""

from __future__ import annotations

import re
from contextlib import asynccontextmanager, contextmanager, nullcontext
from functools import lru_cache
from string import Formatter
from typing import Any, Generic, Iterable, TypeVar

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.methods.raw import Raw
from piccolo.table import TABLE_REGISTRY, Table

from core import auth_cache
from core.db import (
    SQLITE_BUSY_SECONDS,
    connection_of_its_own,
    current_engine,
    execute_many as _execute_many,
    in_transaction,
)
from core.piccolo_private import SimpleProtocolTransaction, exists_in_db
from core.read_routing import primary_only
from core.sqlite_turn import write_turn
from core.tenant_context import NoTenant, TenantContext, _current, current_tenant, current_tenant_or_none

__all__ = ["NoTenant", "TenantContext", "current_tenant", "current_tenant_or_none", "tenant_scope", "tenant_named",
           "TenantTransaction", "DeferredTenantTransaction", "is_tenant_owned", "Scoped", "scoped"]


@asynccontextmanager
async def tenant_scope(tenant: TenantContext, write: bool = True):
    """Enter `tenant` in one transaction; set `app.tenant_id` for row-level security.

    Nested inside another tenant's transaction (a district reading a township's figures), the
    outer tenant is restored on the way out, so the rest of the request stays in its own tenant.
    """
    outer = _current.get()
    token = _current.set(tenant)
    engine = current_engine()
    primary = primary_only() if write else nullcontext()  # a writing scope never reads a replica
    primary.__enter__()
    try:
        if isinstance(engine, SQLiteEngine) and write:
            async with write_turn(engine, SQLITE_BUSY_SECONDS), \
                    engine.transaction(transaction_type=TransactionType.immediate):
                yield tenant
        elif isinstance(engine, SQLiteEngine):
            async with engine.transaction(transaction_type=TransactionType.deferred):
                yield tenant
        elif not isinstance(engine, PostgresEngine):
            raise TypeError(f"no tenant scope on {type(engine).__name__}")
        elif engine.current_transaction.get() is None:
            async with (TenantTransaction if write else DeferredTenantTransaction)(engine, tenant.id):
                yield tenant
        else:
            await _set_pg_tenant(engine, tenant.id)
            try:
                yield tenant
            finally:
                if outer is not None and outer.id != tenant.id and engine.current_transaction.get() is not None:
                    await _set_pg_tenant(engine, outer.id)
    finally:
        primary.__exit__(None, None, None)
        _current.reset(token)


@contextmanager
def tenant_named(tenant: TenantContext):
    """Name `tenant` as current without opening a transaction: for long work that opens its own
    `tenant_scope`s a step at a time (no query runs in the tenant outside one)."""
    token = _current.set(tenant)
    try:
        yield tenant
    finally:
        _current.reset(token)


async def _set_pg_tenant(engine: PostgresEngine, tenant_id: int) -> None:
    tx = engine.current_transaction.get()
    if tx is None:
        raise RuntimeError("no transaction to set the tenant in")
    await tx.connection.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))


class TenantTransaction(SimpleProtocolTransaction):
    """A PostgreSQL transaction that sets `app.tenant_id` in the same round trip as its BEGIN.

    Piccolo begins through asyncpg's transaction object, one round trip, and the tenant took a
    second; here both go as one simple-protocol message.  The tenant id is an integer written
    into the SQL, never text from a request.  COMMIT and ROLLBACK are sent the same way, since
    asyncpg's transaction object did not begin this one."""

    __slots__ = ("tenant_id",)

    def __init__(self, engine: PostgresEngine, tenant_id: int):
        super().__init__(engine, allow_nested=False)
        self.tenant_id = int(tenant_id)

    def begin_sql(self) -> str:
        return f"BEGIN; SELECT set_config('app.tenant_id', '{self.tenant_id}', true)"

    async def begin(self):
        """BEGIN, with the check of a tenant taken as kept (`core.auth_cache.begin_check`)."""
        check = auth_cache.begin_check(self.tenant_id)
        if not check:
            await super().begin()
            return
        try:
            await self.connection.execute(self.begin_sql() + check)
        except asyncpg.DivisionByZeroError:
            raise auth_cache.Stale(self.tenant_id) from None

    async def __aenter__(self):
        try:
            return await super().__aenter__()
        except auth_cache.Stale:  # nothing ran: the connection goes back, its transaction undone
            await self._give_back(self.connection)
            raise

    async def _give_back(self, connection) -> None:
        await self.engine.pool.release(connection) if self.engine.pool else await connection.close()


class DeferredTenantTransaction(TenantTransaction):
    """A reading scope's transaction, begun only when a statement needs one.

    A page that makes all its reads in one statement (`core.prepared.together`) sends that
    statement alone, the tenant's setting and the kept tenant's check in it (`read_alone`): one
    round trip where BEGIN, the reads and COMMIT took three.  Any other statement begins the
    transaction first, as `TenantTransaction` does; a scope that sent nothing sends nothing."""

    __slots__ = ("begun",)

    async def __aenter__(self):
        self.begun = False
        self.connection = _Unbegun(self)
        self.context = self.engine.current_transaction.set(self)
        return self

    async def connected(self):
        """The transaction's connection, taken and begun on first use."""
        if self.begun:
            return self.connection
        connection = await self.get_connection()
        self.connection, self.transaction = connection, connection.transaction()
        try:
            await self.begin()
        except BaseException:
            self.connection = _Unbegun(self)
            await self._give_back(connection)
            raise
        self.begun = True
        return connection

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self.begun:
            return await super().__aexit__(exception_type, exception, traceback)
        self.engine.current_transaction.reset(self.context)
        # Nothing was sent: the kept tenant is checked all the same, whatever the answer (a refusal
        # made from a kept token is as out of date as a page).
        kept_version = auth_cache.take_check(self.tenant_id)
        if kept_version is not None:
            try:
                async with connection_of_its_own(self.engine) as connection:
                    current = await connection.fetchval(_CHECK_SQL, self.tenant_id, kept_version) == 1
            except Exception:
                if exception is None:
                    raise
                current = True  # the scope's own error goes on
            if not current:
                raise auth_cache.Stale(self.tenant_id)
        return exception is None

    async def read_alone(self, sql: str, values: list) -> tuple | None:
        """The one row of `sql` (a SELECT of reads only), read in a statement of its own with the
        tenant set in it; None when the transaction has begun (run `sql` in it instead).

        PostgreSQL evaluates a select list in order, and each read's sub-select when its column
        comes: `set_config` first, so row-level security sees the tenant.  Were it otherwise the
        policy would see no tenant and return no row, never another tenant's.  The setting ends
        with the statement's own implicit transaction."""
        if self.begun or not sql.startswith("SELECT ") or current_tenant().id != self.tenant_id:
            return None
        kept_version = auth_cache.take_check(self.tenant_id)
        checked = kept_version is not None
        statement = _alone_sql(sql, len(values), checked)
        extra = [str(self.tenant_id), self.tenant_id, kept_version] if checked else [str(self.tenant_id)]
        async with connection_of_its_own(self.engine) as connection:
            record = await connection.fetchrow(statement, *values, *extra)
        if checked and record[1] != 1:
            raise auth_cache.Stale(self.tenant_id)
        return tuple(record)[2 if checked else 1:]


class _Unbegun:
    """A deferred transaction's connection before it begins: any call of a coroutine method
    (`fetch`, `execute`, `prepare`, …) begins it, then goes on on the real connection."""

    __slots__ = ("transaction",)

    def __init__(self, transaction: DeferredTenantTransaction):
        self.transaction = transaction

    def __getattr__(self, name: str):
        async def call(*args, **kwargs):
            connection = await self.transaction.connected()
            return await getattr(connection, name)(*args, **kwargs)

        return call


_CHECK_SQL = "SELECT " + auth_cache.check_sql("$1", "$2")


@lru_cache(maxsize=1024)
def _alone_sql(sql: str, count: int, checked: bool) -> str:
    """`sql` with the tenant's setting (and the kept tenant's check) as its first columns; their
    values follow the statement's own ($count + 1, …)."""
    first = f"SELECT set_config('app.tenant_id', ${count + 1}::text, true), "
    if checked:
        first += auth_cache.check_sql(f"${count + 2}::int", f"${count + 3}::int") + ", "
    return first + sql[len("SELECT "):]


T = TypeVar("T", bound=Table)


def is_tenant_owned(table: type[Table]) -> bool:
    return any(c._meta.db_column_name == "tenant_id" for c in table._meta.columns)


TENANT = "{tenant}"  # where the scoping layer binds the tenant's id in raw SQL
_NAMED_TABLE = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)


@lru_cache(maxsize=256)
def _tenant_sql(sql: str) -> tuple[str, tuple[int, ...]]:
    """`sql` with each `{tenant}` made a plain `{}`, and what goes in each placeholder in order:
    -1 for the tenant's id, else the index of the caller's argument.  Raises ValueError for SQL
    the layer cannot vouch for (see the module's docstring)."""
    parts, slots, given = [], [], 0
    parsed = list(Formatter().parse(sql))
    for n, (literal, field, spec, conversion) in enumerate(parsed):
        parts.append(literal)
        if field is None:
            if n != len(parsed) - 1:
                raise ValueError("literal braces in raw SQL: Piccolo would take them for a placeholder")
            continue
        if spec or conversion or field not in ("", "tenant"):
            raise ValueError(f"raw SQL has placeholders {{}} and {TENANT} only, not {{{field}}}")
        parts.append("{}")
        if field == "tenant":
            slots.append(-1)
        else:
            slots.append(given)
            given += 1
    tenants = slots.count(-1)
    if not tenants:
        raise ValueError(f"raw SQL on a tenant-owned table without {TENANT}")
    owned = {t._meta.tablename for t in TABLE_REGISTRY if is_tenant_owned(t)}
    named = [name for name in _NAMED_TABLE.findall(sql) if name in owned]
    if len(named) > tenants:
        raise ValueError(f"raw SQL names {len(named)} tenant-owned tables ({', '.join(named)}) "
                         f"but has {TENANT} {tenants} time(s)")
    return "".join(parts), tuple(slots)


def _bound(slots: tuple[int, ...], args: tuple, tenant_id: int) -> list:
    if len(args) != len(slots) - slots.count(-1):
        raise ValueError(f"raw SQL has {len(slots) - slots.count(-1)} placeholders {{}} for {len(args)} arguments")
    return [tenant_id if slot < 0 else args[slot] for slot in slots]


def _raw_tenant() -> int:
    """The tenant raw SQL runs in: the current one, inside a transaction (a tenant scope's)."""
    tenant_id = current_tenant().id
    if not in_transaction():
        raise NoTenant("raw SQL on tenant data runs only inside a tenant scope's transaction")
    return tenant_id


class Scoped(Generic[T]):
    """Queries on a tenant-owned table, always filtered by (and written with) the tenant."""

    def __init__(self, table: type[T]):
        if not is_tenant_owned(table):
            raise TypeError(f"{table.__name__} is not tenant-owned")
        self.table = table

    def _tid(self) -> int:
        return current_tenant().id

    def _where(self):
        return self.table.tenant_id == self._tid()  # type: ignore[attr-defined]  # checked in __init__

    def select(self, *columns, **kwargs):
        return self.table.select(*columns, **kwargs).where(self._where())

    def objects(self, *prefetch):
        return self.table.objects(*prefetch).where(self._where())

    def count(self):
        return self.table.count().where(self._where())

    def exists(self):
        return self.table.exists().where(self._where())

    async def get(self, pk: Any) -> T | None:
        return await self.objects().where(self.table._meta.primary_key == pk).first()

    def insert(self, *rows: dict):
        """Insert rows given as dicts of column name → value; the tenant id is added."""
        return self.table.insert(*(self.new(**row) for row in rows))

    async def add(self, **values) -> T:
        """Create and save one row of this tenant."""
        row = self.new(**values)
        await row.save()
        return row

    def update(self, values: dict | None = None, **kwargs):
        values = dict(values or {}, **kwargs)
        values.pop("tenant_id", None)
        values.pop(self.table.tenant_id, None)  # type: ignore[attr-defined]
        return self.table.update(values).where(self._where())

    def delete(self):
        return self.table.delete().where(self._where())

    def raw(self, sql: str, *args: Any) -> Raw:
        """Set-based SQL with `{}` for each of `args` and `{tenant}` where the tenant's id is bound."""
        template, slots = _tenant_sql(sql)
        return self.table.raw(template, *_bound(slots, args, _raw_tenant()))

    async def execute_many(self, sql: str, rows: Iterable[tuple]) -> None:
        """Run one statement per row of arguments, as one batch (`core.db.execute_many`): the SQL
        with `{}` for each value of a row and `{tenant}` where the tenant's id is bound."""
        template, slots = _tenant_sql(sql)
        tenant_id = _raw_tenant()
        numbered = iter(range(1, len(slots) + 1))
        dollar = re.sub(r"\{\}", lambda _: f"${next(numbered)}", template)
        if slots == (-1, *range(len(slots) - 1)):  # the tenant first, as an insert has it: no per-row look-up
            values = [(tenant_id, *row) for row in rows]
            if values and len(values[0]) != len(slots):
                raise ValueError(f"raw SQL has {len(slots) - 1} placeholders {{}} for rows of {len(values[0]) - 1}")
        else:
            values = [tuple(_bound(slots, tuple(row), tenant_id)) for row in rows]
        await _execute_many(dollar, values)

    def new(self, **values) -> T:
        values.pop("tenant_id", None)
        return self.table(**values, tenant_id=self._tid())

    async def save(self, row: T) -> T:
        """Save a row of this tenant; refuses a row of another tenant."""
        tid = self._tid()
        if exists_in_db(row):
            if row.tenant_id != tid:  # type: ignore[attr-defined]
                raise NoTenant("row belongs to another tenant")
        else:
            row.tenant_id = tid  # type: ignore[attr-defined]
        await row.save()
        return row


def scoped(table: type[T]) -> Scoped[T]:
    return Scoped(table)
