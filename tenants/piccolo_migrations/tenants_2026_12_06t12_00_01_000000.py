from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-12-06T12:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant links: one declaration per tenant and partner"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)
    indexes_step(manager, unique={"tenant_link": [("tenant", "partner")]})
    return manager
