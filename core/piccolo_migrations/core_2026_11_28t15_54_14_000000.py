from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-11-28T15:54:14:000000"
VERSION = "1.38.0"
DESCRIPTION = "open311 intake: one per case, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    indexes_step(manager, unique={"open311_request": [("tenant_id", "case")]})
    return manager
