"""Raw SQL through the scoping layer: `scoped(Table).raw` and `.execute_many` bind the current
tenant's id where the SQL says `{tenant}`, touch only that tenant's rows (on SQLite the filter is
the only wall; on PostgreSQL row-level security is a second one), and refuse to run outside a
tenant scope's transaction or on SQL the layer cannot vouch for."""

import re
from pathlib import Path

import pytest

from core.db import write_transaction
from core.scope import NoTenant, scoped, tenant_named
from core.tables import Department, Section
from tests.helpers import in_tenant

ROOT = Path(__file__).resolve().parent.parent


class _Undo(Exception):
    """Raised at the end of a test's scope so that its transaction rolls back."""


async def test_raw_binds_the_current_tenant_and_touches_only_its_rows():
    seen = {}
    for slug in ("jiaojiang", "luqiao"):
        with pytest.raises(_Undo):
            async with in_tenant(slug) as tenant:
                own = await scoped(Department).count()
                assert own > 0
                query = scoped(Department).raw(
                    "UPDATE department SET name_en = {} WHERE tenant_id = {tenant} AND code <> {} "
                    "RETURNING tenant_id, name_en", "changed", "")
                assert "{tenant}" not in query.querystring.template
                assert query.querystring.args == ["changed", tenant.id, ""]  # bound, in the SQL's order
                rows = await query
                assert {r["tenant_id"] for r in rows} == {tenant.id}
                assert len(rows) == own
                assert await scoped(Department).count().where(Department.name_en == "changed") == own
                seen[slug] = tenant.id
                raise _Undo
    assert seen["jiaojiang"] != seen["luqiao"]
    async with in_tenant("luqiao"):  # the rolled-back update left the other tenant as it was
        assert not await scoped(Department).exists().where(Department.name_en == "changed")


async def test_execute_many_writes_rows_of_the_current_tenant():
    with pytest.raises(_Undo):
        async with in_tenant("jiaojiang") as tenant:
            before = await scoped(Department).count()
            await scoped(Department).execute_many(
                "INSERT INTO department (tenant_id, code, name_zh, name_en) VALUES ({tenant}, {}, {}, {})",
                [("raw-1", "甲", "A"), ("raw-2", "乙", "B")])
            rows = await Department.select(Department.tenant_id).where(Department.code.is_in(["raw-1", "raw-2"]))
            assert [r["tenant_id"] for r in rows] == [tenant.id, tenant.id]
            assert await scoped(Department).count() == before + 2
            # the tenant elsewhere than first
            await scoped(Department).execute_many(
                "UPDATE department SET name_en = {} WHERE code = {} AND tenant_id = {tenant}",
                [("A2", "raw-1")])
            assert await scoped(Department).count().where(Department.name_en == "A2") == 1
            raise _Undo
    async with in_tenant("jiaojiang"):
        assert not await scoped(Department).exists().where(Department.code.is_in(["raw-1", "raw-2"]))


async def test_refused_outside_a_tenant_scope():
    sql = "SELECT count(*) AS n FROM department WHERE tenant_id = {tenant}"
    with pytest.raises(NoTenant):
        scoped(Department).raw(sql)
    async with write_transaction():  # a transaction, but no tenant
        with pytest.raises(NoTenant):
            scoped(Department).raw(sql)
        with pytest.raises(NoTenant):
            await scoped(Department).execute_many(
                "INSERT INTO department (tenant_id, code, name_zh) VALUES ({tenant}, {}, {})", [("x", "x")])
    async with in_tenant("jiaojiang") as tenant:
        pass
    with tenant_named(tenant):  # a tenant named, but no transaction of its scope
        with pytest.raises(NoTenant):
            scoped(Department).raw(sql)


@pytest.mark.parametrize("sql, args", [
    ("SELECT count(*) AS n FROM department", ()),  # no {tenant}
    ("SELECT count(*) AS n FROM department WHERE tenant_id = {}", (1,)),  # the tenant by hand
    ("SELECT d.id FROM department AS d JOIN section AS s ON s.department = d.id WHERE d.tenant_id = {tenant}", ()),
    ("SELECT id FROM department WHERE tenant_id = {tenant} AND code = {code}", ()),  # a named placeholder
    ("SELECT id FROM department WHERE tenant_id = {tenant} AND code = {}", ()),  # an argument missing
    ("SELECT '{{}}' AS x FROM department WHERE tenant_id = {tenant}", ()),  # literal braces
])
async def test_refused_sql(sql, args):
    async with in_tenant("jiaojiang"):
        with pytest.raises(ValueError):
            scoped(Department).raw(sql, *args)


async def test_each_tenant_owned_table_filtered():
    async with in_tenant("jiaojiang") as tenant:
        rows = await scoped(Section).raw(
            "SELECT s.tenant_id AS s_tenant, d.tenant_id AS d_tenant FROM section AS s "
            "JOIN department AS d ON d.id = s.department WHERE s.tenant_id = {tenant} AND d.tenant_id = {tenant}")
        assert {(r["s_tenant"], r["d_tenant"]) for r in rows} <= {(tenant.id, tenant.id)}


def test_no_raw_sql_filters_by_tenant_by_hand():
    """Raw SQL names the tenant only as `{tenant}`, which the scoping layer binds."""
    by_hand = re.compile(r"tenant_id\s*=\s*(\{\}|\$\d+|\?)")
    found = [f"{path.relative_to(ROOT)}:{n}" for top in ("core", "web", "workers", "plugins", "tenants")
             for path in sorted((ROOT / top).rglob("*.py")) if "piccolo_migrations" not in path.parts
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if by_hand.search(line)]
    assert found == []
