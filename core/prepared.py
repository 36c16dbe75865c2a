"""Queries of a fixed shape, built and compiled once (预编译查询).

Building a Piccolo query (joins, aliases, where-clauses) and compiling it to SQL costs about as
much CPU as PostgreSQL spends answering the small queries a page makes: on the case page it was a
third of the web process's time.  A `Prepared` query is written as a function of its parameters;
it is called once with placeholders, its SQL is kept, and later calls only put their values in
the placeholders' places and run the kept SQL through the same engine, transaction and result
processing as the query itself.

The SQL is kept per engine type and per tenant, because the scoping layer writes the current
tenant's id into every query of a tenant-owned table (`core.scope.scoped`): a kept query never
carries another tenant's id.  Everything else in the query must depend on the parameters alone:
a value captured from elsewhere (the clock, the user) would be kept too.  With
`QINQING_CHECK_PREPARED=1` (set by the test suite) every call also builds the query afresh with
the real values and fails when its SQL or values differ from what the kept SQL would run.

A page makes several such reads, and on PostgreSQL each is a round trip whose fixed cost (the
network write and wake-up, the protocol, the executor's start) outweighs the read itself.
`together` sends them as one statement: each query an array of its rows, decoded as the query
alone would be.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

from piccolo.columns import JSON
from piccolo.query.base import Query

from core.db import connection_of_its_own, current_engine
from core.piccolo_private import frozen_querystring, insert_values, is_querystring, limit_one, process_results
from core.tenant_context import current_tenant_or_none


class _Param:
    """A placeholder for the i-th parameter while the query is built."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __repr__(self) -> str:
        return f"<parameter {self.index}>"


class PreparedQueryError(RuntimeError):
    """A prepared query was used in a way its kept SQL cannot answer."""


class Prepared:
    """`Prepared(lambda case_id: scoped(Event).select(...).where(Event.case == case_id))`, then
    `await query(case_id)` for the rows, or `await query.first(case_id)` for the first or None."""

    def __init__(self, build: Callable[..., Query], *, first: bool = False):
        self.build = build
        self.is_first = first
        self._kept: dict[tuple, tuple[Query, str, list[Any], list[tuple[int, int]], str, Any]] = {}

    def _compile(self, engine, count: int):
        tenant = current_tenant_or_none()
        key = (engine.engine_type, tenant.id if tenant else None, count)
        kept = self._kept.get(key)
        if kept is None:
            query = self.build(*(_Param(i) for i in range(count)))
            if self.is_first:
                limit_one(query)
            querystrings = query.querystrings
            if len(querystrings) != 1:
                raise PreparedQueryError("a prepared query must compile to one statement")
            sql, args = querystrings[0].compile_string(engine_type=engine.engine_type)
            slots = [(position, arg.index) for position, arg in enumerate(args) if isinstance(arg, _Param)]
            if len(slots) != count:
                raise PreparedQueryError(f"{count} parameters, {len(slots)} used in the SQL")
            kept = (query, sql, args, slots, querystrings[0].query_type, querystrings[0].table)
            self._kept[key] = kept
        return kept

    def _bound(self, engine, values: tuple) -> tuple[Query, str, list[Any], str, Any]:
        """The query, its kept SQL, and the values in their places."""
        if any(value is None for value in values):
            raise PreparedQueryError("None is not a parameter value (it changes the SQL: IS NULL)")
        query, sql, args, slots, query_type, table = self._compile(engine, len(values))
        bound = list(args)
        for position, index in slots:
            bound[position] = values[index]
        if _CHECK:
            _check(self, engine, sql, bound, values)
        return query, sql, bound, query_type, table

    async def __call__(self, *values: Any) -> list:
        engine = current_engine()
        query, sql, bound, query_type, table = self._bound(engine, values)
        return await process_results(query, await engine.run_querystring(frozen_querystring(sql, bound, query_type, table)))

    async def first(self, *values: Any):
        if not self.is_first:
            raise PreparedQueryError("declare the query with first=True")
        return _first(await self(*values))

    def bind(self, *values: Any) -> "Read":
        """This query with these values, to await alone or to run with others by `together`."""
        return Read(((self, values),), _first if self.is_first else _rows)


def _rows(rows: list) -> list:
    return rows


def _first(rows: list):
    return rows[0] if rows else None


class Read:
    """What one or more prepared queries answer, finished by a function of their rows.

    Awaiting a `Read` runs it alone; `together(a, b, …)` runs several in one round trip to
    PostgreSQL; `then` adds a step to its answer; `Read.joined` makes one `Read` of several."""

    __slots__ = ("parts", "finish")

    def __init__(self, parts: tuple[tuple[Prepared, tuple], ...], finish: Callable[..., Any]):
        self.parts = parts
        self.finish = finish

    def __await__(self):
        return _alone(self).__await__()

    def then(self, step: Callable[[Any], Any]) -> "Read":
        """This read with `step` applied to its answer."""
        finish = self.finish
        return Read(self.parts, lambda *results: step(finish(*results)))

    @staticmethod
    def value(answer: Any) -> "Read":
        """A read that asks nothing and answers `answer` (a query left out for this viewer)."""
        return Read((), lambda: answer)

    @staticmethod
    def joined(*reads: "Read", then: Callable[..., Any]) -> "Read":
        """One read of several: `then` gets each one's finished answer, in order."""
        parts = tuple(part for read in reads for part in read.parts)
        return Read(parts, lambda *results: then(*_finish_each(reads, results)))


async def _alone(read: Read) -> Any:
    return (await together(read))[0]


def _finish_each(reads: tuple[Read, ...], results: tuple | list) -> list:
    finished, start = [], 0
    for read in reads:
        end = start + len(read.parts)
        finished.append(read.finish(*results[start:end]))
        start = end
    return finished


async def together(*reads: Read) -> list:
    """Run the reads' queries — on PostgreSQL in one statement, so one round trip instead of one
    per query — and return each read's finished answer, in order.

    Each query becomes ``ARRAY(SELECT q FROM (<its SQL>) q)``: an array of anonymous records,
    which asyncpg decodes field by field with the same codecs as a query of its own, so the rows
    come back as the query alone would give them (its ORDER BY kept), and go through the same
    Piccolo result processing.  On SQLite, which has no round trips, the queries run in turn.

    A write with RETURNING (an update that reserves something) may go along: it becomes a WITH
    clause, run to completion whatever else the statement does; the reads beside it do not see its
    effect (they see the database as the statement found it), so none may depend on it."""
    parts = [part for read in reads for part in read.parts]
    engine = current_engine()
    if len(parts) <= 1 or engine.engine_type != "postgres":
        results = [await prepared(*values) for prepared, values in parts]
    else:
        results = await _in_one_statement(engine, parts)
    return _finish_each(reads, results)


_COMBINED: dict[tuple, tuple[str, list[list[str]]]] = {}
_PARAMETER = re.compile(r"(?<![\w$\"])\$(\d+)")  # $1, not the `$` of a join alias such as "case$company"


async def _in_one_statement(engine, parts: list[tuple[Prepared, tuple]]) -> list:
    bound_parts = [prepared._bound(engine, values) for prepared, values in parts]
    tenant = current_tenant_or_none()
    key = (tenant.id if tenant else None, tuple((id(prepared), len(values)) for prepared, values in parts))
    combined = _COMBINED.get(key)
    if combined is None:
        writes, selects, names, offset = [], [], [], 0
        for index, (_, sql, bound, _, _) in enumerate(bound_parts):
            names.append(await _column_names(engine, sql))
            shifted = _shifted(sql, offset)
            if sql.lstrip()[:6].upper() in _WRITES:  # PostgreSQL takes a write only in a WITH clause
                writes.append(f"w{index} AS ({shifted})")
                selects.append(f"ARRAY(SELECT q FROM w{index} q) AS r{index}")
            else:
                selects.append(f"ARRAY(SELECT q FROM ({shifted}) q) AS r{index}")
            offset += len(bound)
        combined = (("WITH " + ", ".join(writes) + " " if writes else "") + "SELECT " + ", ".join(selects), names)
        _COMBINED[key] = combined
    sql, names = combined
    values = [value for part in bound_parts for value in part[2]]
    # A reading scope not begun yet sends the statement alone (`core.scope.DeferredTenantTransaction`).
    read_alone = getattr(engine.current_transaction.get(), "read_alone", None)
    row = await read_alone(sql, values) if read_alone is not None else None
    if row is None:
        row = (await engine.run_querystring(frozen_querystring(sql, values, "select", None)))[0]
    results = []
    for index, (query, _, _, _, _) in enumerate(bound_parts):
        columns = names[index]
        results.append(await process_results(query, [dict(zip(columns, record)) for record in row[index]]))
    return results


_WRITES = frozenset({"INSERT", "UPDATE", "DELETE"})


def _shifted(sql: str, offset: int) -> str:
    """`sql` with its parameters renumbered from `offset + 1`: $1 becomes $(offset + 1)."""
    return _PARAMETER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


def _compiled(engine, query: "Query | Read | Inserted") -> list[tuple[str, list[Any]]]:
    """A write's statements as (SQL, values), its SQL kept where it can be (`Read`, `Inserted`)."""
    if isinstance(query, Read):
        return [prepared._bound(engine, values)[1:3] for prepared, values in query.parts]
    if isinstance(query, Inserted):
        return [query.compiled(engine)]
    return [querystring.compile_string(engine_type=engine.engine_type) for querystring in query.querystrings]


async def write_together(*queries: "Query | Read | Inserted") -> None:
    """Run writes whose answers nobody reads (inserts, updates, deletes) — on PostgreSQL as one
    statement, so one round trip: each but the last a data-modifying WITH clause, the last the
    statement itself.  PostgreSQL runs every clause to completion whether or not the statement
    reads it, but all of them see the database as it was before the statement: no write may
    depend on another's effect (foreign keys are checked at the end, so a row may refer to one
    written beside it).  Inserted objects do not get their ids back.  On SQLite they run in turn."""
    engine = current_engine()
    if len(queries) <= 1 or engine.engine_type != "postgres":
        for query in queries:
            await query
        return
    compiled = [part for query in queries for part in _compiled(engine, query)]
    shape = tuple((sql, len(args)) for sql, args in compiled)
    sql = _WRITES_TOGETHER.get(shape)
    if sql is None:
        statements, offset = [], 0
        for statement, count in shape:
            statements.append(_shifted(statement, offset))
            offset += count
        *clauses, last = statements
        sql = "WITH " + ", ".join(f"w{index} AS ({clause})" for index, clause in enumerate(clauses)) + " " + last
        if len(_WRITES_TOGETHER) < _MAX_INSERT_SHAPES:
            _WRITES_TOGETHER[shape] = sql
    values = [value for _, args in compiled for value in args]
    await engine.run_querystring(frozen_querystring(sql, values, "insert", None))


# The statements written together (each one's SQL and number of values) → the one statement.
_WRITES_TOGETHER: dict[tuple[tuple[str, int], ...], str] = {}


async def _column_names(engine, sql: str) -> list[str]:
    """The names of a statement's result columns, as PostgreSQL describes them."""
    transaction = engine.current_transaction.get()
    if transaction is not None and getattr(transaction, "begun", True):  # a deferred one is not begun for this
        return _names(await transaction.connection.prepare(sql))
    async with connection_of_its_own(engine) as connection:  # described while the connection is open
        return _names(await connection.prepare(sql))


def _names(statement) -> list[str]:
    return [attribute.name for attribute in statement.get_attributes()]


_NEXT_ID: dict[str, Prepared] = {}


def reserve_id(table) -> Read:
    """A new primary key for `table` taken from its sequence (PostgreSQL), so a row whose other
    columns derive from its id is written once; None on SQLite, which has no sequences.  A read:
    await it, or run it with others.  The id is taken even if the row is never written — sequence
    numbers have gaps, as after any rolled-back insert."""
    if current_engine().engine_type != "postgres":
        return Read.value(None)
    name = table._meta.tablename
    prepared = _NEXT_ID.get(name)
    if prepared is None:
        prepared = _NEXT_ID[name] = Prepared(
            lambda: table.raw(f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) AS id"))
    return prepared.bind().then(lambda rows: rows[0]["id"])


_CHECK = os.environ.get("QINQING_CHECK_PREPARED") == "1"


def _check(prepared: Prepared, engine, sql: str, bound: list, values: tuple) -> None:
    query = prepared.build(*values)
    if prepared.is_first:
        limit_one(query)
    fresh_sql, fresh_args = query.querystrings[0].compile_string(engine_type=engine.engine_type)
    if (fresh_sql, list(fresh_args)) != (sql, bound):
        raise PreparedQueryError(f"the kept SQL differs from the query built with these values:\n"
                                 f"kept:  {sql} {bound}\nfresh: {fresh_sql} {list(fresh_args)}")


_INSERTS: dict[tuple, str] = {}
_MAX_INSERT_SHAPES = 1024


# Values Piccolo's insert binds unchanged in a column that is not JSON (`convert_to_sql_value` converts
# only rows of a table, enums, and non-text values of a JSON column).
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, datetime, date, time, Decimal, UUID})
_COLUMNS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _columns_of(table) -> tuple[tuple[str, bool], ...]:
    """Each column's name and whether it holds JSON, in `_meta.columns` order."""
    columns = _COLUMNS.get(table)
    if columns is None:
        columns = _COLUMNS[table] = tuple((column._meta.name, isinstance(column, JSON))
                                          for column in table._meta.columns)
    return columns


class Inserted:
    """`table.insert(*rows)` (rows: instances of `table`, no RETURNING) with its SQL kept per shape.

    Building a Piccolo insert and compiling it to SQL costs more than putting the rows' values in
    a list; a submission writes the same few inserts each time.  The SQL is kept per engine type,
    table and shape of the rows — their number and, for each column, the SQL text of a value that
    goes into the statement itself (DEFAULT for an id not given) — while every other value stays a
    bound parameter, converted per row as Piccolo's own insert converts it.  The first insert of a
    shape is built by Piccolo; its SQL is kept only when its values are exactly those this class
    would bind.  Await it alone, or run it with others by `write_together`; like Piccolo's insert
    without RETURNING, the rows do not get their ids back."""

    __slots__ = ("table", "rows")

    def __init__(self, table, *rows):
        self.table = table
        self.rows = rows

    def compiled(self, engine) -> tuple[str, list[Any]]:
        values: list[Any] = []
        shape: list[Any] = [engine.engine_type, self.table]
        for row in self.rows:
            # A value Piccolo binds as it is (`_PLAIN`) is taken without a call; any other is
            # converted as Piccolo's insert converts it (`insert_values`), the row's values with it.
            plain = [getattr(row, name) for name, _ in _columns_of(type(row))]
            bound = True  # every value a bound parameter
            for value, (_, is_json) in zip(plain, _COLUMNS[type(row)]):
                kind = type(value)
                if kind not in _PLAIN or (is_json and kind is not str and value is not None):
                    bound = False
                    if is_json or not is_querystring(value):
                        plain = insert_values(row)
                        break
            if bound:
                values.extend(plain)
                shape.append(len(plain))
                continue
            for value in plain:
                if is_querystring(value):
                    if value.args:  # SQL with values of its own: left to Piccolo
                        return self._by_piccolo(engine)
                    shape.append(value.template)
                else:
                    shape.append(None)
                    values.append(value)
            shape.append(())  # the end of a row
        key = tuple(shape)
        sql = _INSERTS.get(key)
        if sql is None:
            sql, args = self._by_piccolo(engine)
            if len(args) != len(values) or any(a is not v and a != v for a, v in zip(args, values)):
                return sql, args  # not the values this class binds: Piccolo's own, not kept
            if len(_INSERTS) < _MAX_INSERT_SHAPES:
                _INSERTS[key] = sql
        elif _CHECK and self._by_piccolo(engine) != (sql, values):
            raise PreparedQueryError(f"the kept insert differs from Piccolo's:\nkept:  {sql} {values}\n"
                                     f"fresh: {self._by_piccolo(engine)}")
        return sql, values

    def _by_piccolo(self, engine) -> tuple[str, list[Any]]:
        querystrings = self.table.insert(*self.rows).querystrings
        if len(querystrings) != 1:
            raise PreparedQueryError("an insert must compile to one statement")
        sql, args = querystrings[0].compile_string(engine_type=engine.engine_type)
        return sql, list(args)

    def __await__(self):
        return self._run().__await__()

    async def _run(self) -> None:
        if not self.rows:
            return
        engine = current_engine()
        sql, values = self.compiled(engine)
        await engine.run_querystring(frozen_querystring(sql, values, "insert", self.table))
