"""Row-level security on PostgreSQL: bypassing the scoped layer still reads nothing of another
tenant; the application's login cannot become anyone else, and cannot read password hashes."""

import os
import re

import pytest

from tests.helpers import in_tenant

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="row-level security is a PostgreSQL feature; this runs in the PostgreSQL pass of .ci/run",
)


async def test_raw_sql_inside_a_tenant_sees_only_that_tenant():
    from piccolo.engine import engine_finder

    from tenants.registry import load_tenant

    luqiao = await load_tenant("luqiao")
    engine = engine_finder()
    async with in_tenant("jiaojiang") as jiaojiang:
        conn = engine.current_transaction.get().connection
        assert await conn.fetchval("SELECT current_user") == "qinqing_app"
        tenants = {r["tenant_id"] for r in await conn.fetch("SELECT tenant_id FROM department")}
        assert tenants == {jiaojiang.id}
        assert await conn.fetchval("SELECT count(*) FROM membership WHERE tenant_id = $1", luqiao.id) == 0
        # Writing into another tenant is refused by the policy's check.
        savepoint = await engine.current_transaction.get().savepoint()
        with pytest.raises(Exception) as info:
            await conn.execute("INSERT INTO department (tenant_id, code, name_zh, name_en) VALUES ($1, 'x', 'x', 'x')",
                               luqiao.id)
        assert "row-level security" in str(info.value)
        await savepoint.rollback_to()
        assert await conn.fetchval("SELECT current_setting('app.tenant_id')") == str(jiaojiang.id)


async def test_without_a_tenant_nothing_is_visible():
    import asyncpg
    from piccolo.engine import engine_finder

    conn = await asyncpg.connect(**engine_finder().config)
    try:
        assert await conn.fetchval("SELECT current_user") == "qinqing_app"
        assert await conn.fetchval("SELECT count(*) FROM department") == 0
        assert await conn.fetchval("SELECT count(*) FROM web_session") == 0
        # The registry itself is not tenant data.
        assert await conn.fetchval("SELECT count(*) FROM tenant") >= 3
    finally:
        await conn.close()


async def test_a_statement_alone_sees_its_tenant_only_from_its_setting_on():
    """What a reading page's one statement relies on (`core.scope.DeferredTenantTransaction`):
    a select list is evaluated in order, so reads after `set_config` see the tenant; reads before
    it see nothing (never another tenant's rows); the setting ends with the statement."""
    import asyncpg
    from piccolo.engine import engine_finder

    from tenants.registry import load_tenant

    luqiao = await load_tenant("luqiao")
    conn = await asyncpg.connect(**engine_finder().config)
    try:
        seen = await conn.fetchrow("SELECT set_config('app.tenant_id', $1, true), "
                                   "ARRAY(SELECT DISTINCT tenant_id FROM department) AS tenants", str(luqiao.id))
        assert seen["tenants"] == [luqiao.id]
        before = await conn.fetchrow("SELECT ARRAY(SELECT DISTINCT tenant_id FROM department) AS tenants, "
                                     "set_config('app.tenant_id', $1, true)", str(luqiao.id))
        assert before["tenants"] == []
        assert await conn.fetchval("SELECT count(*) FROM department") == 0
    finally:
        await conn.close()


def _owner_config() -> dict:
    from core.config import get_settings
    from core.pg_logins import owner_login

    return owner_login(get_settings()).asyncpg_config()


async def _app_connection():
    import asyncpg
    from piccolo.engine import engine_finder

    return await asyncpg.connect(**engine_finder().config)


async def test_the_owner_sees_the_rows_that_the_app_role_cannot():
    import asyncpg

    conn = await asyncpg.connect(**_owner_config())
    try:
        forced = await conn.fetchval("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'department'")
        assert forced is True
        owner = await conn.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'department'")
        assert owner != "qinqing_app"
    finally:
        await conn.close()


async def test_a_pooled_connection_comes_back_without_the_last_requests_tenant(app, client):
    """Pooled connections go back without asyncpg's reset query (`core.db.start_pool`): the tenant
    is set transaction-locally, so none survives a request."""
    from core.db import close_pool, current_engine, start_pool
    from tests.helpers import token_for

    token = await token_for("dispatcher@luqiao", "luqiao")
    await start_pool()  # as `qinqing serve` runs (the test app runs without a pool)
    try:
        for _ in range(3):
            response = await client.get("/t/luqiao/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
        pool = current_engine().pool
        connections = [await pool.acquire() for _ in range(pool.get_size())]  # every connection the pool holds
        try:
            for connection in connections:
                assert not await connection.fetchval("SELECT current_setting('app.tenant_id', true)")
                assert await connection.fetchval("SELECT count(*) FROM case_file") == 0  # RLS: no tenant, no rows
        finally:
            for connection in connections:
                await pool.release(connection)
    finally:
        await close_pool()



def _statements_sent(monkeypatch) -> list[str]:
    """Every statement asyncpg sends from now on (a simple-protocol message counts once)."""
    from asyncpg.connection import Connection

    asked: list[str] = []
    for name in ("execute", "_execute"):
        original = getattr(Connection, name)

        async def counted(self, query, *args, _original=original, _name=name, **kwargs):
            if _name == "_execute" or not args:
                asked.append(query)
            return await _original(self, query, *args, **kwargs)

        monkeypatch.setattr(Connection, name, counted)
    return asked


async def test_a_case_page_asks_postgresql_once(app, monkeypatch):
    """Round trips are the case page's main cost.  A reading scope begins no transaction until a
    statement needs one (`core.scope.DeferredTenantTransaction`), and the page makes all its reads
    in one statement (`core.prepared.together`): the tenant set for row-level security and the
    kept tenant checked in its first columns, then the case (the dispatcher sees every case, so no
    visibility check comes first) with its page, timeline and records.  No BEGIN, no COMMIT."""
    from core.db import close_pool, start_pool
    from tests.cases_helpers import Api
    from tests.helpers import Browser

    asked = _statements_sent(monkeypatch)
    await start_pool()
    browser = Browser(app)
    try:
        assert (await browser.login("dispatcher@luqiao", "luqiao")).status_code in (302, 303)
        case_id = (await Api(app, "luqiao").submit())["id"]  # a new case: no refusal or objection to look up
        for _ in range(2):  # the second time with every statement already prepared
            asked.clear()
            page = await browser.get(f"/t/luqiao/cases/{case_id}")
            assert page.status_code == 200 and "办理记录" in page.text and "基准" not in page.text
        assert len(asked) == 1 and asked[0].startswith("SELECT set_config('app.tenant_id'"), \
            "\n".join(q[:80] for q in asked)
    finally:
        await browser.close()
        await close_pool()


async def test_the_filtered_console_asks_postgresql_once_until_the_record_moves(app, monkeypatch):
    """Reloaded with nothing changed: one statement, with the tenant set and the kept tenant
    checked in it, reads the kept page's rows, latest events, filter choices and the chain head —
    the page's ids and its total are kept until the head moves; no BEGIN, no COMMIT.  A case filed
    in between moves the head: the reload begins a transaction, finds the ids again (an index
    walk), reads their rows and counts again: six statements.  The total shows the case."""
    from core.db import close_pool, start_pool
    from tests.cases_helpers import Api
    from tests.helpers import Browser

    asked = _statements_sent(monkeypatch)
    await start_pool()
    browser = Browser(app)
    try:
        assert (await browser.login("dispatcher@luqiao", "luqiao")).status_code in (302, 303)
        url = "/t/luqiao/cases?status=open&sort=due"
        first = await browser.get(url)
        for _ in range(2):  # the second time with every statement prepared and the page kept
            asked.clear()
            page = await browser.get(url)
            assert page.status_code == 200
        assert len(asked) == 1, "\n".join(q[:80] for q in asked)
        total = re.compile(r'id="case-count">\D*([\d,]+)')
        before = int(total.search(first.text).group(1).replace(",", ""))
        await Api(app, "luqiao").submit()
        asked.clear()
        after = await browser.get(url)
        assert len(asked) == 6, "\n".join(q[:80] for q in asked)
        assert int(total.search(after.text).group(1).replace(",", "")) == before + 1
    finally:
        await browser.close()
        await close_pool()


async def test_a_submission_asks_postgresql_four_times(app, monkeypatch):
    """BEGIN with the tenant set and the kept tenant's version checked (the token with its holder's
    memberships is kept while that stays: `core.auth_cache`); the category, the company, the new case's
    id, the dispatchers and the chain head's next number in one statement; the case, its event with
    the head's new hash, its tally row and its notices in the outbox in one statement (the answer
    is made of what was written); COMMIT."""
    from core.db import close_pool, start_pool
    from tests.cases_helpers import Api

    asked = _statements_sent(monkeypatch)
    await start_pool()
    api = Api(app, "luqiao")
    try:
        for _ in range(2):  # the second time with the token issued and every statement prepared
            asked.clear()
            case = await api.submit()
        assert case["status"] == "submitted"
        assert len(asked) == 4, "\n".join(q[:80] for q in asked)
    finally:
        await close_pool()


# -- the application's login (core.pg_logins, core.rls, core.grants) ------------------------------

async def test_the_application_logs_in_as_a_plain_role_that_owns_nothing():
    conn = await _app_connection()
    try:
        assert await conn.fetchval("SELECT session_user") == "qinqing_app"
        role = await conn.fetchrow("SELECT * FROM pg_roles WHERE rolname = session_user")
        assert not (role["rolsuper"] or role["rolbypassrls"] or role["rolcreaterole"] or role["rolcreatedb"])
        assert await conn.fetchval("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                                   "WHERE r.rolname = session_user") == 0  # a member of no other role
        owned = await conn.fetchval(
            "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) + (SELECT count(*) FROM pg_proc WHERE "
            "proowner = r.oid) + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) "
            "FROM pg_roles r WHERE r.rolname = session_user")
        assert owned == 0
        with pytest.raises(Exception, match="permission denied"):
            await conn.execute("CREATE TABLE mine (id integer)")
    finally:
        await conn.close()


async def test_reset_role_or_set_role_cannot_widen_what_the_application_sees():
    import asyncpg

    from tenants.registry import load_tenant

    luqiao, jiaojiang = await load_tenant("luqiao"), await load_tenant("jiaojiang")
    conn = await _app_connection()
    try:
        await conn.execute("RESET ROLE")  # back to the login itself: no wider
        assert await conn.fetchval("SELECT current_user") == "qinqing_app"
        assert await conn.fetchval("SELECT count(*) FROM department") == 0
        for statement in ("SET ROLE postgres", "SET SESSION AUTHORIZATION postgres", "SET ROLE pg_read_all_data"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(jiaojiang.id))
            await conn.execute("RESET ROLE")
            tenants = {r["tenant_id"] for r in await conn.fetch("SELECT tenant_id FROM department")}
            assert tenants == {jiaojiang.id}
            assert await conn.fetchval("SELECT count(*) FROM membership WHERE tenant_id = $1", luqiao.id) == 0
    finally:
        await conn.close()


async def test_password_hashes_are_refused_to_the_application_but_one_users_through_the_function():
    import asyncpg

    conn = await _app_connection()
    try:
        for query in ("SELECT password_hash FROM app_user", "SELECT * FROM app_user",
                      "SELECT u.username FROM app_user u WHERE u.password_hash LIKE '$argon2%'"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(query)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE app_user SET password_hash = 'x' WHERE username = 'dispatcher@luqiao'")
        assert await conn.fetchval("SELECT count(username) FROM app_user") > 0  # the other columns are readable
        one = await conn.fetchval("SELECT app_user_password_hash('dispatcher@luqiao')")
        assert one.startswith("$argon2")
        assert await conn.fetchval("SELECT app_user_password_hash('nobody@nowhere')") is None
    finally:
        await conn.close()


async def test_the_tables_outside_row_level_security_get_only_what_is_declared():
    from core.grants import GLOBAL_TABLES
    from core.rls import global_tables

    conn = await _app_connection()
    try:
        for name, grant in GLOBAL_TABLES.items():
            if name not in global_tables():
                continue
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"):
                granted = await conn.fetchval("SELECT has_table_privilege($1, $2)", name, privilege)
                assert granted == (privilege in grant.privileges), (name, privilege)
        assert not await conn.fetchval("SELECT has_table_privilege('migration', 'SELECT')")
    finally:
        await conn.close()


async def test_login_works_end_to_end_as_the_application_role(app):
    from core.passwords import user_for_login
    from tests.helpers import Browser

    user = await user_for_login("dispatcher@luqiao")
    assert user is not None and user.password_hash.startswith("$argon2") and user.username == "dispatcher@luqiao"
    assert await user_for_login("nobody@nowhere") is None
    browser = Browser(app)
    try:
        assert (await browser.login("dispatcher@luqiao", "luqiao")).status_code in (302, 303)
        assert (await browser.get("/t/luqiao/")).status_code == 200
        assert (await browser.login("handler@luqiao", "luqiao", password="wrong-Pass-2026")).status_code == 401
    finally:
        await browser.close()

