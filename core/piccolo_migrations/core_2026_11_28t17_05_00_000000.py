from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-11-28T17:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "console: a page of a tenant's cases in id or update order is an index walk"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    indexes_step(manager, plain={"case_file": [("tenant_id", "id"), ("tenant_id", "updated_at")]})
    return manager
