from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one sign-off per level of a refusal; at most one pending refusal, extension, objection per case"

# Partial unique indexes (both engines): the database refuses a doubled step even if code would not.
STATEMENTS = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_sign_off_refusal_level" ON "sign_off" ("refusal", "level")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_refusal_pending_case" ON "refusal" ("case") WHERE "status" = \'pending\'',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_extension_pending_case" ON "extension" ("case") WHERE "status" = \'pending\'',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_objection_pending_case" ON "objection" ("case") WHERE "status" = \'pending\'',
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from piccolo.engine import engine_finder

        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement, in_pool=False)

    manager.add_raw(create)
    return manager
