from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T23:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant.auth_version: raised by any change to what a request is authenticated with"

# PostgreSQL only (`core.auth_cache` keeps nothing on SQLite).  Every process keeps tenants and API
# tokens between requests and checks them against the tenant's auth_version, which these triggers
# raise in the transaction of any change that could alter them — by the application or by hand.
STATEMENTS = [
    'ALTER TABLE "tenant" ADD COLUMN IF NOT EXISTS "auth_version" bigint NOT NULL DEFAULT 0',
    # Any change to the tenant row (active, plugins, settings, …) that does not set the version itself.
    """CREATE OR REPLACE FUNCTION tenant_auth_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.auth_version = OLD.auth_version THEN
        NEW.auth_version := OLD.auth_version + 1;
    END IF;
    RETURN NEW;
END $$""",
    'DROP TRIGGER IF EXISTS tenant_auth_version ON "tenant"',
    'CREATE TRIGGER tenant_auth_version BEFORE UPDATE ON "tenant" FOR EACH ROW '
    "EXECUTE FUNCTION tenant_auth_version_bump()",
    # A row of a tenant table the authentication reads: its tenant's version (old and new tenant).
    """CREATE OR REPLACE FUNCTION tenant_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE tenant SET auth_version = auth_version + 1 WHERE id = OLD.tenant_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
        UPDATE tenant SET auth_version = auth_version + 1 WHERE id = NEW.tenant_id;
    END IF;
    RETURN NULL;
END $$""",
    'DROP TRIGGER IF EXISTS api_token_auth_version ON "api_token"',
    # Not on INSERT (a new token is read when first used) nor on last_used_at (bookkeeping).
    'CREATE TRIGGER api_token_auth_version AFTER UPDATE OF revoked_at, token_hash, "user", tenant_id OR DELETE '
    'ON "api_token" FOR EACH ROW EXECUTE FUNCTION tenant_auth_changed()',
    'DROP TRIGGER IF EXISTS membership_auth_version ON "membership"',
    'CREATE TRIGGER membership_auth_version AFTER INSERT OR UPDATE OR DELETE ON "membership" FOR EACH ROW '
    "EXECUTE FUNCTION tenant_auth_changed()",
    # Users are global: a change to what a request keeps of one raises every tenant's version, once
    # per statement (a batch of users changed at once costs one pass), the rows locked in id order
    # (two such changes at once wait for each other, never deadlock).
    """CREATE OR REPLACE FUNCTION app_user_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM auth_old o JOIN auth_new n ON n.id = o.id
               WHERE (o.username, o.display_name, o.locale, o.active, o.is_system_admin)
                     IS DISTINCT FROM (n.username, n.display_name, n.locale, n.active, n.is_system_admin)) THEN
        UPDATE tenant SET auth_version = auth_version + 1
        WHERE id IN (SELECT id FROM tenant ORDER BY id FOR NO KEY UPDATE);
    END IF;
    RETURN NULL;
END $$""",
    'DROP TRIGGER IF EXISTS app_user_auth_version ON "app_user"',
    'CREATE TRIGGER app_user_auth_version AFTER UPDATE ON "app_user" REFERENCING OLD TABLE AS auth_old '
    "NEW TABLE AS auth_new FOR EACH STATEMENT EXECUTE FUNCTION app_user_auth_changed()",
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
