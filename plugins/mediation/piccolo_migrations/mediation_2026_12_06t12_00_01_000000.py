from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-12-06T12:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "mediation: one counter per court and year, one referral per key, a crossed message applied once"

STATEMENTS = ('CREATE UNIQUE INDEX IF NOT EXISTS "uq_mediation_dispute_referral" ON "mediation_dispute" '
              '("tenant_id", "referral_key") WHERE "referral_key" <> \'\'',)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mediation", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={
            "mediation_counter": [("tenant_id", "year")],
            "mediation_referral": [("tenant_id", "key")],
            "mediation_link_message": [("tenant_id", "key", "direction")],
        },
        plain={"mediation_referral": [("tenant_id", "case")]},
    )

    async def partial():
        from piccolo.engine import engine_finder

        for statement in STATEMENTS:
            await engine_finder().run_ddl(statement, in_pool=False)

    manager.add_raw(partial)
    return manager
