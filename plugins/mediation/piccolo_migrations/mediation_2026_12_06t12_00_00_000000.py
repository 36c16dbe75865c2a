from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Tenant(Table, tablename="tenant", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


class Case(Table, tablename="case_file", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


class User(Table, tablename="app_user", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, index_method=IndexMethod.btree,
                choices=None, db_column_name="id", secret=False)


ID = "2026-12-06T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = ("mediation: numbers per court and year, payments against the enforcement, referrals across "
               "tenant links and the messages that crossed them")


def _params(**overrides):
    params = {"null": False, "primary_key": False, "unique": False, "index": False,
              "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}
    params.update(overrides)
    return params


def _fk(references, null=True, on_delete=OnDelete.set_null):
    return _params(references=references, on_delete=on_delete, on_update=OnUpdate.cascade, target_column=None,
                   null=null)


TENANT = _fk(Tenant, null=False, on_delete=OnDelete.cascade)

COLUMNS = {
    ("Dispute", "mediation_dispute"): [
        ("referral_key", Varchar, _params(length=36, default="")),
        ("referred_from", Varchar, _params(length=63, default="")),
        ("referred_from_name", Varchar, _params(length=200, default="")),
        ("summary", Text, _params(default="")),
    ],
    ("Payment", "mediation_payment"): [("against", Varchar, _params(length=20, default="instalment"))],
    ("DisputeCounter", "mediation_counter"): [
        ("tenant_id", ForeignKey, TENANT),
        ("year", Integer, _params(default=0)),
        ("last", Integer, _params(default=0)),
    ],
    ("Referral", "mediation_referral"): [
        ("tenant_id", ForeignKey, TENANT),
        ("key", Varchar, _params(length=36, default="")),
        ("case", ForeignKey, _fk(Case)),
        ("court", Varchar, _params(length=63, default="")),
        ("court_name", Varchar, _params(length=200, default="")),
        ("creditor", Varchar, _params(length=200, default="")),
        ("debtor_name", Varchar, _params(length=200, default="")),
        ("debtor_code", Varchar, _params(length=18, default="")),
        ("principal_fen", BigInt, _params(default=0)),
        ("summary", Text, _params(default="")),
        ("status", Varchar, _params(length=20, default="sent")),
        ("dispute_number", Varchar, _params(length=30, default="")),
        ("referred_by", ForeignKey, _fk(User)),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ("updated_at", Timestamptz, _params(default=TimestamptzNow())),
    ],
    ("LinkMessage", "mediation_link_message"): [
        ("tenant_id", ForeignKey, TENANT),
        ("key", Varchar, _params(length=80, default="")),
        ("direction", Varchar, _params(length=3, default="")),
        ("partner", Varchar, _params(length=63, default="")),
        ("kind", Varchar, _params(length=30, default="")),
        ("referral_key", Varchar, _params(length=36, default="")),
        ("body", Text, _params(default="{}")),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
    ],
}
NEW_TABLES = ("DisputeCounter", "Referral", "LinkMessage")


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
