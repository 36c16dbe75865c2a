"""The organization department across the hierarchy (组织部门): a district's campaign includes cadres
of its townships, their evidence counted from each township's record in that township's scope; a
township's own organization staff see only their township's cadres; district inspectors granted
the townships' inspections (setting `inspections_townships`) read them, and only then."""

import json
import uuid

import pytest

from core.cases import states as S
from core.cases.tables import Case
from core.db import write_transaction
from core.inspections.tables import Inspection
from plugins.cadre.tables import Cadre
from tenants.onboarding import ensure_membership, ensure_user
from tenants.scope import scoped
from tenants.tables import Tenant
from tests.cases_helpers import Api
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, token_for
from tests.test_cadre import cad, user_id

WIDE = {"period_start": "2000-01-01", "period_end": "2100-12-31"}


@pytest.fixture
def api(app):
    return Api(app)


async def set_plugins(slug: str, add: set[str] = frozenset(), remove: set[str] = frozenset()) -> None:
    row = await Tenant.select(Tenant.plugins).where(Tenant.slug == slug).first()
    plugins = (set(json.loads(row["plugins"])) | set(add)) - set(remove)
    async with write_transaction():
        await Tenant.update({Tenant.plugins: json.dumps(sorted(plugins))}).where(Tenant.slug == slug)


async def township_handler() -> int:
    """A staff member of the township `pengjie` who handles cases there."""
    async with in_tenant("pengjie"):
        rows = await scoped(Case).select(Case.handler).where(Case.handler.is_not_null())
    handlers = sorted({r["handler"] for r in rows})
    assert handlers, "the demo township has handled cases"
    return handlers[0]


async def counted_in(slug: str, uid: int) -> dict:
    """Cases handled and rated by `uid`, counted straight from the tables of the tenant `slug`."""
    async with in_tenant(slug):
        mine = (Case.handler == uid) & (Case.status != S.MERGED)
        return {"handled": await scoped(Case).count().where(mine),
                "rated": await scoped(Case).count().where(mine & (Case.rating != "")),
                "findings": await scoped(Inspection).count().where(Inspection.subject == uid)}


async def test_a_district_campaign_counts_a_township_cadre_in_the_township_scope(app, api):
    uid = await township_handler()
    # Not staff of the district, yet its organization department may take them in as a cadre.
    cadre = await cad(api, "cadre_org", "POST", "cadres", {"user": uid, "post": "经发办科员"}, 201)
    assert cadre["township"] == "pengjie" and cadre["department"] is None
    company = await user_id("company@luqiao")
    body = (await cad(api, "cadre_org", "POST", "cadres", {"user": company}, 400)).json()
    assert body["code"] == "not_staff"
    campaign = await cad(api, "cadre_org", "POST", "campaigns", {
        "title": "乡镇干部专项考察" + uuid.uuid4().hex[:4], **WIDE, "cadres": [cadre["id"]]}, 201)
    sheet = next(s for s in campaign["sheets"] if s["cadre"] == cadre["id"])
    expected = await counted_in("pengjie", uid)
    assert expected["handled"] > 0
    assert {k: sheet["evidence"][k] for k in expected} == expected
    assert (await counted_in("luqiao", uid))["handled"] == 0  # nothing of it is the district's own record
    # Regenerating reads the township again.
    again = await cad(api, "cadre_org", "POST", f"campaigns/{campaign['campaign']['id']}/generate")
    assert next(s for s in again["sheets"] if s["cadre"] == cadre["id"])["evidence"]["handled"] == expected["handled"]
    # The district's cadre list names the township.
    b = Browser(app)
    await b.login("cadre_org@luqiao", "luqiao")
    listing = (await b.get("/t/luqiao/cadre/cadres")).text
    assert 'data-township="pengjie"' in listing
    # Another district's township is not luqiao's to take in.
    async with in_tenant("jiaojiang"):
        other, _ = await ensure_user(f"h{uuid.uuid4().hex[:6]}@jiaojiang", "椒江干部", DEMO_PASSWORD)
        await ensure_membership(other, "handler", None, None)
    await cad(api, "cadre_org", "POST", "cadres", {"user": other}, 400)


async def test_a_township_organization_department_sees_only_its_township(app, api):
    await set_plugins("pengjie", add={"cadre"})
    try:
        username = f"org{uuid.uuid4().hex[:6]}@pengjie"
        async with in_tenant("pengjie"):
            org, _ = await ensure_user(username, "蓬街组织委员", DEMO_PASSWORD)
            await ensure_membership(org, "cadre_org", None, None)
        token = await token_for(username, "pengjie")

        async def call(method: str, path: str, json_body=None, slug: str = "pengjie"):
            return await api.client.request(method, f"/t/{slug}/api/v1/cadre/{path}", json=json_body,
                                            headers={"Authorization": f"Bearer {token}"})

        uid = await township_handler()
        added = await call("POST", "cadres", {"user": uid, "post": "科员"})
        assert added.status_code == 201 and added.json()["township"] == ""  # their own staff, counted at home
        # A district's staff is not theirs; nor are the district's cadres.
        luqiao_handler = await user_id("handler@luqiao")
        assert (await call("POST", "cadres", {"user": luqiao_handler})).status_code == 400
        await cad(api, "cadre_org", "POST", "cadres", {"user": luqiao_handler}, None)
        async with in_tenant("luqiao"):
            district_cadres = [r["id"] for r in await scoped(Cadre).select(Cadre.id)]
        mine = (await call("GET", "cadres")).json()
        assert {c["user"] for c in mine} <= await township_staff_ids()
        assert luqiao_handler not in {c["user"] for c in mine}
        for cadre_id in district_cadres[:3]:
            if cadre_id not in {c["id"] for c in mine}:
                assert (await call("GET", f"cadres/{cadre_id}")).status_code == 404
        # Their login counts for nothing at the district.
        assert (await call("GET", "cadres", slug="luqiao")).status_code in (401, 403)
    finally:
        await set_plugins("pengjie", remove={"cadre"})


async def township_staff_ids() -> set[int]:
    from core.tables import Membership

    async with in_tenant("pengjie"):
        return {m["user"] for m in await scoped(Membership).select(Membership.user)}


async def test_district_inspectors_read_township_inspections_only_when_granted(app, api):
    uid = await township_handler()
    summary = "乡镇七必查线索" + uuid.uuid4().hex[:6]
    async with in_tenant("pengjie"):
        await scoped(Inspection).add(rule="misconduct_report", dedupe_key=f"hier:{uuid.uuid4()}", subject=uid,
                                     summary=summary, status="open")
    b = Browser(app)
    await b.login("inspector@luqiao", "luqiao")
    assert summary not in (await b.get("/t/luqiao/inspections/townships")).text
    await set_setting("luqiao", "inspections_townships", True)
    try:
        page = await b.get("/t/luqiao/inspections/townships")
        assert page.status_code == 200 and summary in page.text
        # Read only: another role of the district, and the company, still see nothing of it.
        other = Browser(app)
        await other.login("handler@luqiao", "luqiao")
        assert (await other.get("/t/luqiao/inspections/townships")).status_code == 403
    finally:
        await set_setting("luqiao", "inspections_townships", False)
    assert summary not in (await b.get("/t/luqiao/inspections/townships")).text


async def set_setting(slug: str, key: str, value) -> None:
    row = await Tenant.select(Tenant.settings).where(Tenant.slug == slug).first()
    settings = json.loads(row["settings"] or "{}")
    settings[key] = value
    async with write_transaction():
        await Tenant.update({Tenant.settings: json.dumps(settings)}).where(Tenant.slug == slug)
