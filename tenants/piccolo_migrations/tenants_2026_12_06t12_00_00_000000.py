from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Tenant(Table, tablename="tenant", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


ID = "2026-12-06T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant links: each side's declaration of a link between a court and a district it serves"


def _params(**overrides):
    params = {"null": False, "primary_key": False, "unique": False, "index": False,
              "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}
    params.update(overrides)
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)
    manager.add_table(class_name="TenantLink", tablename="tenant_link", schema=None, columns=None)
    for name, column_class, params in (
        ("tenant", ForeignKey, _params(references=Tenant, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade,
                                       target_column=None)),
        ("partner", Varchar, _params(length=63, default="", index=True)),
        ("declared_at", Timestamptz, _params(default=TimestamptzNow())),
        ("ended_at", Timestamptz, _params(default=None, null=True)),
    ):
        manager.add_column(table_class_name="TenantLink", tablename="tenant_link", column_name=name,
                           db_column_name=name, column_class_name=column_class.__name__, column_class=column_class,
                           params=params, schema=None)
    return manager
