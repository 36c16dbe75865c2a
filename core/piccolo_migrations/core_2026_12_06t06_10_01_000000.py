from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-12-06T06:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency keys: one per user and key (a raw step runs before a migration's tables)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    indexes_step(manager, unique={"idempotency_key": [("tenant_id", "user", "key")]})
    return manager
