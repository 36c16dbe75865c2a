"""Behind PgBouncer in transaction pooling (连接池): one server session serves many tenants' transactions
in turn, and none of them sees another's rows — the tenant is set per transaction, never per session.

Runs in the "replica + PgBouncer" stage of .ci/run (`.ci/replica`), where TEST_DATABASE_URL names
the pooler and DATABASE_POOLER=transaction."""

import asyncio
import os

import pytest

POOLER_PORT = os.environ.get("QINQING_TEST_POOLER_PORT", "")

pytestmark = pytest.mark.skipif(
    not (POOLER_PORT and os.environ.get("DATABASE_POOLER") == "transaction"
         and f":{POOLER_PORT}/" in os.environ.get("DATABASE_URL", "")),
    reason="needs PgBouncer in transaction pooling in front of PostgreSQL: the replica + PgBouncer stage "
           "of .ci/run (.ci/replica)",
)


async def _what_one_transaction_sees(tenant) -> tuple[int, set[int], str]:
    """The server session's pid, the tenants whose cases it can read, and its tenant setting."""
    from core.db import current_engine
    from tenants.scope import tenant_scope

    engine = current_engine()
    async with tenant_scope(tenant, write=False):
        connection = engine.current_transaction.get().connection
        pid = await connection.fetchval("SELECT pg_backend_pid()")
        await asyncio.sleep(0.005)  # let the other tenant's transactions run meanwhile
        seen = {row["tenant_id"] for row in await connection.fetch("SELECT DISTINCT tenant_id FROM case_file")}
        setting = await connection.fetchval("SELECT current_setting('app.tenant_id', true)")
    return pid, seen, setting


async def test_interleaved_tenants_through_the_pooler_see_only_their_own_rows():
    from core.db import current_engine
    from tenants.registry import load_tenant

    assert current_engine().config.get("statement_cache_size") == 0
    luqiao, jiaojiang = await load_tenant("luqiao"), await load_tenant("jiaojiang")
    tenants = [luqiao, jiaojiang] * 30
    results = await asyncio.gather(*(_what_one_transaction_sees(tenant) for tenant in tenants))
    sessions: dict[int, set[int]] = {}
    for tenant, (pid, seen, setting) in zip(tenants, results):
        assert seen == {tenant.id}, f"{tenant.slug} saw the cases of tenants {seen}"
        assert setting == str(tenant.id)
        sessions.setdefault(pid, set()).add(tenant.id)
    # the pooler handed one server session to both tenants in turn (else this proved nothing)
    assert any(len(ids) == 2 for ids in sessions.values()), sessions


async def test_after_a_tenants_transaction_the_pooled_session_knows_no_tenant():
    import asyncpg

    from core.db import current_engine
    from tenants.registry import load_tenant

    engine = current_engine()
    await _what_one_transaction_sees(await load_tenant("luqiao"))
    connection = await asyncpg.connect(**engine.config)
    try:
        for _ in range(20):  # whichever server session the pooler gives, the last tenant is gone
            async with connection.transaction():
                assert await connection.fetchval("SELECT current_setting('app.tenant_id', true)") in (None, "")
                assert await connection.fetchval("SELECT count(*) FROM case_file") == 0
    finally:
        await connection.close()

