from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import Bytea, ForeignKey, Integer, Serial, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Tenant(Table, tablename="tenant", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


ID = "2026-12-06T17:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the database file store (file_chunk): attachments any web node can serve"


def _params(**overrides):
    params = {"null": False, "primary_key": False, "unique": False, "index": False,
              "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}
    params.update(overrides)
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_table(class_name="FileChunk", tablename="file_chunk", schema=None, columns=None)
    for name, column_class, params in (
        ("tenant_id", ForeignKey, _params(references=Tenant, on_delete=OnDelete.cascade,
                                          on_update=OnUpdate.cascade, target_column=None, index=True)),
        ("key", Varchar, _params(length=100, default="")),
        ("seq", Integer, _params(default=0)),
        ("data", Bytea, _params(default=b"")),
    ):
        manager.add_column(table_class_name="FileChunk", tablename="file_chunk", column_name=name,
                           db_column_name=name, column_class_name=column_class.__name__, column_class=column_class,
                           params=params, schema=None)
    return manager
