"""File storage (core.storage): both stores keep, stream, list and remove a tenant's files, and no
tenant reaches another's; on PostgreSQL row-level security guards the database store's rows."""

import hashlib
import os

import pytest

from core.errors import UserError
from core.storage import CHUNK_BYTES, FileMissing, FileTooLarge, file_store, get_file, new_key, put_file
from tests.helpers import in_tenant

STORES = ("local", "database")
BIG = os.urandom(CHUNK_BYTES * 2 + 1234)  # three chunks, the last one short


async def _chunks(stream):
    return [chunk async for chunk in stream]


@pytest.mark.parametrize("name", STORES)
async def test_a_store_keeps_streams_lists_and_removes_a_file(name):
    store, key = file_store(name), new_key()
    async with in_tenant("luqiao") as tenant:
        kept = await store.put(tenant, key, BIG)
        assert (kept.size, kept.sha256) == (len(BIG), hashlib.sha256(BIG).hexdigest())
        assert await store.exists(tenant, key) and key in await store.keys(tenant)
    chunks = await _chunks(await store.get(tenant, key))  # outside any transaction, chunk by chunk
    assert len(chunks) == 3 and max(map(len, chunks)) == CHUNK_BYTES and b"".join(chunks) == BIG
    async with in_tenant("luqiao"):
        assert await store.put(tenant, key, b"second") and await store.read(tenant, key) == b"second"
        assert await store.delete(tenant, key) and not await store.delete(tenant, key)
        assert not await store.exists(tenant, key) and key not in await store.keys(tenant)
        with pytest.raises(FileMissing):
            await store.get(tenant, key)


@pytest.mark.parametrize("name", STORES)
async def test_an_empty_file_exists_and_a_file_past_the_limit_leaves_nothing(name):
    store, empty, big = file_store(name), new_key(), new_key()
    async with in_tenant("luqiao") as tenant:
        await store.put(tenant, empty, b"")
        assert await store.exists(tenant, empty) and await store.read(tenant, empty) == b""
        with pytest.raises(FileTooLarge):
            await store.put(tenant, big, BIG, max_bytes=CHUNK_BYTES + 1)
    async with in_tenant("luqiao") as tenant:
        assert not await store.exists(tenant, big) and big not in await store.keys(tenant)


@pytest.mark.parametrize("name", STORES)
async def test_another_tenants_key_is_not_found(name):
    store, key = file_store(name), new_key()
    async with in_tenant("luqiao") as luqiao:
        await store.put(luqiao, key, b"luqiao's file")
    async with in_tenant("jiaojiang") as jiaojiang:
        assert not await store.exists(jiaojiang, key) and key not in await store.keys(jiaojiang)
        with pytest.raises(FileMissing):
            await store.get(jiaojiang, key)
        assert not await store.delete(jiaojiang, key)
    async with in_tenant("luqiao") as luqiao:
        assert await store.read(luqiao, key) == b"luqiao's file"


async def test_a_key_that_could_name_a_path_is_refused():
    async with in_tenant("luqiao") as tenant:
        for key in ("../secret_key", "a/b", "", "A" * 10, "x"):
            for name in STORES:
                with pytest.raises(ValueError):
                    await file_store(name).put(tenant, key, b"x")
        with pytest.raises(UserError) as refused:
            await get_file("../../secret_key")
        assert refused.value.status_code == 404


async def test_the_plugin_functions_use_the_tenant_in_scope_and_the_limit():
    async with in_tenant("luqiao"):
        kept = await put_file(b"%PDF-1.4 dispute record")
        assert b"".join(await _chunks(await get_file(kept.key))) == b"%PDF-1.4 dispute record"
        with pytest.raises(UserError) as refused:
            await put_file(b"x" * (20 * 1024 * 1024 + 1))
        assert refused.value.status_code == 413
    async with in_tenant("jiaojiang"):
        with pytest.raises(UserError) as refused:
            await get_file(kept.key)
        assert refused.value.status_code == 404


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="row-level security is a PostgreSQL feature; this runs in the PostgreSQL pass")
async def test_raw_sql_on_the_chunks_sees_and_writes_only_the_tenant_in_scope():
    from piccolo.engine import engine_finder

    store, key = file_store("database"), new_key()
    async with in_tenant("luqiao") as luqiao:
        await store.put(luqiao, key, b"luqiao's file")
    async with in_tenant("jiaojiang"):
        transaction = engine_finder().current_transaction.get()
        conn = transaction.connection
        forced = await conn.fetchrow("SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
                                     "WHERE relname = 'file_chunk'")
        assert forced["relrowsecurity"] and forced["relforcerowsecurity"]
        assert await conn.fetchval("SELECT count(*) FROM file_chunk WHERE key = $1", key) == 0
        savepoint = await transaction.savepoint()
        with pytest.raises(Exception) as refused:
            await conn.execute("INSERT INTO file_chunk (tenant_id, key, seq, data) VALUES ($1, $2, 1, 'x')",
                               luqiao.id, key)
        assert "row-level security" in str(refused.value)
        await savepoint.rollback_to()
        assert await conn.fetchval("DELETE FROM file_chunk WHERE key = $1 RETURNING 1", key) is None
    async with in_tenant("luqiao") as luqiao:
        assert await store.read(luqiao, key) == b"luqiao's file"


async def test_a_download_finds_the_file_in_either_store_and_is_404_in_neither(app):
    from types import SimpleNamespace

    from core.cases import attachments
    from core.cases.tables import Case, CompanyMember
    from tenants.scope import scoped
    from tests.helpers import Browser

    content = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    async with in_tenant("luqiao") as tenant:
        member = await scoped(CompanyMember).select().order_by(CompanyMember.id).first()
        case = await scoped(Case).objects().where(Case.company == member["company"]).order_by(Case.id).first()
        row = await attachments.store(case, SimpleNamespace(id=member["user"], roles={"company"}), "两处.pdf", content)
        configured = file_store()
        other = next(file_store(name) for name in STORES if name != configured.name)
        await other.put(tenant, row.storage_key, await configured.get(tenant, row.storage_key))
        await configured.delete(tenant, row.storage_key)  # as while a move is under way
    company = Browser(app)
    await company.login("company@luqiao", "luqiao")
    url = f"/t/luqiao/cases/{row.case}/attachments/{row.id}"
    found = await company.client.get(url)
    assert found.status_code == 200 and found.content == content
    async with in_tenant("luqiao") as tenant:
        await other.delete(tenant, row.storage_key)
    assert (await company.client.get(url)).status_code == 404
    async with in_tenant("luqiao") as tenant:  # put back: the tenant's files stay whole for later tests
        await configured.put(tenant, row.storage_key, content)
    assert (await company.client.get(url)).content == content
    await company.close()
