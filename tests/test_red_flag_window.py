"""The red flag over a period (预警统计期) and the trend since launch (上线以来).

The refusal flag counts the refusals that stood after review, over the cases submitted in the last
`red_flag_window_days` days: it lights while refusals go unchallenged, and goes out when they are
overturned or the window moves past them.  With `launched_on`, the screen and the public page show
the average working days to completion by month since launch, first month against the last —
checked here against values computed independently (the State Council calendar, counted by hand).
"""

from datetime import date, datetime, timedelta, timezone

import chinese_calendar

from core.cases import states as S
from core.cases.tables import Case, Company
from core.oversight import tally, window
from core.oversight.screen import payload
from core.tables import Category, Department
from tenants.onboarding import apply_manifest, update_settings
from tests.helpers import Browser, in_tenant

TOWN = """
slug = "{slug}"
name_zh = "预警镇{n}"
name_en = "Flag Town {n}"
kind = "township"
parent = "luqiao"

[[departments]]
code = "jjb"
name_zh = "经济办"

[[categories]]
code = "general"
name_zh = "综合"
lead = "jjb"
deadline_days = 5
"""


async def town(slug: str, n: int):
    return (await apply_manifest(TOWN.format(slug=slug, n=n))).tenant


async def add_cases(slug: str, rows: list[dict]) -> list[int]:
    """Closed cases rated satisfied, each row overriding fields (submitted_at, refused_count…)."""
    from tenants.scope import scoped

    async with in_tenant(slug):
        dept = (await scoped(Department).select(Department.id).first())["id"]
        cat = (await scoped(Category).select(Category.id).first())["id"]
        company = await scoped(Company).select(Company.id).first()
        company_id = company["id"] if company else (await scoped(Company).add(
            name="测试企业", credit_code="91331004MA2AAAAA1X")).id
        made = await Case.insert(*[scoped(Case).new(**{
            "company": company_id, "category": cat, "title": "t", "description": "d", "number": "",
            "department": dept, "status": S.CLOSED, "rating": "satisfied", **row}) for row in rows]).returning(Case.id)
        await tally.rebuild()
    window.clear_cache()
    return [r["id"] for r in made]


def refusal_flags(data: dict) -> list[dict]:
    return [f for f in data["flags"] if f["kind"] == "refusals_with_satisfaction"]


async def flags_of(slug: str):
    from tenants.registry import load_tenant

    tenant = await load_tenant(slug)
    async with in_tenant(slug):
        return refusal_flags(await payload(tenant, ""))


def recent(days_ago: int) -> dict:
    t0 = datetime.now(timezone.utc) - timedelta(days=days_ago)
    return {"submitted_at": t0, "dispatched_at": t0, "accepted_at": t0, "resolved_at": t0,
            "closed_at": t0 + timedelta(days=1)}


async def test_the_flag_goes_out_when_the_refusals_are_overturned():
    slug = "flagtown-reform"
    await town(slug, 1)
    ids = await add_cases(slug, [{**recent(10), "refused_count": int(i < 7)} for i in range(12)])
    lit = await flags_of(slug)
    assert {f["subject"] for f in lit} == {"", "经济办"}
    assert "90" in lit[0]["message"] and "7" in lit[0]["message"] and "12" in lit[0]["message"]
    # The reform: the review panel overturns the refusals (re-dispatched, as the rule step does).
    from tenants.scope import scoped

    async with in_tenant(slug):
        await scoped(Case).update({Case.overturned: True, Case.redispatch_count: 1}).where(Case.id.is_in(ids[:5]))
        await tally.rebuild()
    window.clear_cache()
    assert await flags_of(slug) == []  # 2 of 12 stood: below the threshold
    # Refused again after the re-dispatch: that refusal stands, and counts.
    async with in_tenant(slug):
        await scoped(Case).update({Case.refused_count: 2}).where(Case.id.is_in(ids[:5]))
        await tally.rebuild()
    window.clear_cache()
    assert {f["subject"] for f in await flags_of(slug)} == {"", "经济办"}


async def test_the_flag_counts_only_the_window():
    slug = "flagtown-window"
    t = await town(slug, 2)
    # 7 refusals long ago, 12 recent cases refused by nobody.
    await add_cases(slug, [{**recent(120), "refused_count": 1} for _ in range(7)] + [recent(5) for _ in range(12)])
    assert await flags_of(slug) == []
    await update_settings(t.id, {"red_flag_window_days": 150})
    window.clear_cache()
    lit = await flags_of(slug)
    assert lit and "150" in lit[0]["message"] and "7 " in lit[0]["message"] and "19" in lit[0]["message"]


def by_hand(start: date, end: date) -> int:
    """Working days in (start, end] from the State Council calendar itself."""
    return sum(1 for i in range(1, (end - start).days + 1) if chinese_calendar.is_workday(start + timedelta(days=i)))


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=timezone.utc)  # 10:00 in Beijing


async def test_average_days_by_month_since_launch(app):
    slug = "flagtown-launch"
    t = await town(slug, 3)
    spans = {  # month of submission -> (submitted, closed) pairs
        "2025-12": [(date(2025, 12, 1), date(2025, 12, 30))],  # before the launch: not shown
        "2026-01": [(date(2026, 1, 19), date(2026, 2, 10)), (date(2026, 1, 26), date(2026, 2, 13))],
        "2026-03": [(date(2026, 3, 2), date(2026, 3, 6)), (date(2026, 3, 9), date(2026, 3, 11)),
                    (date(2026, 3, 16), date(2026, 3, 18))],
    }
    rows = [{"submitted_at": at(s), "dispatched_at": at(s), "accepted_at": at(s), "resolved_at": at(e),
             "closed_at": at(e)} for pairs in spans.values() for s, e in pairs]
    rows.append({"submitted_at": at(date(2026, 2, 2)), "status": S.DISPATCHED, "rating": "",
                 "dispatched_at": at(date(2026, 2, 2))})  # February: nothing completed
    await add_cases(slug, rows)
    await update_settings(t.id, {"launched_on": "2026-01-15"})
    expected = {month: round(sum(by_hand(s, e) for s, e in pairs) / len(pairs), 2)
                for month, pairs in spans.items() if month >= "2026-01"}
    assert expected["2026-01"] > expected["2026-03"] > 0
    from tenants.registry import load_tenant

    tenant = await load_tenant(slug)
    async with in_tenant(slug):
        since = (await payload(tenant, ""))["since_launch"]
    assert since["launched_on"] == "2026-01-15"
    assert [m["month"] for m in since["months"]] == ["2026-01", "2026-02", "2026-03"]
    assert {m["month"]: m["avg_days"] for m in since["months"]} == {**expected, "2026-02": None}
    assert since["first"]["month"] == "2026-01" and since["first"]["avg_days"] == expected["2026-01"]
    assert since["last"]["month"] == "2026-03" and since["last"]["avg_days"] == expected["2026-03"]

    # The public page shows them, in each language.
    browser = Browser(app)
    page = await browser.get(f"/t/{slug}/public/")
    assert page.status_code == 200
    assert f'data-first="{expected["2026-01"]}" data-last="{expected["2026-03"]}"' in page.text
    assert 'data-launch-month="2026-02" data-avg-days=""' in page.text
    assert "上线以来" in page.text
    await browser.client.get(f"/t/{slug}/lang/en")
    english = await browser.get(f"/t/{slug}/public/")
    assert "Since launch" in english.text and f'data-last="{expected["2026-03"]}"' in english.text


async def test_no_trend_without_a_launch_date():
    slug = "flagtown-nolaunch"
    await town(slug, 4)
    await add_cases(slug, [recent(3)])
    from tenants.registry import load_tenant

    tenant = await load_tenant(slug)
    async with in_tenant(slug):
        assert (await payload(tenant, ""))["since_launch"] is None
