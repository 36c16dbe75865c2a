from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-12-06T12:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "liaison: lookups of village needs, consultations and messages, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="liaison", description=DESCRIPTION)
    indexes_step(
        manager,
        plain={
            "liaison_village_need": [("tenant_id", "runner", "status"), ("tenant_id", "company")],
            "liaison_consultation": [("tenant_id", "expert", "status", "due_on"), ("tenant_id", "company")],
            "liaison_message": [("tenant_id", "company", "replied_at")],
        },
    )
    return manager
