from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Tenant(Table, tablename="tenant", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


ID = "2026-12-06T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mediation: files that came with a referral, and a dispute's number before it moved to the court"


def _params(**overrides):
    params = {"null": False, "primary_key": False, "unique": False, "index": False,
              "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}
    params.update(overrides)
    return params


TENANT = _params(references=Tenant, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)

COLUMNS = {
    ("Dispute", "mediation_dispute"): [("former_number", Varchar, _params(length=30, default=""))],
    ("DisputeFile", "mediation_file"): [
        ("tenant_id", ForeignKey, TENANT),
        ("referral_key", Varchar, _params(length=36, default="")),
        ("message_key", Varchar, _params(length=80, default="")),
        ("filename", Varchar, _params(length=255, default="")),
        ("kind", Varchar, _params(length=20, default="")),
        ("mime", Varchar, _params(length=100, default="")),
        ("size", Integer, _params(default=0)),
        ("sha256", Varchar, _params(length=64, default="")),
        ("storage_key", Varchar, _params(length=100, default="")),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
    ],
}
NEW_TABLES = ("DisputeFile",)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mediation", description=DESCRIPTION)
    for (class_name, tablename), columns in COLUMNS.items():
        if class_name in NEW_TABLES:
            manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name,
                               db_column_name=name, column_class_name=column_class.__name__,
                               column_class=column_class, params=params, schema=None)
    return manager
