from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


def _stub(class_name: str, tablename: str) -> type[Table]:
    return type(class_name, (Table,), {"id": Serial(null=False, primary_key=True)}, tablename=tablename)


Tenant = _stub("Tenant", "tenant")
User = _stub("User", "app_user")
Application = _stub("Application", "cadre_tolerance")
Sheet = _stub("Sheet", "cadre_sheet")
Publicity = _stub("Publicity", "cadre_publicity")

ID = "2026-12-06T12:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "cadre: a township's cadres in a district's list; publicity (公示) and objections (异议)"


def _params(**overrides):
    params = {"null": False, "primary_key": False, "unique": False, "index": False,
              "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}
    params.update(overrides)
    return params


def _fk(references, null: bool, on_delete=OnDelete.cascade, index: bool = False):
    return _params(references=references, on_delete=on_delete, on_update=OnUpdate.cascade, target_column=None,
                   null=null, index=index)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cadre", description=DESCRIPTION)
    manager.add_column(table_class_name="Cadre", tablename="cadre", column_name="township",
                       db_column_name="township", column_class_name="Varchar", column_class=Varchar,
                       params=_params(length=50, default=""), schema=None)
    tables = {
        ("Publicity", "cadre_publicity"): (
            ("tenant_id", ForeignKey, _fk(Tenant, False, index=True)),
            ("kind", Varchar, _params(length=20, default="")),
            ("application", ForeignKey, _fk(Application, True)),
            ("sheet", ForeignKey, _fk(Sheet, True)),
            ("person", Varchar, _params(length=100, default="")),
            ("post", Varchar, _params(length=100, default="")),
            ("unit", Varchar, _params(length=200, default="")),
            ("unit_en", Varchar, _params(length=200, default="")),
            ("subject", Varchar, _params(length=40, default="")),
            ("summary", Text, _params(default="")),
            ("starts_on", Date, _params(default=None, null=True)),
            ("ends_on", Date, _params(default=None, null=True)),
            ("status", Varchar, _params(length=20, default="open")),
            ("closed_at", Timestamptz, _params(default=None, null=True)),
            ("created_at", Timestamptz, _params(default=TimestamptzNow())),
            ("version", Integer, _params(default=0)),
        ),
        ("Objection", "cadre_objection"): (
            ("tenant_id", ForeignKey, _fk(Tenant, False, index=True)),
            ("publicity", ForeignKey, _fk(Publicity, False)),
            ("name", Varchar, _params(length=100, default="")),
            ("contact", Varchar, _params(length=100, default="")),
            ("text", Text, _params(default="")),
            ("client", Varchar, _params(length=64, default="")),
            ("status", Varchar, _params(length=20, default="pending")),
            ("answer", Text, _params(default="")),
            ("answered_by", ForeignKey, _fk(User, True, OnDelete.set_null)),
            ("answered_at", Timestamptz, _params(default=None, null=True)),
            ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ),
    }
    for (class_name, tablename), columns in tables.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name,
                               db_column_name=name, column_class_name=column_class.__name__,
                               column_class=column_class, params=params, schema=None)
    return manager
