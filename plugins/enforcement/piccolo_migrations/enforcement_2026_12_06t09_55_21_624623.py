from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T09:55:21:624623"
VERSION = "1.38.0"
DESCRIPTION = "enforcement: the day an inspection's company was reminded"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="enforcement", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Inspection",
        tablename="enforcement_inspection",
        column_name="reminded_on",
        db_column_name="reminded_on",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
