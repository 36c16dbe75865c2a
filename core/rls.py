"""Row-level security on PostgreSQL: the second wall behind the scoped layer.

`qinqing migrate` (connected as the owner) calls `apply_rls` after the migrations: it creates
the application role (owning nothing), grants it data access, and on every table with a
`tenant_id` (except the system tables) enables and forces RLS with a policy comparing
`tenant_id` to `current_setting('app.tenant_id')`.  Idempotent.
"""

from __future__ import annotations

from piccolo.conf.apps import Finder

from core.tables import SYSTEM_TABLES
from tenants.scope import is_tenant_owned


def tenant_tables() -> list[str]:
    names = []
    for table in Finder().get_table_classes():
        name = table._meta.tablename
        if is_tenant_owned(table) and name not in SYSTEM_TABLES:
            names.append(name)
    return sorted(set(names))


async def apply_rls(conn, app_role: str) -> list[str]:
    """Run as the owner on an asyncpg connection; returns the tables now protected."""
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", app_role)
    role = '"' + app_role.replace('"', '""') + '"'
    if not exists:
        await conn.execute(f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS")
    await conn.execute(f"GRANT {role} TO CURRENT_USER")
    await conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    await conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    await conn.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    tables = tenant_tables()
    for name in tables:
        quoted = '"' + name + '"'
        await conn.execute(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY")
        await conn.execute(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY")
        await conn.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {quoted}")
        await conn.execute(
            f"CREATE POLICY tenant_isolation ON {quoted} USING "
            f"(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer) "
            f"WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer)"
        )
    return tables
