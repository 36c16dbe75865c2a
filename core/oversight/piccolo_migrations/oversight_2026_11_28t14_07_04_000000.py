from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-11-28T14:07:04:000000"
VERSION = "1.38.0"
DESCRIPTION = "oversight: lookup indexes, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="oversight", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={"policy_case": [("tenant_id", "policy", "case")]},
        plain={
            "index_snapshot": [("tenant_id", "month", "department")],
            "survey_input": [("tenant_id", "period", "indicator")],
            "policy": [("tenant_id", "status")],
        },
    )
    return manager
