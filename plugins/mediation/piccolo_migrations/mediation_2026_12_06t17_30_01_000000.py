from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-12-06T17:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "mediation: a referral's file kept once per message, found by the referral's key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mediation", description=DESCRIPTION)
    indexes_step(manager, unique={"mediation_file": [("tenant_id", "message_key")]},
                 plain={"mediation_file": [("tenant_id", "referral_key")]})
    return manager
