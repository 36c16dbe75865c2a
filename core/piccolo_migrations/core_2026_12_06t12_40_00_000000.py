from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, Date, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


def _id() -> Serial:
    return Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                  choices=None, db_column_name="id", secret=False)


class Tenant(Table, tablename="tenant", schema=None):
    id = _id()


class User(Table, tablename="app_user", schema=None):
    id = _id()


class Case(Table, tablename="case_file", schema=None):
    id = _id()


class Department(Table, tablename="department", schema=None):
    id = _id()


ID = "2026-12-06T12:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "advances (先垫资): what the township paid first on a case, and its settlement"


def _params(**overrides):
    params = {"null": False, "primary_key": False, "unique": False, "index": False,
              "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}
    params.update(overrides)
    return params


def _fk(references, null: bool, index: bool = False):
    return _params(references=references, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade,
                   target_column=None, null=null, index=index)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_table(class_name="Advance", tablename="case_advance", schema=None, columns=None)
    for name, column_class, params in (
        ("tenant_id", ForeignKey, _fk(Tenant, null=False, index=True)),
        ("case", ForeignKey, _fk(Case, null=False)),
        ("amount_fen", BigInt, _params(default=0)),
        ("authorised_by", Varchar, _params(length=100, default="")),
        ("work", Text, _params(default="")),
        ("advanced_on", Date, _params(default=DateNow())),
        ("recorded_by", ForeignKey, _fk(User, null=True)),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ("settled_department", ForeignKey, _fk(Department, null=True)),
        ("settled_fen", BigInt, _params(default=None, null=True)),
        ("settled_on", Date, _params(default=None, null=True)),
        ("settled_by", ForeignKey, _fk(User, null=True)),
        ("settled_at", Timestamptz, _params(default=None, null=True)),
    ):
        manager.add_column(table_class_name="Advance", tablename="case_advance", column_name=name,
                           db_column_name=name, column_class_name=column_class.__name__, column_class=column_class,
                           params=params, schema=None)
    return manager
