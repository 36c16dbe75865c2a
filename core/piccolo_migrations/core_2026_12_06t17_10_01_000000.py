from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T17:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "a stored file's chunks are unique by (tenant, key, seq)"

# A file's chunks are read one at a time by (tenant, key, seq); a key holds each seq once.
UNIQUE = 'CREATE UNIQUE INDEX IF NOT EXISTS "uq_file_chunk_key_seq" ON "file_chunk" ("tenant_id", "key", "seq")'


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from piccolo.engine import engine_finder

        await engine_finder().run_ddl(UNIQUE, in_pool=False)

    manager.add_raw(create)
    return manager
