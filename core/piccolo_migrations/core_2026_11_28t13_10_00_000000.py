from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import unique_keys_step

ID = "2026-11-28T13:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique keys (as unique indexes, portable to SQLite)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    unique_keys_step(manager, {
        "department": ("tenant_id", "code"),
        "section": ("tenant_id", "department", "code"),
        "category": ("tenant_id", "code"),
        "membership": ("tenant_id", "user", "role"),
        "notification": ("tenant_id", "source", "user"),
        "scheduler_run": ("job", "slot"),
    })
    return manager
