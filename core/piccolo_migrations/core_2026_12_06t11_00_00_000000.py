from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Serial
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Tenant(Table, tablename="tenant", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


ID = "2026-12-06T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "signed chain heads (存证), published on the public page"


def _params(**overrides):
    params = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(overrides)
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    manager.add_table(class_name="AuditAnchor", tablename="audit_anchor", schema=None, columns=None)

    manager.add_column(
        table_class_name="AuditAnchor",
        tablename="audit_anchor",
        column_name="tenant_id",
        db_column_name="tenant_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params=_params(references=Tenant, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade,
                       target_column=None, index=True),
        schema=None,
    )
    for name, column_class, params in (
        ("seq", Integer, _params(default=0)),
        ("hash", Varchar, _params(length=64, default="")),
        ("signed_at", Timestamptz, _params(default=TimestamptzNow())),
        ("signature", Varchar, _params(length=128, default="")),
        ("public_key", Varchar, _params(length=64, default="")),
    ):
        manager.add_column(
            table_class_name="AuditAnchor",
            tablename="audit_anchor",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
