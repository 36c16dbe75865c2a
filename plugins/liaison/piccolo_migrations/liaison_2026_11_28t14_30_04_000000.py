from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-11-28T14:30:04:000000"
VERSION = "1.38.0"
DESCRIPTION = "liaison: unique keys (one assistant per company, one seat per name and salon) and lookup indexes, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="liaison", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={
            "liaison_pairing": [("tenant_id", "company")],
            "liaison_salon_seat": [("tenant_id", "salon", "name")],
        },
        plain={
            "liaison_pairing": [("tenant_id", "assistant")],
            "liaison_pairing_change": [("tenant_id", "company")],
            "liaison_person": [("tenant_id", "kind")],
            "liaison_need": [("tenant_id", "company"), ("tenant_id", "assistant", "status")],
            "liaison_visit": [("tenant_id", "company", "visited_on"), ("tenant_id", "assistant")],
            "liaison_follow_up": [("tenant_id", "assistant", "done"), ("tenant_id", "due_on")],
            "liaison_salon": [("tenant_id", "held_on")],
        },
    )
    return manager
