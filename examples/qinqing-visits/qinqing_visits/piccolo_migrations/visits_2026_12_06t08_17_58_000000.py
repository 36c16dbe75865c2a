from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-12-06T08:17:58:000000"
VERSION = "1.38.0"
DESCRIPTION = "visits: one follow-up per case, and the lookups, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="visits", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={"visits_visit": [("tenant_id", "case")]},
        plain={"visits_visit": [("tenant_id", "status", "planned_on"), ("tenant_id", "company")]},
    )
    return manager
