from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-12-06T11:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "signed chain heads: one per tenant and sequence number"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    indexes_step(manager, unique={"audit_anchor": [("tenant_id", "seq")]})
    return manager
