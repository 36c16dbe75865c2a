"""Row-level security and the application role on PostgreSQL: the second wall behind the scoped layer.

`qinqing migrate` (logged in as the owner) calls `apply_rls` after the migrations.  It makes the
application role a login that is no superuser, bypasses no row-level security, owns nothing and is
a member of no other role (so `RESET ROLE` returns to it and `SET ROLE` to anyone else is refused);
grants it SELECT, INSERT, UPDATE, DELETE on every table with a `tenant_id` (except the system
tables) and enables and forces RLS there with a policy comparing `tenant_id` to
`current_setting('app.tenant_id')`; gives the tables without RLS only what `core.grants` lists;
and creates the password-hash function of `core.passwords`.  Idempotent.
"""

from __future__ import annotations

import asyncio
import logging

from piccolo.conf.apps import Finder

from core.grants import GLOBAL_TABLES, TENANT_PRIVILEGES, Grant, grant_statements, quoted
from core.passwords import DEFINE_FUNCTION, FUNCTION
from core.scope import is_tenant_owned
from core.tables import SYSTEM_TABLES

log = logging.getLogger(__name__)


def tenant_tables() -> list[str]:
    names = []
    for table in Finder().get_table_classes():
        name = table._meta.tablename
        if is_tenant_owned(table) and name not in SYSTEM_TABLES:
            names.append(name)
    return sorted(set(names))


def global_tables() -> dict[str, list[str]]:
    """Every table outside row-level security, with its columns."""
    protected = set(tenant_tables())
    return {t._meta.tablename: [c._meta.db_column_name for c in t._meta.columns]
            for t in Finder().get_table_classes() if t._meta.tablename not in protected}


async def apply_rls(conn, app_role: str, password: str | None = None) -> list[str]:
    """Run as the owner on an asyncpg connection; returns the tables now protected.  `password`,
    if given, becomes the application role's login password."""
    role = quoted(app_role)
    await _ensure_login(conn, app_role, password)
    tables = tenant_tables()
    for name in tables:  # the policies before the privileges; a transaction per table locks it briefly
        table = quoted(name)
        async with conn.transaction():
            await conn.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            await conn.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            await conn.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
            await conn.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING "
                f"(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer) "
                f"WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer)"
            )
    async with conn.transaction():  # the application never sees the privileges half-granted
        await conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        await conn.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
        await conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        grants = {name: Grant(TENANT_PRIVILEGES, "row-level security") for name in tables}
        columns_of = global_tables()
        for name, columns in columns_of.items():
            grant = GLOBAL_TABLES.get(name)
            if grant is None:
                log.warning("table %s is outside row-level security and has no entry in core.grants: "
                            "the application gets every privilege on it", name)
                grant = Grant(TENANT_PRIVILEGES, "undeclared")
            grants[name] = grant
        for name, grant in grants.items():
            for statement in grant_statements(name, columns_of.get(name, []), grant, role):
                await conn.execute(statement)
            if "INSERT" in grant.privileges:  # ids come from the table's sequence
                sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", quoted(name))
                if sequence:
                    await conn.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {role}")
        await conn.execute(DEFINE_FUNCTION)
        await conn.execute(f"REVOKE ALL ON FUNCTION public.{FUNCTION}(text) FROM PUBLIC")
        await conn.execute(f"GRANT EXECUTE ON FUNCTION public.{FUNCTION}(text) TO {role}")
    return tables


async def _ensure_login(conn, app_role: str, password: str | None) -> None:
    """The role as a plain login, member of nothing.  Roles belong to the whole server, so two
    installations migrating at once may race on it: a clash is retried."""
    role = quoted(app_role)
    for attempt in range(5):
        try:
            found = await conn.fetchrow("SELECT rolcanlogin, rolsuper OR rolcreatedb OR rolcreaterole OR "
                                        "rolreplication OR rolbypassrls AS wider FROM pg_roles WHERE rolname = $1",
                                        app_role)
            if found is None:  # the defaults: no superuser, no bypass, no role or database creation
                await conn.execute(f"CREATE ROLE {role} LOGIN")
            elif found["wider"]:
                await conn.execute(f"ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                                   "NOBYPASSRLS")
            elif not found["rolcanlogin"]:  # made NOLOGIN by an earlier version
                await conn.execute(f"ALTER ROLE {role} LOGIN")
            if password is not None:
                literal = await conn.fetchval("SELECT quote_literal($1)", password)
                await conn.execute(f"ALTER ROLE {role} PASSWORD {literal}")
            for (granted,) in await conn.fetch(
                    "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                    "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1", app_role):
                await conn.execute(f"REVOKE {quoted(granted)} FROM {role}")
            return
        except Exception as exc:  # noqa: BLE001 - duplicate role or "tuple concurrently updated"
            import asyncpg

            if attempt == 4 or not isinstance(exc, (asyncpg.DuplicateObjectError, asyncpg.InternalServerError,
                                                    asyncpg.UniqueViolationError)):
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
