from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T12:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "bulk re-dispatch: one batch per key, a case once per batch"

# The same batch sent twice is one batch; a case is in a batch once (even when two requests race).
UNIQUE = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_redispatch_batch_key" ON "redispatch_batch" ("tenant_id", "key")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uq_redispatch_item_case" ON "redispatch_item" ("tenant_id", "batch", "case")',
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from piccolo.engine import engine_finder

        for ddl in UNIQUE:
            await engine_finder().run_ddl(ddl, in_pool=False)

    manager.add_raw(create)
    return manager
