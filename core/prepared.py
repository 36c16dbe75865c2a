"""Queries of a fixed shape, built and compiled once (预编译查询).

Building a Piccolo query (joins, aliases, where-clauses) and compiling it to SQL costs about as
much CPU as PostgreSQL spends answering the small queries a page makes: on the case page it was a
third of the web process's time.  A `Prepared` query is written as a function of its parameters;
it is called once with placeholders, its SQL is kept, and later calls only put their values in
the placeholders' places and run the kept SQL through the same engine, transaction and result
processing as the query itself.

The SQL is kept per engine type and per tenant, because the scoping layer writes the current
tenant's id into every query of a tenant-owned table (`tenants.scope.scoped`): a kept query never
carries another tenant's id.  Everything else in the query must depend on the parameters alone:
a value captured from elsewhere (the clock, the user) would be kept too.  With
`QINQING_CHECK_PREPARED=1` (set by the test suite) every call also builds the query afresh with
the real values and fails when its SQL or values differ from what the kept SQL would run.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from piccolo.query.base import Query
from piccolo.querystring import QueryString

from core.db import current_engine


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
        from tenants.scope import current_tenant_or_none

        tenant = current_tenant_or_none()
        key = (engine.engine_type, tenant.id if tenant else None, count)
        kept = self._kept.get(key)
        if kept is None:
            query = self.build(*(_Param(i) for i in range(count)))
            if self.is_first:
                query.limit_delegate.limit(1)
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

    async def __call__(self, *values: Any) -> list:
        if any(value is None for value in values):
            raise PreparedQueryError("None is not a parameter value (it changes the SQL: IS NULL)")
        engine = current_engine()
        query, sql, args, slots, query_type, table = self._compile(engine, len(values))
        bound = list(args)
        for position, index in slots:
            bound[position] = values[index]
        if _CHECK:
            _check(self, engine, sql, bound, values)
        compiled = QueryString("", query_type=query_type, table=table)
        compiled._frozen_compiled_strings = (sql, bound)
        results = await engine.run_querystring(compiled)
        rows = await query._process_results(results)
        return rows[:1] if self.is_first else rows

    async def first(self, *values: Any):
        if not self.is_first:
            raise PreparedQueryError("declare the query with first=True")
        rows = await self(*values)
        return rows[0] if rows else None


_CHECK = os.environ.get("QINQING_CHECK_PREPARED") == "1"


def _check(prepared: Prepared, engine, sql: str, bound: list, values: tuple) -> None:
    query = prepared.build(*values)
    if prepared.is_first:
        query.limit_delegate.limit(1)
    fresh_sql, fresh_args = query.querystrings[0].compile_string(engine_type=engine.engine_type)
    if (fresh_sql, list(fresh_args)) != (sql, bound):
        raise PreparedQueryError(f"the kept SQL differs from the query built with these values:\n"
                                 f"kept:  {sql} {bound}\nfresh: {fresh_sql} {list(fresh_args)}")
