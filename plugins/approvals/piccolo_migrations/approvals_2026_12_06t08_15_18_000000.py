from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-12-06T08:15:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "approvals: unique keys (catalogue and bundle codes, a stage per project, a shortfall per material) and lookup indexes, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="approvals", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={
            "approvals_item": [("tenant_id", "code")],
            "approvals_bundle": [("tenant_id", "code")],
            "approvals_stage": [("tenant_id", "project", "key")],
            "approvals_shortfall": [("tenant_id", "filing", "material")],
        },
        plain={
            "approvals_project": [("tenant_id", "company"), ("tenant_id", "helper")],
            "approvals_material": [("tenant_id", "item")],
            "approvals_filing": [("tenant_id", "project"), ("tenant_id", "bundle_filing"), ("tenant_id", "status"),
                                 ("tenant_id", "company")],
            "approvals_bundle_filing": [("tenant_id", "company")],
            "approvals_action": [("tenant_id", "done_on", "due_on"), ("tenant_id", "project"), ("tenant_id", "filing")],
            "approvals_event": [("tenant_id", "project"), ("tenant_id", "filing")],
        },
    )
    return manager
