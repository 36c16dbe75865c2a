from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-12-06T12:20:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "cadre: one publicity per application and per sheet; lookups of publicity and objections, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cadre", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={"cadre_publicity": [("tenant_id", "application"), ("tenant_id", "sheet")]},
        plain={"cadre_publicity": [("tenant_id", "status", "ends_on")],
               "cadre_objection": [("tenant_id", "publicity", "status"), ("tenant_id", "status"),
                                   ("tenant_id", "client", "created_at")]},
    )
    return manager
