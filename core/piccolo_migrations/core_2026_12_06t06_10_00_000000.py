from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Tenant(Table, tablename="tenant", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


class User(Table, tablename="app_user", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


ID = "2026-12-06T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency keys: a write sent again with the same key gets the first answer"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_table(class_name="IdempotencyKey", tablename="idempotency_key", schema=None, columns=None)

    manager.add_column(
        table_class_name="IdempotencyKey", tablename="idempotency_key", column_name="tenant_id",
        db_column_name="tenant_id", column_class_name="ForeignKey", column_class=ForeignKey,
        params={"references": Tenant, "on_delete": OnDelete.cascade, "on_update": OnUpdate.cascade, "target_column": None, "null": False, "primary_key": False, "unique": False, "index": True, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
                "secret": False},
        schema=None,
    )

    manager.add_column(
        table_class_name="IdempotencyKey", tablename="idempotency_key", column_name="user",
        db_column_name="user", column_class_name="ForeignKey", column_class=ForeignKey,
        params={"references": User, "on_delete": OnDelete.cascade, "on_update": OnUpdate.cascade, "target_column": None, "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
                "secret": False},
        schema=None,
    )

    manager.add_column(
        table_class_name="IdempotencyKey", tablename="idempotency_key", column_name="key",
        db_column_name="key", column_class_name="Varchar", column_class=Varchar,
        params={"length": 200, "default": "", "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
                "secret": False},
        schema=None,
    )

    manager.add_column(
        table_class_name="IdempotencyKey", tablename="idempotency_key", column_name="fingerprint",
        db_column_name="fingerprint", column_class_name="Varchar", column_class=Varchar,
        params={"length": 64, "default": "", "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
                "secret": False},
        schema=None,
    )

    manager.add_column(
        table_class_name="IdempotencyKey", tablename="idempotency_key", column_name="status",
        db_column_name="status", column_class_name="Integer", column_class=Integer,
        params={"default": 0, "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
                "secret": False},
        schema=None,
    )

    manager.add_column(
        table_class_name="IdempotencyKey", tablename="idempotency_key", column_name="content_type",
        db_column_name="content_type", column_class_name="Varchar", column_class=Varchar,
        params={"length": 100, "default": "", "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
                "secret": False},
        schema=None,
    )

    manager.add_column(
        table_class_name="IdempotencyKey", tablename="idempotency_key", column_name="body",
        db_column_name="body", column_class_name="Text", column_class=Text,
        params={"default": "", "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
                "secret": False},
        schema=None,
    )

    manager.add_column(
        table_class_name="IdempotencyKey", tablename="idempotency_key", column_name="created_at",
        db_column_name="created_at", column_class_name="Timestamptz", column_class=Timestamptz,
        params={"default": TimestamptzNow(), "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
                "secret": False},
        schema=None,
    )

    return manager
