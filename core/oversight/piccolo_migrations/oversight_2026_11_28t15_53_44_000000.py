from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-11-28T15:53:44:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_tally: one row per case, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="oversight", description=DESCRIPTION)
    indexes_step(manager, unique={"case_tally": [("tenant_id", "case")]},
                 plain={"case_tally": [("tenant_id", "month")]})
    return manager
