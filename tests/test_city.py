"""The city level (市): taizhou's figures are the exact sum of its districts' (each district with its
townships, read here from each tenant's own figures), its league table orders the districts by
what it says, and a city user reaches figures only — never a district's case, company or person."""

import re

import pytest

from core.oversight.city import league
from core.oversight.figures import COUNTERS, Tally
from core.oversight.screen import payload
from tenants.manifest import ManifestError
from tenants.onboarding import validate
from tenants.registry import load_tenant
from tests.cases_helpers import Api
from tests.helpers import Browser, in_tenant

DISTRICTS = ("luqiao", "jiaojiang")


async def district_sum(slug: str) -> Tally:
    """A district's roll-up, made independently: its own figures and each township's, each read
    in that tenant's own scope, added counter by counter."""
    from tenants.tables import Tenant

    district = await load_tenant(slug)
    towns = [r["slug"] for r in await Tenant.select(Tenant.slug).where(
        (Tenant.parent == district.id) & (Tenant.active == True))]  # noqa: E712
    total = Tally()
    for tenant_slug in (slug, *towns):
        async with in_tenant(tenant_slug) as tenant:
            own = (await payload(tenant, ""))["totals"]
        total.add(Tally({key: own[key] for key in COUNTERS}))
    return total


def counters(totals: dict) -> dict:
    return {key: totals[key] for key in COUNTERS}


async def test_the_city_screen_is_the_sum_of_its_districts(app):
    city = Api(app, "taizhou")
    response = await city.call("city_leader", "GET", "figures")
    assert response.status_code == 200, response.text
    data = response.json()
    parts = {slug: await district_sum(slug) for slug in DISTRICTS}
    assert {row["slug"] for row in data["league"]} == set(DISTRICTS)
    expected = Tally()
    for part in parts.values():
        expected.add(part)
    assert expected["reported"] > 0
    assert counters(data["totals"]) == expected.counts
    assert data["totals"]["resolution_rate"] == expected.rates()["resolution_rate"]
    assert data["totals"]["avg_days"] == expected.rates()["avg_days"]
    for row in data["league"]:
        part = parts[row["slug"]]
        assert counters(row) == part.counts, row["slug"]
        for rate in ("response_rate", "resolution_rate", "satisfaction_rate", "avg_days"):
            assert row[rate] == part.rates()[rate], (row["slug"], rate)
    # One district's scope on the city's screen is that district's roll-up, by township.
    one = (await city.call("city_leader", "GET", "figures?scope=luqiao")).json()
    assert counters(one["totals"]) == parts["luqiao"].counts
    assert {t["name"] for t in one["townships"]} >= {"台州市路桥区", "路桥区蓬街镇"}
    # A district's own roll-up on its own screen says the same.
    async with in_tenant("luqiao") as luqiao:
        assert counters((await payload(luqiao, "all"))["totals"]) == parts["luqiao"].counts


async def test_the_index_of_a_district_without_townships_is_its_own(app):
    from core.oversight.figures import tenant_figures
    from core.oversight.index import compute

    async with in_tenant("jiaojiang"):
        own = await compute(await tenant_figures())
    league_rows = (await Api(app, "taizhou").call("city_leader", "GET", "figures")).json()["league"]
    assert next(r for r in league_rows if r["slug"] == "jiaojiang")["index"] == own["score"]


async def test_no_person_of_a_district_reaches_the_city(app):
    from core.tables import Membership, User
    from tenants.scope import scoped

    names = set()
    for slug in DISTRICTS:
        async with in_tenant(slug):
            ids = [r["user"] for r in await scoped(Membership).select(Membership.user)]
            names |= {r["display_name"] for r in await User.select(User.display_name).where(User.id.is_in(ids))}
    api = Api(app, "taizhou")
    for scope in ("", "luqiao", "jiaojiang"):
        data = await api.call("city_leader", "GET", f"figures?scope={scope}")
        assert data.status_code == 200
        assert not [f for f in data.json()["flags"] if f["kind"] == "handler_overdue"]
        assert not [n for n in names if len(n) >= 2 and n in data.text], scope
    assert (await api.call("city_leader", "GET", "figures?scope=pengjie")).status_code == 404
    assert (await api.call("city_leader", "GET", "figures?scope=luqiao-court")).status_code == 404


async def district_case_ids() -> list[tuple[str, int, str]]:
    from core.cases.tables import Case
    from tenants.scope import scoped

    out = []
    for slug in DISTRICTS:
        async with in_tenant(slug):
            for row in await scoped(Case).select(Case.id, Case.title).order_by(Case.id).limit(2):
                out.append((slug, row["id"], row["title"]))
    return out


async def test_a_city_user_gets_404_for_every_district_case(app):
    cases = await district_case_ids()
    assert len(cases) == 4
    leader = Browser(app)
    assert (await leader.login("city_leader@taizhou", "taizhou")).status_code == 303
    api = Api(app, "taizhou")
    for slug, case_id, title in cases:
        # Under the city (the only tenant a city user belongs to): no case there, none of theirs.
        page = await leader.get(f"/t/taizhou/cases/{case_id}")
        assert page.status_code == 404 and title not in page.text, (slug, case_id)
        assert (await api.call("city_leader", "GET", f"cases/{case_id}")).status_code == 404
        # Under the district: the city's session and token are nothing there.
        there = await leader.get(f"/t/{slug}/cases/{case_id}")
        assert there.status_code != 200 or title not in there.text
        assert title not in there.text
        token = await api.token("city_leader")
        response = await api.client.get(f"/t/{slug}/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and title not in response.text  # no one there by that token
    # No list of cases or companies for a city user either.
    listed = await api.call("city_leader", "GET", "cases")  # the city's own cases: it has none
    assert listed.status_code == 200
    body = listed.json()
    assert (body if isinstance(body, list) else body["items"]) == []
    assert (await leader.get("/t/taizhou/companies/")).status_code in (403, 404)
    # The city's own pages: its league table and screen, both in Chinese.
    league_page = await leader.get("/t/taizhou/city/")
    assert league_page.status_code == 200 and "区县排行榜" in league_page.text
    screen = await leader.get("/t/taizhou/screen/")
    assert screen.status_code == 200 and "台州市及所辖全部区县" in screen.text and "data-league" in screen.text
    assert (await leader.get("/t/taizhou/screen/?scope=luqiao")).status_code == 200


async def test_the_league_page_is_for_a_city_only(app):
    dispatcher = Browser(app)
    await dispatcher.login("dispatcher@luqiao", "luqiao")
    assert (await dispatcher.get("/t/luqiao/city/")).status_code == 404


def test_the_league_orders_by_the_rate_asked_ties_and_gaps_last():
    def row(slug, resolution, satisfaction, response, index, days):
        return {"slug": slug, "resolution_rate": resolution, "satisfaction_rate": satisfaction,
                "response_rate": response, "index": index, "avg_days": days}

    rows = [row("a", 0.8, 0.9, 0.5, 70.0, 4.0), row("b", 0.9, 0.7, 0.6, 80.0, 6.0),
            row("c", 0.8, 0.95, 0.4, None, 3.0), row("d", None, None, None, None, None)]
    assert [r["slug"] for r in league(rows)] == ["b", "c", "a", "d"]  # resolution, then satisfaction
    assert [r["rank"] for r in league(rows)] == [1, 2, 3, 4]
    assert [r["slug"] for r in league(rows, "response_rate")] == ["b", "a", "c", "d"]
    assert [r["slug"] for r in league(rows, "satisfaction_rate")] == ["c", "a", "b", "d"]
    assert [r["slug"] for r in league(rows, "index")] == ["b", "a", "c", "d"]
    assert [r["slug"] for r in league(rows, "avg_days")] == ["c", "a", "b", "d"]  # fewer days first
    assert [r["slug"] for r in league(rows, "nonsense")] == ["b", "c", "a", "d"]


@pytest.mark.parametrize("by", ("resolution_rate", "response_rate", "satisfaction_rate", "index", "avg_days"))
async def test_the_league_page_orders_the_districts(app, by):
    rows = (await Api(app, "taizhou").call("city_leader", "GET", "figures")).json()["league"]
    expected = [r["slug"] for r in league(rows, by)]
    leader = Browser(app)
    await leader.login("city_leader@taizhou", "taizhou")
    page = await leader.get(f"/t/taizhou/city/?sort={by}")
    assert page.status_code == 200
    assert re.findall(r'<tr data-district="([\w-]+)"', page.text) == expected
    assert f'data-total="{len(expected)}"' in page.text


async def test_a_city_is_linked_only_when_both_sides_name_each_other(app):
    from core.oversight.city import districts_of
    from tenants.onboarding import apply_manifest

    await apply_manifest("""
slug = "testcity"
name_zh = "测试市"
name_en = "Test City"
kind = "city"
districts = ["luqiao", "testdistrict"]
""")
    city = await load_tenant("testcity")
    assert await districts_of(city) == []  # luqiao names taizhou, not testcity; testdistrict is not here
    await apply_manifest("""
slug = "testdistrict"
name_zh = "测试区"
name_en = "Test District"
kind = "district"
city = "testcity"

[[departments]]
code = "jjb"
name_zh = "经济办"

[[categories]]
code = "general"
name_zh = "综合"
lead = "jjb"
deadline_days = 5
""")
    assert [d.slug for d in await districts_of(city)] == ["testdistrict"]
    # taizhou is unchanged: a city reads only the districts that name it.
    assert {d.slug for d in await districts_of(await load_tenant("taizhou"))} == set(DISTRICTS)


@pytest.mark.parametrize("text,field", [
    ('slug = "x-town"\nname_zh = "镇"\nname_en = "T"\nkind = "township"\nparent = "luqiao"\ncity = "taizhou"', "city"),
    ('slug = "x-city"\nname_zh = "市"\nname_en = "C"\nkind = "city"\ncourts = ["luqiao-court"]', "courts"),
    ('slug = "x-dist"\nname_zh = "区"\nname_en = "D"\nkind = "district"\ndistricts = ["luqiao"]', "districts"),
    ('slug = "x-city"\nname_zh = "市"\nname_en = "C"\nkind = "city"\n[[users]]\nusername = "h@x"\n'
     'display_name = "甲"\nroles = ["handler"]', "users[0].roles[0]"),
    ('slug = "x-dist"\nname_zh = "区"\nname_en = "D"\nkind = "district"\n[[users]]\nusername = "c@x"\n'
     'display_name = "乙"\nroles = ["city_leader"]', "users[0].roles[0]"),
])
async def test_manifest_problems_of_the_city_level(text, field):
    with pytest.raises(ManifestError) as caught:
        await validate(text)
    assert field in [p.field for p in caught.value.problems], caught.value.problems
