from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T03:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant.auth_version: raised when a login session is ended or changed"

# PostgreSQL only, as `core_2026_12_06t23_30_00`: processes now keep login sessions too
# (`core.auth_cache`).  A new session changes nothing kept, so only a delete (logout, expiry, a user
# or tenant removed) or an update raises the version: once per statement and tenant.
STATEMENTS = [
    """CREATE OR REPLACE FUNCTION web_session_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant SET auth_version = auth_version + 1
    WHERE id IN (SELECT id FROM tenant WHERE id IN (SELECT tenant_id FROM auth_old) ORDER BY id FOR NO KEY UPDATE);
    RETURN NULL;
END $$""",
    'DROP TRIGGER IF EXISTS web_session_deleted_auth_version ON "web_session"',
    'CREATE TRIGGER web_session_deleted_auth_version AFTER DELETE ON "web_session" REFERENCING OLD TABLE AS auth_old '
    "FOR EACH STATEMENT EXECUTE FUNCTION web_session_auth_changed()",
    'DROP TRIGGER IF EXISTS web_session_updated_auth_version ON "web_session"',
    'CREATE TRIGGER web_session_updated_auth_version AFTER UPDATE ON "web_session" REFERENCING OLD TABLE AS auth_old '
    "FOR EACH STATEMENT EXECUTE FUNCTION web_session_auth_changed()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from piccolo.engine import engine_finder

        engine = engine_finder()
        if engine is None or engine.engine_type != "postgres":
            return
        for statement in STATEMENTS:
            await engine.run_ddl(statement, in_pool=False)

    manager.add_raw(create)
    return manager
