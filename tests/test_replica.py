"""Reads on a streaming replica (只读副本): the big screen, exports and Open311's reads answered by
the replica; a user's own write read back from the primary; a stopped or lagging replica skipped
with no error; row-level security on the replica; the replica on the system console.

Runs in the "replica + PgBouncer" stage of .ci/run (`.ci/replica`), which starts a replica of the
test cluster on QINQING_TEST_REPLICA_PORT with pg_basebackup."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

import httpx
import pytest

from tests.conftest import ROOT
from tests.helpers import Browser, in_tenant, token_for

REPLICA_PORT = os.environ.get("QINQING_TEST_REPLICA_PORT", "")
pytestmark = pytest.mark.skipif(
    not (REPLICA_PORT and os.environ.get("DATABASE_URL", "").startswith("postgres")),
    reason="needs a streaming replica of the PostgreSQL test cluster: the replica + PgBouncer stage of "
           ".ci/run (.ci/replica)",
)
BASE = "/t/luqiao/open311/v2"


async def _superuser():
    import asyncpg

    return await asyncpg.connect(host="127.0.0.1", port=int(REPLICA_PORT or 0), user="postgres", database="postgres")


@pytest.fixture
async def replica():
    """The engine reads from the replica (max lag 1 hour unless a test lowers it)."""
    import asyncpg

    from core.db import current_engine
    from core.read_routing import set_replicas

    engine = current_engine()
    config = {**engine.config, "port": int(REPLICA_PORT)}
    for _ in range(100):  # the test database, created on the primary, reaches the replica
        try:
            connection = await asyncpg.connect(**config, timeout=2)
        except Exception:  # noqa: BLE001 - not replayed yet
            await asyncio.sleep(0.1)
        else:
            await connection.close()
            break
    set_replicas(engine, [("replica", config)], max_lag=3600)
    [state] = engine.replica_set.replicas
    yield state
    await _resume()
    await engine.replica_set.close()
    set_replicas(engine, [])


async def _pause() -> None:
    connection = await _superuser()
    try:
        await connection.execute("SELECT pg_wal_replay_pause()")
    finally:
        await connection.close()


async def _resume() -> None:
    try:
        connection = await _superuser()
    except OSError:
        return
    try:
        await connection.execute("SELECT pg_wal_replay_resume()")
    finally:
        await connection.close()


async def _caught_up(replica) -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    from core.db import current_engine

    engine = current_engine()
    import asyncpg

    primary = await asyncpg.connect(**engine.config)
    try:
        target = await primary.fetchval("SELECT pg_current_wal_lsn()::text")
    finally:
        await primary.close()
    connection = await _superuser()
    try:
        for _ in range(200):
            if await connection.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target):
                break
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    await current_engine().replica_set.check(replica, force=True)


async def _submit(title: str) -> int:
    """A case filed through Open311 by a client that keeps no cookies; its id."""
    token = await token_for("dispatcher@luqiao", "luqiao")
    async with _client() as client:
        response = await client.post(f"{BASE}/requests.json", data={
            "api_key": token, "service_code": "municipal", "address_string": "路桥区", "description": title,
            "attribute[title]": title})
    assert response.status_code == 200, response.text
    return int(response.json()[0]["service_request_id"])


_APP = None


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_APP), base_url="http://testserver")


@pytest.fixture(autouse=True)
def _app(app):
    global _APP
    _APP = app


async def _viewer(app) -> Browser:
    """The district's screen viewer, logged in, with the read-your-writes cookie of the login dropped."""
    b = Browser(app)
    response = await b.login("dispatcher@luqiao", "luqiao")
    assert response.status_code == 303
    b.client.cookies.delete("qinqing_wrote")
    return b


async def test_lag_tolerant_reads_are_answered_by_the_replica(app, replica):
    b = await _viewer(app)
    await _pause()
    title = f"副本之后 {time.time_ns()}"
    case_id = await _submit(title)

    before = replica.reads
    export = await b.get("/t/luqiao/exports/cases.csv")
    assert export.status_code == 200
    assert title not in export.text  # the replica has not replayed the new case
    listed = await b.client.get(f"{BASE}/requests.json")
    assert listed.status_code == 200 and case_id not in [r["service_request_id"] for r in listed.json()]
    screen = await b.get("/t/luqiao/screen/")
    assert screen.status_code == 200
    assert replica.reads >= before + 3
    # The big screen's figures and the index through the API, with a token made after the pause:
    # the replica does not know it yet, so its 401 is dropped and the primary answers.
    reads = replica.reads
    async with _client() as client:
        for path in ("/t/luqiao/api/v1/figures", "/t/luqiao/api/v1/index"):
            answer = await client.get(path, headers={"Authorization": f"Bearer {await token_for('dispatcher@luqiao', 'luqiao')}"})
            assert answer.status_code == 200, (path, answer.text)
    assert replica.reads >= reads + 2

    # Open311's read of the new request, by a client without cookies: the replica has no such row,
    # so its 404 is not sent; the primary answers.
    async with _client() as client:
        one = await client.get(f"{BASE}/requests/{case_id}.json")
    assert one.status_code == 200 and one.json()[0]["service_request_id"] == case_id

    await _resume()
    await _caught_up(replica)
    assert title in (await b.get("/t/luqiao/exports/cases.csv")).text


async def test_after_their_own_write_a_user_reads_the_primary(app, replica):
    b = await _viewer(app)
    await _pause()
    title = f"自己写的 {time.time_ns()}"
    submitted = await b.post("/t/luqiao/login", {"username": "dispatcher@luqiao", "password": "demo-Pass-2026"})
    assert submitted.status_code == 303 and "qinqing_wrote" in b.client.cookies  # a write: the cookie is set
    await _submit(title)  # what they wrote, in the same second, through the API
    before = replica.reads
    export = await b.get("/t/luqiao/exports/cases.csv")
    assert export.status_code == 200 and title in export.text  # the primary answered
    assert replica.reads == before

    b.client.cookies.delete("qinqing_wrote")  # the window over: the replica again, still paused
    assert title not in (await b.get("/t/luqiao/exports/cases.csv")).text
    assert replica.reads > before


async def test_a_lagging_replica_is_skipped(app, replica):
    from core.db import current_engine

    engine = current_engine()
    b = await _viewer(app)
    kept_lag = engine.replica_set.max_lag
    await _pause()
    try:
        title = f"落后的副本 {time.time_ns()}"
        await _submit(title)
        engine.replica_set.max_lag = 0.5
        await asyncio.sleep(1.0)
        await engine.replica_set.check(replica, force=True)
        assert replica.state == "lagging" and replica.lag > 0.5 and replica.paused

        before, fallbacks = replica.reads, engine.replica_set.fallbacks
        export = await b.get("/t/luqiao/exports/cases.csv")
        assert export.status_code == 200 and title in export.text
        assert replica.reads == before and engine.replica_set.fallbacks > fallbacks

        console = await _console(app)
        panel = (await console.get("/system/workers/")).text
        assert 'data-replica="replica"' in panel and 'data-replica-state="lagging"' in panel
    finally:
        # back to the fixture's limit: on a busy machine a caught-up replica may still be a
        # moment behind the primary's newest WAL, which a 0.5 s limit would call lagging
        engine.replica_set.max_lag = kept_lag
        await _resume()
    await _caught_up(replica)
    assert replica.state == "up"
    assert title in (await b.get("/t/luqiao/exports/cases.csv")).text and replica.reads > before


async def test_a_stopped_replica_is_skipped_with_no_error(app, replica):
    b = await _viewer(app)
    await b.get("/t/luqiao/screen/")
    assert replica.state == "up"
    _replica_ctl("stop-replica")
    try:
        title = f"副本停了 {time.time_ns()}"
        await _submit(title)
        for path in ("/t/luqiao/exports/cases.csv", "/t/luqiao/screen/", f"{BASE}/requests.json"):
            response = await b.get(path)
            assert response.status_code == 200, (path, response.status_code)
        assert title in (await b.get("/t/luqiao/exports/cases.csv")).text
        assert replica.state == "down"
        console = await _console(app)
        assert 'data-replica-state="down"' in (await console.get("/system/workers/")).text
    finally:
        _replica_ctl("start-replica")
    await _caught_up(replica)
    before = replica.reads
    assert (await b.get("/t/luqiao/screen/")).status_code == 200
    assert replica.state == "up" and replica.reads > before


async def test_with_the_connection_pools_running_reads_go_to_the_replica_pool(app, replica):
    """As `qinqing serve` runs: the primary's pool and one per replica, each connection given back
    to the pool it came from."""
    from core.db import close_pool, current_engine, start_pool

    b = await _viewer(app)
    await start_pool()
    try:
        before = replica.reads
        for _ in range(3):
            assert (await b.get("/t/luqiao/exports/cases.csv")).status_code == 200
        assert replica.pool is not None and replica.reads >= before + 3
        assert (await b.post("/t/luqiao/login", {"username": "dispatcher@luqiao",
                                                 "password": "demo-Pass-2026"})).status_code == 303
        assert current_engine().replica_set.replicas[0].pool.get_idle_size() >= 1
        # every replica connection busy: the read waits a moment, then the primary answers; not "down"
        held = [await replica.pool.acquire() for _ in range(replica.pool.get_max_size())]
        try:
            fallbacks = current_engine().replica_set.fallbacks
            b.client.cookies.delete("qinqing_wrote")
            assert (await b.get("/t/luqiao/exports/cases.csv")).status_code == 200
            await current_engine().replica_set.check(replica, force=True)
            assert current_engine().replica_set.fallbacks > fallbacks and replica.state == "up"
        finally:
            for connection in held:
                await replica.pool.release(connection)
    finally:
        await close_pool()
    assert replica.pool is None


async def test_row_level_security_holds_on_the_replica(replica):
    import asyncpg

    async with in_tenant("jiaojiang") as jiaojiang:
        pass
    connection = await asyncpg.connect(**replica.config)
    try:
        assert await connection.fetchval("SELECT current_user") == "qinqing_app"
        assert await connection.fetchval("SELECT pg_is_in_recovery()")
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.tenant_id', $1, true)", str(jiaojiang.id))
            seen = {r["tenant_id"] for r in await connection.fetch("SELECT DISTINCT tenant_id FROM case_file")}
            assert seen == {jiaojiang.id}
        assert await connection.fetchval("SELECT count(*) FROM case_file") == 0  # no tenant: nothing
    finally:
        await connection.close()


async def _console(app) -> Browser:
    b = Browser(app)
    await b.get("/system/login")
    response = await b.post("/system/login", {"username": "system_admin@luqiao", "password": "demo-Pass-2026"})
    assert response.status_code == 303
    return b


def _replica_ctl(action: str) -> None:
    subprocess.run([str(ROOT / ".ci" / "replica"), action], check=True, capture_output=True, timeout=120)
