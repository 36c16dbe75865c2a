from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-12-06T08:14:37:000000"
VERSION = "1.38.0"
DESCRIPTION = "enforcement: unique list codes per tenant and kind; lookup indexes, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="enforcement", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={"enforcement_list_item": [("tenant_id", "kind", "code")]},
        plain={
            "enforcement_inspection": [("tenant_id", "company", "planned_on"), ("tenant_id", "department", "status"),
                                       ("tenant_id", "joint")],
            "enforcement_joint": [("tenant_id", "company", "planned_on")],
            "enforcement_finding": [("tenant_id", "inspection"), ("tenant_id", "company", "list_item"),
                                    ("tenant_id", "status")],
        },
    )
    return manager
