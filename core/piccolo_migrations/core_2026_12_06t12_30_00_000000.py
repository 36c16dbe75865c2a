from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
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


class RedispatchBatch(Table, tablename="redispatch_batch", schema=None):
    id = _id()


ID = "2026-12-06T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "bulk re-dispatch (批量二次交办): batches and the cases each selected, once"


def _params(**overrides):
    params = {"null": False, "primary_key": False, "unique": False, "index": False,
              "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}
    params.update(overrides)
    return params


def _fk(references, null: bool, index: bool = False):
    return _params(references=references, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade,
                   target_column=None, null=null, index=index)


def _table(manager, class_name: str, tablename: str, columns) -> None:
    manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
    for name, column_class, params in columns:
        manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name,
                           db_column_name=name, column_class_name=column_class.__name__, column_class=column_class,
                           params=params, schema=None)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    _table(manager, "RedispatchBatch", "redispatch_batch", (
        ("tenant_id", ForeignKey, _fk(Tenant, null=False, index=True)),
        ("key", Varchar, _params(length=64, default="")),
        ("reason", Text, _params(default="")),
        ("filters", Text, _params(default="{}")),
        ("status", Varchar, _params(length=20, default="queued")),
        ("total", Integer, _params(default=0)),
        ("processed", Integer, _params(default=0)),
        ("redispatched", Integer, _params(default=0)),
        ("skipped", Integer, _params(default=0)),
        ("created_by", ForeignKey, _fk(User, null=True)),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ("finished_at", Timestamptz, _params(default=None, null=True)),
    ))
    _table(manager, "RedispatchItem", "redispatch_item", (
        ("tenant_id", ForeignKey, _fk(Tenant, null=False, index=True)),
        ("batch", ForeignKey, _fk(RedispatchBatch, null=False)),
        ("case", ForeignKey, _fk(Case, null=False)),
        ("outcome", Varchar, _params(length=20, default="pending")),
        ("note", Varchar, _params(length=40, default="")),
    ))
    return manager
