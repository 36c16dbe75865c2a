"""The benchmark data generator (bench/generate.py): a tiny generation into the test database must
look to the app like data made through the lifecycle — counts as asked, a chain that verifies,
pages that render and figures that match the record."""

from __future__ import annotations

import os

import pytest

from bench.generate import PASSWORD, bench_token, generate
from core.cases import states as S
from core.cases.tables import Case, Event
from tests.helpers import Browser, in_tenant

TENANTS, CASES = 2, 50


@pytest.fixture(scope="module")
async def generated():
    totals = await generate(os.environ["DATABASE_URL"], TENANTS, CASES, seed=7, jobs=1, quiet=True)
    return totals


async def test_counts_are_as_asked(generated):
    from tenants.scope import scoped

    assert generated["tenants"] == TENANTS and generated["cases"] == TENANTS * CASES
    for slug, kind in (("bench001", "district"), ("bench002", "township")):
        async with in_tenant(slug) as tenant:
            assert tenant.kind == kind and {"mediation", "liaison", "cadre"} <= set(tenant.plugins)
            assert await scoped(Case).count() == CASES
            # every case has its submission on the record, and refused cases their sign-offs
            assert await scoped(Event).count().where(Event.action == "submit") == CASES
            refused = await scoped(Case).count().where(Case.refused_count > 0)
            assert refused > 0
            assert await scoped(Event).count().where(Event.action == "sign") >= 3 * refused


async def test_the_record_verifies(generated):
    from core.cases.audit import verify_tenant

    for slug in ("bench001", "bench002"):
        async with in_tenant(slug):
            result = await verify_tenant()
            assert result.ok, result.problem
            assert result.checked > CASES


async def test_case_page_and_console_render(generated, app):
    from tenants.scope import scoped

    async with in_tenant("bench001"):
        case = await scoped(Case).select(Case.id, Case.number).where(Case.refused_count > 0).first()
        actions = {r["action"] for r in await scoped(Event).select(Event.action).where(Event.case == case["id"])}
    browser = Browser(app)
    try:
        assert (await browser.login("dispatcher@bench001", "bench001", PASSWORD)).status_code in (200, 302, 303)
        page = await browser.get(f"/t/bench001/cases/{case['id']}")
        assert page.status_code == 200 and case["number"] in page.text
        assert {"submit", "refuse", "sign"} <= actions
        console = await browser.get("/t/bench001/cases?q=排水")
        assert console.status_code == 200
    finally:
        await browser.close()


async def test_figures_equal_the_counts_of_the_record(generated, client):
    from tenants.scope import scoped

    expected = {}
    for slug in ("bench001", "bench002"):
        async with in_tenant(slug):
            live = Case.status != S.MERGED
            expected[slug] = {
                "reported": await scoped(Case).count().where(live),
                "completed": await scoped(Case).count().where(Case.status == S.CLOSED),
                "in_progress": await scoped(Case).count().where(Case.status.is_in(list(S.OPEN))),
                "refused": await scoped(Case).count().where(live & (Case.refused_count > 0)),
                "overturned": await scoped(Case).count().where(live & (Case.overturned == True)),  # noqa: E712
                "escalated": await scoped(Case).count().where(live & (Case.escalated == True)),  # noqa: E712
            }
    headers = {"Authorization": f"Bearer {bench_token(7, 'bench001', 'dispatcher@bench001')}"}
    own = await client.get("/t/bench001/api/v1/figures", headers=headers)
    assert own.status_code == 200
    totals = own.json()["totals"]
    assert {key: totals[key] for key in expected["bench001"]} == expected["bench001"]
    rollup = await client.get("/t/bench001/api/v1/figures?scope=all", headers=headers)
    assert rollup.status_code == 200
    both = {key: expected["bench001"][key] + expected["bench002"][key] for key in expected["bench001"]}
    assert {key: rollup.json()["totals"][key] for key in both} == both
