"""Piccolo's private API, as the project uses it (`core.piccolo_private`), checked against the
installed Piccolo on sample tables in a temporary SQLite file: after a Piccolo upgrade a test
here fails naming the changed API, instead of a page failing somewhere.  No server, no conftest
(part of `make test-fast`)."""

from __future__ import annotations

import inspect
import tempfile
from contextvars import ContextVar
from pathlib import Path

import pytest
from piccolo.columns import JSON, ForeignKey, Integer, Varchar
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.query.base import Query
from piccolo.querystring import QueryString
from piccolo.table import Table

from core import piccolo_private as private

_DB = SQLiteEngine(path=str(Path(tempfile.mkdtemp(prefix="qq-piccolo-")) / "sample.db"))


class Maker(Table, db=_DB, tablename="maker"):
    name = Varchar(length=50)


class Gadget(Table, db=_DB, tablename="gadget"):
    name = Varchar(length=50)
    size = Integer(null=True)
    maker = ForeignKey(references=Maker, null=True)
    spec = JSON(default="{}")


def changed(api: str) -> str:
    return f"Piccolo changed {api}: adapt core.piccolo_private (and what uses it) to the new Piccolo"


@pytest.fixture(scope="module", autouse=True)
async def tables():
    import core.piccolo_speedups

    core.piccolo_speedups.install()  # as the application runs: the checks hold with the patches in
    for table in (Gadget, Maker):
        await table.alter().drop_table(if_exists=True)
    await Maker.create_table()
    await Gadget.create_table()
    maker = Maker(name="Huangyan Moulds")
    await maker.save()
    await Gadget.insert(Gadget(name="die", size=2, maker=maker.id, spec={"cavities": 4}),
                        Gadget(name="press", size=9, maker=maker.id))


def _compiled(query: Query) -> tuple[str, list]:
    assert len(query.querystrings) == 1, changed("Query.querystrings (one QueryString for a select)")
    return query.querystrings[0].compile_string(engine_type="sqlite")


async def test_a_query_answers_rows_fetched_elsewhere_through_its_own_result_processing():
    query = Gadget.select(Gadget.name, Gadget.maker.name.as_alias("maker_name"), Gadget.spec).output(
        load_json=True).order_by(Gadget.id)
    sql, values = _compiled(query)
    querystring = query.querystrings[0]
    raw = await _DB.run_querystring(private.frozen_querystring(sql, values, querystring.query_type,
                                                               querystring.table))
    rows = await private.process_results(query, raw)
    assert rows == await query, changed("Query._process_results or QueryString._frozen_compiled_strings")
    assert rows[0] == {"name": "die", "maker_name": "Huangyan Moulds", "spec": {"cavities": 4}}, \
        changed("Query._process_results (JSON columns loaded by output(load_json=True))")


def test_a_frozen_query_string_compiles_to_its_sql_on_every_engine():
    frozen = private.frozen_querystring("SELECT $1", [5], "select", None)
    for engine_type in ("postgres", "sqlite"):
        assert frozen.compile_string(engine_type=engine_type) == ("SELECT $1", [5]), \
            changed("QueryString._frozen_compiled_strings")
    assert "_frozen_compiled_strings" in QueryString.__slots__, changed("QueryString._frozen_compiled_strings")


async def test_limit_one_leaves_one_row():
    query = Gadget.select(Gadget.name).order_by(Gadget.id)
    private.limit_one(query)
    assert _compiled(query)[0].endswith("LIMIT 1"), changed("Query.limit_delegate")
    assert await query == [{"name": "die"}], changed("Query.limit_delegate")


async def test_a_statement_runs_on_a_connection_of_its_own():
    assert await private.run_in_new_connection(_DB, "SELECT 7 AS seven") == [{"seven": 7}], \
        changed("SQLiteEngine._run_in_new_connection")
    for engine_class in (SQLiteEngine, PostgresEngine):
        parameters = list(inspect.signature(engine_class._run_in_new_connection).parameters)
        assert parameters[:2] == ["self", "query"], changed(f"{engine_class.__name__}._run_in_new_connection")


async def test_a_row_knows_whether_it_is_in_the_database():
    made = Gadget(name="lathe")
    assert private.exists_in_db(made) is False, changed("Table._exists_in_db")
    await made.save()
    assert private.exists_in_db(made) is True, changed("Table._exists_in_db")
    loaded = await Gadget.objects().where(Gadget.name == "die").first()
    assert private.exists_in_db(loaded) is True, changed("Table._exists_in_db")
    await made.remove()


class _OfflineEngine(PostgresEngine):
    """A PostgreSQL engine that never connects (no version check), for the transaction protocol."""

    async def check_version(self):
        pass

    async def prep_database(self):
        pass


class _Connection:
    def __init__(self):
        self.sent: list[str] = []

    def transaction(self):
        return object()

    async def execute(self, sql: str):
        self.sent.append(sql)

    async def close(self):
        self.sent.append("(closed)")


class _Probe(private.SimpleProtocolTransaction):
    connection_to_give: _Connection

    def begin_sql(self) -> str:
        return "BEGIN; SELECT 1"

    async def get_connection(self):
        return self.connection_to_give


async def test_a_simple_protocol_transaction_sends_its_begin_commit_and_rollback():
    engine = _OfflineEngine(config={"database": "offline"})
    assert isinstance(engine.current_transaction, ContextVar), changed("PostgresEngine.current_transaction")
    assert "allow_nested" in inspect.signature(PostgresTransaction.__init__).parameters, \
        changed("PostgresTransaction(engine, allow_nested)")
    committed = _Probe(engine, allow_nested=False)
    committed.connection_to_give = _Connection()
    async with committed as inside:
        assert inside is committed and engine.current_transaction.get() is committed, \
            changed("PostgresTransaction.__aenter__ (sets current_transaction)")
    assert committed.connection_to_give.sent == ["BEGIN; SELECT 1", "COMMIT", "(closed)"], \
        changed("PostgresTransaction.__aenter__/__aexit__ (begin(), commit(), _committed)")
    assert engine.current_transaction.get() is None

    rolled_back = _Probe(engine, allow_nested=False)
    rolled_back.connection_to_give = _Connection()
    with pytest.raises(LookupError):
        async with rolled_back:
            raise LookupError
    assert rolled_back.connection_to_give.sent == ["BEGIN; SELECT 1", "ROLLBACK", "(closed)"], \
        changed("PostgresTransaction.__aexit__ (rollback(), _rolled_back)")


def test_the_tenant_transaction_sets_the_tenant_in_its_begin():
    from core.scope import TenantTransaction

    tenant_transaction = TenantTransaction(_OfflineEngine(config={"database": "offline"}), 7)
    assert tenant_transaction.begin_sql() == "BEGIN; SELECT set_config('app.tenant_id', '7', true)"


def test_the_speed_ups_patch_points_are_where_they_were():
    from core import piccolo_speedups

    getattribute = ForeignKey.__getattribute__
    assert "dir" in getattribute.__code__.co_names, changed("ForeignKey.__getattribute__ (calls dir(self))")
    from piccolo.columns import column_types

    assert column_types.dir is piccolo_speedups._Names, changed("piccolo.columns.column_types.dir")
    assert Gadget.maker.name._meta.call_chain, changed("ForeignKey.__getattribute__ (joins through a foreign key)")

    from piccolo.table import Table

    assert Table.__init__ is piccolo_speedups.table_init, changed("Table.__init__ (replaced)")
    assert list(inspect.signature(private.PICCOLOS_TABLE_INIT).parameters) == \
        ["self", "_data", "_ignore_missing", "_exists_in_db", "kwargs"], changed("Table.__init__'s parameters")
    assert "self[column._meta.name] = value" in inspect.getsource(private.PICCOLOS_TABLE_INIT), \
        changed("Table.__init__ (stores each column's value under its name)")

    parameters = list(inspect.signature(private.PICCOLOS_CONVERT_TO_SQL_VALUE).parameters)
    assert parameters == ["value", "column"], changed("piccolo.utils.sql_values.convert_to_sql_value(value, column)")
    for module in private.CONVERT_TO_SQL_VALUE_USERS:
        assert module.convert_to_sql_value is piccolo_speedups.plain_sql_value, \
            changed(f"{module.__name__}.convert_to_sql_value")
        if module.__name__ != "piccolo.utils.sql_values":
            assert "convert_to_sql_value(" in inspect.getsource(module), \
                changed(f"{module.__name__} (calls convert_to_sql_value as a module global)")


async def test_values_still_reach_the_database_as_piccolo_would_write_them():
    await Gadget.update({Gadget.spec: {"cavities": 8}, Gadget.size: 3}).where(Gadget.name == "die")
    row = await Gadget.select(Gadget.spec, Gadget.size).where(Gadget.name == "die").output(load_json=True).first()
    assert row == {"spec": {"cavities": 8}, "size": 3}, changed("convert_to_sql_value (a JSON value is dumped)")


def test_the_table_meta_names_the_project_reads():
    meta = Gadget._meta
    assert meta.tablename == "gadget", changed("Table._meta.tablename")
    assert [c._meta.name for c in meta.columns] == ["id", "name", "size", "maker", "spec"], \
        changed("Table._meta.columns / Column._meta.name")
    assert meta.primary_key._meta.db_column_name == "id", changed("Table._meta.primary_key / _meta.db_column_name")
    assert meta.foreign_key_columns == [Gadget.maker], changed("Table._meta.foreign_key_columns")
    assert meta.db is _DB and Gadget.name._meta.engine_type == "sqlite", changed("Table._meta.db / _meta.engine_type")
    assert Gadget.size._meta.null is True and Gadget.name._meta.null is False, changed("Column._meta.null")
    assert Gadget.maker._foreign_key_meta.resolved_references is Maker, \
        changed("ForeignKey._foreign_key_meta.resolved_references")


def test_the_pooled_sqlite_engine_overrides_what_piccolo_calls():
    """`PooledSQLiteEngine` replaces three methods Piccolo's SQLite engine calls itself, and its
    transaction the enter and exit Piccolo's does; their names and parameters must still be these."""
    from piccolo.engine.sqlite import SQLiteTransaction

    engine = SQLiteEngine
    assert list(inspect.signature(engine._run_in_new_connection).parameters) == \
        ["self", "query", "args", "query_type", "table"], changed("SQLiteEngine._run_in_new_connection")
    assert list(inspect.signature(engine._run_in_existing_connection).parameters) == \
        ["self", "connection", "query", "args", "query_type", "table"], \
        changed("SQLiteEngine._run_in_existing_connection")
    run = inspect.getsource(engine.run_querystring)
    assert "_run_in_existing_connection(" in run and "_run_in_new_connection(" in run, \
        changed("SQLiteEngine.run_querystring (runs a statement in or outside the current transaction)")
    assert {"_parent", "_committed", "_rolled_back", "context", "connection"} <= set(SQLiteTransaction.__slots__), \
        changed("SQLiteTransaction's state (_parent, _committed, _rolled_back, context, connection)")
    assert "self.get_connection()" in inspect.getsource(SQLiteTransaction.__aenter__), \
        changed("SQLiteTransaction.__aenter__ (takes its connection from get_connection)")
