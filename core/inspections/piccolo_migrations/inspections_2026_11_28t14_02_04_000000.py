from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-11-28T14:02:04:000000"
VERSION = "1.38.0"
DESCRIPTION = "inspections: unique keys (never opened twice, one setting per rule) and lookup indexes, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inspections", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={
            "inspection": [("tenant_id", "dedupe_key")],
            "inspection_rule": [("tenant_id", "rule")],
        },
        plain={
            "inspection": [("tenant_id", "status"), ("tenant_id", "rule"), ("tenant_id", "case"),
                           ("tenant_id", "subject")],
            "conduct_report": [("tenant_id", "company"), ("tenant_id", "case")],
        },
    )
    return manager
