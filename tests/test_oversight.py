"""The big screen's figures against independent counts, the district roll-up, red flags, the live
refresh, the figures API and the public page."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from core.cases import states as S
from core.cases.tables import Case, Company, Review
from core.oversight import tally
from core.oversight.screen import payload
from tenants.onboarding import apply_manifest
from tenants.registry import load_tenant
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import Browser, in_tenant

TOWN = """
slug = "{slug}"
name_zh = "测试镇{n}"
name_en = "Test Town {n}"
kind = "township"
parent = "{parent}"

[[departments]]
code = "jjb"
name_zh = "经济办"

[[categories]]
code = "general"
name_zh = "综合"
lead = "jjb"
deadline_days = 5
"""


async def independent_counts() -> dict:
    """Counts made straight from the case table with SQL filters, not through the figures code."""
    c = scoped(Case).count
    merged = Case.status != S.MERGED
    reviewed = {r["case"] for r in await scoped(Review).select(Review.case).where(Review.status == "ruled")}
    live_ids = {r["id"] for r in await scoped(Case).select(Case.id).where(merged)}
    rated = await c().where(merged & (Case.rating != ""))
    return {
        "reported": await c().where(merged),
        "completed": await c().where(Case.status == S.CLOSED),
        "in_progress": await c().where(Case.status.is_in(list(S.OPEN))),
        "overdue": await c().where(Case.overdue.eq(True) & Case.status.is_in(list(S.OPEN))),
        "escalated": await c().where(merged & Case.escalated.eq(True)),
        "refused": await c().where(merged & (Case.refused_count > 0)),
        "overturned": await c().where(merged & Case.overturned.eq(True)),
        "reviewed": len(reviewed & live_ids),
        "rated": rated,
        "satisfaction_rate": round(await c().where(merged & Case.rating.is_in(["satisfied", "basically_satisfied"]))
                                   / rated, 4) if rated else None,
    }


async def test_screen_figures_equal_independent_counts_on_the_demo_data():
    for slug in ("luqiao", "pengjie", "jiaojiang"):
        tenant = await load_tenant(slug)
        async with in_tenant(slug):
            data = await payload(tenant, "")
            expected = await independent_counts()
        for key, value in expected.items():
            assert data["totals"][key] == value, (slug, key, data["totals"][key], value)
        assert sum(m["reported"] for m in data["months"]) == expected["reported"]
        assert sum(r["reported"] for r in data["ranking"]) <= expected["reported"]


async def _hand_built_town(slug: str, n: int) -> dict:
    """A township with exactly known figures."""
    result = await apply_manifest(TOWN.format(slug=slug, n=n, parent="luqiao"))
    async with in_tenant(slug):
        from core.tables import Category, Department

        dept = (await scoped(Department).select(Department.id).first())["id"]
        cat = (await scoped(Category).select(Category.id).first())["id"]
        company = await scoped(Company).add(name="测试企业", credit_code=f"9133100400000{n:04d}X", township="测试镇")
        t0 = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)  # a Monday
        common = dict(company=company.id, category=cat, title="t", description="d", number="", department=dept,
                      submitted_at=t0, dispatched_at=t0)
        rows = [
            # closed, satisfied, accepted the same day, 2 working days
            dict(status=S.CLOSED, rating="satisfied", accepted_at=t0, resolved_at=t0 + timedelta(days=1),
                 closed_at=t0 + timedelta(days=2)),
            # closed, unsatisfied, accepted 3 working days late
            dict(status=S.CLOSED, rating="unsatisfied", accepted_at=t0 + timedelta(days=3),
                 resolved_at=t0 + timedelta(days=3), closed_at=t0 + timedelta(days=4)),
            # refused, overturned, in progress, overdue and escalated
            dict(status=S.IN_PROGRESS, refused_count=1, overturned=True, overdue=True, escalated=True, accepted_at=t0),
            # refused, upheld on review: closed without a resolution
            dict(status=S.CLOSED, refused_count=1, accepted_at=t0, closed_at=t0 + timedelta(days=7)),
            # a merged duplicate: not counted
            dict(status=S.MERGED),
        ]
        await Case.insert(*[scoped(Case).new(**common, **row) for row in rows])
        await tally.rebuild()  # a bulk load bypasses the lifecycle, so it rebuilds the tally
    return {"reported": 4, "completed": 3, "in_progress": 1, "overdue": 1, "escalated": 1, "refused": 2,
            "overturned": 1, "dispatched": 4, "responded": 3, "outcomes": 3, "solved": 1, "rated": 2,
            "satisfied": 1, "response_rate": 0.75, "resolution_rate": round(1 / 3, 4), "satisfaction_rate": 0.5,
            "avg_days": round((2 + 4 + 5) / 3, 2), "tenant": result.tenant}


async def test_hand_built_figures_and_the_district_roll_up():
    expected = await _hand_built_town("testtown-a", 1)
    town = expected.pop("tenant")
    async with in_tenant(town.slug):
        data = await payload(town, "")
    for key, value in expected.items():
        assert data["totals"][key] == value, (key, data["totals"][key], value)

    luqiao = await load_tenant("luqiao")
    async with in_tenant("luqiao"):
        rollup = await payload(luqiao, "all")
        own = await payload(luqiao, "")
        one_town = await payload(luqiao, town.slug)
    from core.oversight.screen import children_of

    parts = [own["totals"]]
    children = await children_of(luqiao)
    assert {"pengjie", town.slug} <= {c.slug for c in children}
    for child in children:
        async with in_tenant(child.slug):
            parts.append((await payload(child, ""))["totals"])
    for key in ("reported", "completed", "in_progress", "overdue", "escalated", "refused", "reviewed", "overturned",
                "rated", "satisfied"):
        assert rollup["totals"][key] == sum(p[key] for p in parts), key
    assert {t["name"] for t in rollup["townships"]} >= {"台州市路桥区", "路桥区蓬街镇", "测试镇1"}
    assert one_town["totals"]["reported"] == 4
    # The roll-up left the request in luqiao's own scope.
    async with in_tenant("luqiao"):
        assert (await payload(luqiao, ""))["totals"] == own["totals"]


async def test_no_figure_of_another_district_is_reachable(app):
    from core.errors import UserError

    luqiao = await load_tenant("luqiao")
    async with in_tenant("luqiao"):
        with pytest.raises(UserError):
            await payload(luqiao, "jiaojiang")
    api = Api(app)
    response = await api.call("dispatcher", "GET", "figures?scope=jiaojiang")
    assert response.status_code == 404
    other = await api.call("dispatcher", "GET", "figures?scope=all")
    assert other.status_code == 200 and "椒江" not in other.text
    assert (await api.call("company", "GET", "figures")).status_code == 403


async def _refusing_town(slug: str, n: int, cases: int, refused: int) -> object:
    """A township whose department refuses `refused` of `cases` cases, all rated satisfied."""
    result = await apply_manifest(TOWN.format(slug=slug, n=n, parent="luqiao"))
    async with in_tenant(slug):
        from core.tables import Category, Department

        dept = (await scoped(Department).select(Department.id).first())["id"]
        cat = (await scoped(Category).select(Category.id).first())["id"]
        company = await scoped(Company).add(name="测试企业", credit_code=f"9133100400001{n:04d}X")
        t0 = datetime.now(timezone.utc) - timedelta(days=10)  # inside the red flag's window (90 days)
        await Case.insert(*[scoped(Case).new(
            company=company.id, category=cat, title="t", description="d", number="", department=dept,
            status=S.CLOSED, rating="satisfied", refused_count=int(i < refused), submitted_at=t0, dispatched_at=t0,
            accepted_at=t0, resolved_at=t0, closed_at=t0 + timedelta(days=1)) for i in range(cases)])
        await tally.rebuild()
    return result.tenant


async def test_red_flags_light_up_like_2022():
    # 1,087 of 1,945 refused while satisfaction read 100%: here 7 of 12, all satisfied.
    town = await _refusing_town("testtown-flags", 2, cases=12, refused=7)
    async with in_tenant(town.slug):
        data = await payload(town, "")
    flagged = [f for f in data["flags"] if f["kind"] == "refusals_with_satisfaction"]
    assert {f["subject"] for f in flagged} == {"", "经济办"}
    assert "7" in flagged[0]["message"] and "12" in flagged[0]["message"] and "100.0%" in flagged[0]["message"]


async def test_no_red_flag_when_refusals_are_rare_or_cases_few():
    for slug, n, cases, refused in (("testtown-calm", 3, 12, 2), ("testtown-small", 4, 5, 4)):
        town = await _refusing_town(slug, n, cases=cases, refused=refused)
        async with in_tenant(slug):
            data = await payload(town, "")
        assert not [f for f in data["flags"] if f["kind"] == "refusals_with_satisfaction"], slug


async def test_red_flag_thresholds_are_tenant_settings():
    jiaojiang = await load_tenant("jiaojiang")
    strict = jiaojiang.__class__(**{**jiaojiang.__dict__, "settings": {"red_flag_refusal_rate": 0.99}})
    async with in_tenant("jiaojiang"):
        from tenants.scope import _current

        token = _current.set(strict)
        try:
            data = await payload(strict, "")
        finally:
            _current.reset(token)
    assert not [f for f in data["flags"] if f["kind"] == "refusals_with_satisfaction"]


async def test_the_open_screen_shows_a_change_on_its_next_refresh(app):
    b = Browser(app)
    await b.login("dispatcher@jiaojiang", "jiaojiang")
    screen = await b.get("/t/jiaojiang/screen/")
    assert screen.status_code == 200 and 'hx-trigger="sse:figures, every 3s"' in screen.text
    assert "echarts-6.1.0.min.js" in screen.text and "<script>" not in screen.text
    before = int(re.search(r'data-figure="reported"><span class="value">(\d+)<', screen.text).group(1))
    await Api(app, "jiaojiang").submit(title="大屏刷新测试")
    live = await b.get("/t/jiaojiang/screen/live", headers={"HX-Request": "true"})
    after = int(re.search(r'data-figure="reported"><span class="value">(\d+)<', live.text).group(1))
    assert after == before + 1 and "<html" not in live.text


async def test_public_page_shows_no_names(app, client):
    response = await client.get("/t/luqiao/public/")
    assert response.status_code == 200 and 'data-figure="reported"' in response.text
    async with in_tenant("luqiao"):
        companies = [r["name"] for r in await scoped(Company).select(Company.name)]
    from core.tables import User

    staff = [r["display_name"] for r in await User.select(User.display_name)]
    for name in companies + staff:
        assert name not in response.text, name
    assert "@luqiao" not in response.text


async def test_xlsx_export_opens_and_matches_the_console_filter(app):
    import io

    from openpyxl import load_workbook

    api = Api(app)
    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    query = "status=closed&overturned=1&sort=oldest"
    listed = (await api.call("dispatcher", "GET", f"cases?{query}&per_page=100")).json()
    export = await b.client.get(f"/t/luqiao/exports/cases.xlsx?{query}")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) - 1 == listed["total"]
    assert [r[0] for r in rows[1:101]] == [c["number"] for c in listed["items"]]
    assert all(r[6] == "已办结" for r in rows[1:])
    csv_export = await b.client.get(f"/t/luqiao/exports/cases.csv?{query}")
    assert csv_export.status_code == 200 and csv_export.text.count("\n") == listed["total"] + 1
    ranking = await b.client.get("/t/luqiao/exports/ranking.xlsx")
    assert ranking.status_code == 200 and load_workbook(io.BytesIO(ranking.content)).active.max_row > 1
    company = Browser(app)
    await company.login("company@luqiao", "luqiao")
    assert (await company.client.get("/t/luqiao/exports/cases.xlsx")).status_code == 403


async def test_common_problems_become_a_policy_linking_its_cases(app):
    from tests.helpers import process_background

    api = Api(app, "pengjie")
    ids = []
    for place in ("蓬街镇工业区", "金清大道", "新塘村", "横街路口"):
        case = await api.submit(title=f"{place}厂区门口排水管淤积", description="雨天积水倒灌进车间，请尽快疏通排水管",
                                category="infrastructure")
        ids.append(case["id"])
    b = Browser(app)
    await b.login("dispatcher@pengjie", "pengjie")
    await b.get("/t/pengjie/policies/")
    assert (await b.post("/t/pengjie/policies/runs")).status_code == 303
    await process_background()
    page = await b.get("/t/pengjie/policies/")
    assert 'data-status="done"' in page.text
    import json as _json

    from core.oversight.tables import ClusterRun

    async with in_tenant("pengjie"):
        run = await scoped(ClusterRun).select().order_by(ClusterRun.id, ascending=False).first()
    group = next(g for g in _json.loads(run["groups"]) if set(ids) <= set(g["case_ids"]))
    response = await b.post(f"/t/pengjie/policies/from-group/{run['id']}/{group['label']}",
                            {"title": "工业区排水管网专项整治", "department": "czjs", "status": "adopted"})
    assert response.status_code == 303
    listed = await b.get("/t/pengjie/policies/")
    linked = int(re.search(r'data-policy="\d+">.*?<td data-cases>(\d+)</td>', listed.text, re.S).group(1))
    assert linked == group["size"] and linked >= 4
    public = await b.client.get("/t/pengjie/public/")
    assert "工业区排水管网专项整治" in public.text
    bad = await b.post(f"/t/pengjie/policies/from-group/{run['id']}/{group['label']}", {"title": "", "status": "adopted"})
    assert bad.status_code == 400


async def test_index_and_inspection_exports_report_page_and_api(app):
    import io

    from openpyxl import load_workbook

    from core.oversight.figures import tenant_figures

    b = Browser(app)
    await b.login("tenant_admin@luqiao", "luqiao")
    index = await b.client.get("/t/luqiao/exports/index.xlsx")
    assert index.status_code == 200
    rows = list(load_workbook(io.BytesIO(index.content)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("指标", "维度") and rows[-1][0] == "指数"
    total = sum(r[4] or 0 for r in rows[1:-1])
    assert abs(total - rows[-1][4]) < 0.1  # the contributions add up to the index
    inspector = Browser(app)
    await inspector.login("inspector@luqiao", "luqiao")
    insp = await inspector.client.get("/t/luqiao/exports/inspections.csv?status=open")
    assert insp.status_code == 200 and insp.text.splitlines()[0].startswith("\ufeff编号")
    assert (await b.client.get("/t/luqiao/exports/inspections.csv")).status_code == 403

    report = await b.get("/t/luqiao/report/2026-03")
    assert report.status_code == 200
    async with in_tenant("luqiao"):
        march = await tenant_figures(only_month="2026-03")
    shown = int(re.search(r'data-figure="reported"><th>[^<]*</th><td>(\d+)<', report.text).group(1))
    assert shown == march.total["reported"] > 0
    assert (await b.get("/t/luqiao/report/2026-13")).status_code == 400
    assert (await b.get("/t/luqiao/report/last-month")).status_code == 400

    api = Api(app)
    idx = (await api.call("dispatcher", "GET", "index")).json()
    assert idx["score"] is not None and {c["key"] for c in idx["components"]} >= {"responsiveness", "upheld"}
    assert (await api.call("dispatcher", "GET", "policies")).status_code == 200
    assert (await api.call("company", "GET", "index")).status_code == 403


async def test_figures_kept_current_by_each_step_equal_a_full_rebuild(app):
    """The per-case tally follows every step (submission, dispatch, refusal, review, rating, the
    deadline sweep): what the screen shows equals recounting every case from scratch."""
    from core.cases.deadlines import sweep_tenant
    from core.clock import today
    from core.oversight.figures import tenant_figures

    api = Api(app)
    await api.resolved()
    await api.under_review()
    await api.in_progress()
    async with in_tenant("luqiao"):
        await sweep_tenant(today() + timedelta(days=40))
        kept = await tenant_figures()
        await tally.rebuild()
        rebuilt = await tenant_figures()
    assert kept.total.as_dict() == rebuilt.total.as_dict()
    assert {k: v.as_dict() for k, v in kept.departments.items()} == {k: v.as_dict() for k, v in rebuilt.departments.items()}
    assert {k: v.as_dict() for k, v in kept.months.items()} == {k: v.as_dict() for k, v in rebuilt.months.items()}
    assert kept.handlers_overdue == rebuilt.handlers_overdue and kept.total["overdue"] > 0
    await api.client.aclose()


async def test_demo_district_reads_like_the_article():
    """The demo data looks like a working district: most dispatched cases accepted within a day."""
    luqiao = await load_tenant("luqiao")
    async with in_tenant("luqiao"):
        totals = (await payload(luqiao, ""))["totals"]
    assert 0.6 <= totals["response_rate"] <= 1 and totals["dispatched"] > 100
