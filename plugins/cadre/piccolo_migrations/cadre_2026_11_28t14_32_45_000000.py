from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-11-28T14:32:45:000000"
VERSION = "1.38.0"
DESCRIPTION = "cadre: unique keys (one file per user, one sheet per cadre and campaign, one score per evaluator and criterion) and lookup indexes, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cadre", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={
            "cadre": [("tenant_id", "user")],
            "cadre_evaluator": [("tenant_id", "campaign", "user")],
            "cadre_sheet": [("tenant_id", "campaign", "cadre")],
            "cadre_score": [("tenant_id", "sheet", "evaluator", "criterion")],
        },
        plain={
            "cadre": [("tenant_id", "department")],
            "cadre_campaign": [("tenant_id", "status")],
            "cadre_sheet": [("tenant_id", "cadre")],
            "cadre_tolerance": [("tenant_id", "cadre"), ("tenant_id", "status"), ("tenant_id", "inspection")],
        },
    )
    return manager
