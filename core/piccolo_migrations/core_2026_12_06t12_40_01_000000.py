from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T12:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "one advance (先垫资) per case"

# The database refuses a second advance on a case even when two requests race.
UNIQUE = 'CREATE UNIQUE INDEX IF NOT EXISTS "uq_case_advance_case" ON "case_advance" ("tenant_id", "case")'


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from piccolo.engine import engine_finder

        await engine_finder().run_ddl(UNIQUE, in_pool=False)

    manager.add_raw(create)
    return manager
