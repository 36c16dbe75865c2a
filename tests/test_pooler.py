"""Behind PgBouncer in transaction pooling (连接池): one server session serves many tenants' transactions
in turn, and none of them sees another's rows — the tenant is set per transaction, never per session.

Runs in the "replica + PgBouncer" stage of .ci/run (`.ci/replica`), where TEST_DATABASE_URL names
the pooler: PgBouncer 1.18 with DATABASE_POOLER=transaction (asyncpg's statement cache off), then
PgBouncer 1.24 (`max_prepared_statements = 200`) with DATABASE_POOLER=transaction-prepared (on)."""

import asyncio
import csv
import os
import subprocess

import pytest

POOLER_PORT = os.environ.get("QINQING_TEST_POOLER_PORT", "")
POOLER_MODE = os.environ.get("DATABASE_POOLER", "none")

pytestmark = pytest.mark.skipif(
    not (POOLER_PORT and POOLER_MODE in ("transaction", "transaction-prepared")
         and f":{POOLER_PORT}/" in os.environ.get("DATABASE_URL", "")),
    reason="needs PgBouncer in transaction pooling in front of PostgreSQL: the replica + PgBouncer stage "
           "of .ci/run (.ci/replica)",
)
prepared_only = pytest.mark.skipif(POOLER_MODE != "transaction-prepared",
                                   reason="DATABASE_POOLER=transaction-prepared (PgBouncer ≥ 1.21) only")


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

    # the statement cache off with PgBouncer 1.18, asyncpg's default (on) with ≥ 1.21
    assert current_engine().config.get("statement_cache_size") == (0 if POOLER_MODE == "transaction" else None)
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



def _pooler_stats(database: str) -> dict[str, int]:
    """The pooler's running totals for `database` (its admin console's `SHOW STATS`)."""
    done = subprocess.run(["psql", "-h", "127.0.0.1", "-p", POOLER_PORT, "-U", "postgres", "-d", "pgbouncer",
                           "--csv", "-c", "SHOW STATS"], capture_output=True, text=True, check=True)
    row = next(row for row in csv.DictReader(done.stdout.splitlines()) if row["database"] == database)
    return {name: int(row[name]) for name in ("total_xact_count", "total_client_parse_count",
                                              "total_server_parse_count", "total_bind_count")}


@prepared_only
async def test_with_prepared_statements_kept_each_statement_is_parsed_once_per_connection():
    """asyncpg's cache is really on and the pooler really carries its statements: 60 transactions of
    three statements each bind named statements 180 times, while the client side parses each at
    most once per pooled connection and the server side at most once per server session."""
    from core.db import POOL_SIZE, check_reachable, close_pool, current_engine, start_pool
    from tenants.registry import load_tenant

    engine = current_engine()
    await check_reachable(engine)  # the start-up check: the pooler renames named statements
    tenants = [await load_tenant("luqiao"), await load_tenant("jiaojiang")] * 30
    own_pool = engine.pool is None  # as `qinqing serve` runs: asyncpg's cache lives per pooled connection
    if own_pool:
        await start_pool()
    try:
        await asyncio.gather(*(_what_one_transaction_sees(tenant) for tenant in tenants[:2]))
        before = _pooler_stats(engine.config["database"])
        results = await asyncio.gather(*(_what_one_transaction_sees(tenant) for tenant in tenants))
        after = _pooler_stats(engine.config["database"])
        # none of it is on a server session under asyncpg's own names
        async with engine.transaction() as transaction:
            names = [row["name"] for row in await transaction.connection.fetch(
                "SELECT name FROM pg_prepared_statements")]
    finally:
        if own_pool:
            await close_pool()
    delta = {name: after[name] - before[name] for name in after}
    sessions = {pid for pid, _, _ in results}
    assert delta["total_xact_count"] >= len(tenants)
    assert delta["total_bind_count"] >= 3 * len(tenants), delta  # 0 with the cache off: unnamed
    assert delta["total_client_parse_count"] <= 3 * POOL_SIZE, delta  # asyncpg's cache hit
    assert delta["total_server_parse_count"] <= 3 * len(sessions), delta
    assert names and all(name.startswith("PGBOUNCER_") for name in names), names
