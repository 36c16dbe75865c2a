"""Courts as tenants of their own, and referrals across tenant links (转办法院调解).

A referral from `luqiao` arrives at `luqiao-court`, carrying only what the form sent, and the
court's milestones come back onto the case's timeline through the outbox; every message is on
both tenants' hash-chained records; `jiaojiang` and `luqiao` see only their own referrals; a
district without an active link is refused (403) and nothing is stored; ending a link stops new
referrals and keeps history; a message whose delivery died half-way is applied exactly once; the
court's desk; the demo court and its links."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest

from core.cases.tables import Event
from core.clock import today
from core.tables import OutboxMessage
from core.tenant_links import TenantLink, declare, end, links_of
from plugins.mediation.referrals import ACTOR
from plugins.mediation.tables import Dispute, LinkMessage, Referral
from tenants.onboarding import apply_manifest
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background, token_for

COURT = "luqiao-court"


@pytest.fixture
async def district(app):
    return Api(app, "luqiao")


@pytest.fixture
async def court(app):
    return Api(app, COURT)


async def call(api: Api, role: str, method: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
    response = await api.call(role, method, f"mediation/{path}", body)
    assert response.status_code == expect, (api.slug, role, path, response.status_code, response.text)
    return response.json()


async def refer(api: Api, case_id: int, expect: int = 201, **extra) -> dict:
    body = {"case": case_id, "court": COURT, "creditor": "台州银行路桥支行", "principal_fen": 3_000_000_00,
            "summary": "贷款到期，企业经营正常，申请调解分期。", **extra}
    return await call(api, "dispatcher", "POST", "referrals", body, expect=expect)


async def court_dispute(court: Api, key: str) -> dict:
    rows = await call(court, "mediation_court", "GET", "disputes")
    found = [r for r in rows if r["referral_key"] == key]
    assert len(found) == 1, [r["referral_key"] for r in rows][:5]
    return await call(court, "mediation_court", "GET", f"disputes/{found[0]['id']}")


async def chain(slug: str, key: str) -> list[str]:
    async with in_tenant(slug):
        rows = await scoped(Event).select(Event.action, Event.data).where(Event.action.like("mediation_%"))
    return [r["action"] for r in rows if json.loads(r["data"]).get("key") == key]


async def messages_out(slug: str, referral_key: str) -> list[str]:
    async with in_tenant(slug):
        return [r["key"] for r in await scoped(LinkMessage).select(LinkMessage.key).where(
            (LinkMessage.referral_key == referral_key) & (LinkMessage.direction == "out")).order_by(LinkMessage.id)]


async def test_a_referral_arrives_at_the_court_and_its_milestones_come_back_to_the_case(district, court):
    case = await district.submit(title="银行贷款到期无力一次偿还", description="申请法院组织调解，分期还款。")
    referral = await refer(district, case["id"])
    assert referral["status"] == "sent" and referral["court"] == COURT
    await process_background()
    d = await court_dispute(court, referral["key"])
    # only what the form sent crossed: the company as registered, the creditor, the amount, the summary
    assert d["status"] == "referred" and d["referred_from"] == "luqiao" and d["case"] is None
    assert d["principal_fen"] == 3_000_000_00 and d["summary"].startswith("贷款到期")
    assert {p["role"]: p["name"] for p in d["parties"]}["creditor"] == "台州银行路桥支行"
    assert case["title"] not in json.dumps(d, ensure_ascii=False) and case["number"] not in json.dumps(d)
    judge, mediator = f"mediation_judge@{COURT}", f"mediation_mediator@{COURT}"
    await call(court, "mediation_court", "POST", f"disputes/{d['id']}/accept", {"judge": judge, "mediator": mediator})
    await call(court, "mediation_mediator", "POST", f"disputes/{d['id']}/session",
               {"place": "路桥法院调解室", "outcome": "agreed"})
    await call(court, "mediation_mediator", "POST", f"disputes/{d['id']}/settle", {
        "settled_fen": 3_000_000_00, "terms": "分两期", "plan": [
            {"due_on": "2027-06-30", "amount_fen": 1_500_000_00}, {"due_on": "2027-12-31", "amount_fen": 1_500_000_00}]})
    await call(court, "mediation_judge", "POST", f"disputes/{d['id']}/confirm", {"ref": "(2026)浙1004民特9号"})
    await process_background()
    mine = await call(district, "dispatcher", "GET", f"referrals/{referral['id']}")
    assert mine["status"] == "confirmed" and mine["dispute_number"] == d["number"]
    assert [m["milestone"] for m in mine["milestones"]] == ["sent", "accepted", "session_held", "settled", "confirmed"]
    timeline = [e["action"] for e in (await district.get("dispatcher", case["id"]))["timeline"]]
    for action in ("mediation_referral", "mediation_accepted", "mediation_session_held", "mediation_settled",
                   "mediation_confirmed"):
        assert action in timeline, (action, timeline)
    # every message that crossed is on both tenants' chains: sent on one, received on the other
    referral_keys = await messages_out("luqiao", referral["key"])
    milestone_keys = await messages_out(COURT, referral["key"])
    assert len(referral_keys) == 1 and len(milestone_keys) == 4
    assert await chain("luqiao", referral_keys[0]) == ["mediation_sent"]
    assert await chain(COURT, referral_keys[0]) == ["mediation_received"]
    for key in milestone_keys:
        assert await chain(COURT, key) == ["mediation_sent"] and await chain("luqiao", key) == ["mediation_received"]
    b = Browser(district.client._transport.app)
    await b.login("dispatcher@luqiao", "luqiao")
    page = await b.get(f"/t/luqiao/cases/{case['id']}")
    assert 'data-action="mediation_confirmed"' in page.text


async def test_milestones_that_overtake_each_other_are_shown_as_they_happened(district):
    """Messages may arrive out of order (two workers): the later milestone keeps the status, and the
    list reads in the order the court recorded them."""
    from datetime import datetime, timezone

    from plugins.mediation.referrals import receive

    case = await district.submit(title="贷款展期", description="请求调解")
    referral = await refer(district, case["id"])
    await process_background()
    early, late = (datetime(2030, 1, 1, 9, m, tzinfo=timezone.utc).isoformat() for m in (0, 5))
    async with in_tenant("luqiao"):
        for key, milestone, at in (("t-late", "settled", late), ("t-early", "accepted", early)):  # late one first
            await receive.fn(f"{key}-{referral['key']}", COURT, "法院", "milestone", referral["key"],
                             {"milestone": milestone, "number": "HH2030-00001", "at": at})
    mine = await call(district, "dispatcher", "GET", f"referrals/{referral['id']}")
    assert mine["status"] == "settled"
    assert [m["milestone"] for m in mine["milestones"]] == ["sent", "accepted", "settled"]


async def test_each_district_sees_only_its_own_referrals_and_the_court_only_those_addressed_to_it(app, district):
    case = await district.submit(title="贷款纠纷", description="请求法院调解")
    referral = await refer(district, case["id"])
    other = Api(app, "jiaojiang")
    assert (await other.call("dispatcher", "GET", f"mediation/referrals/{referral['id']}")).status_code == 404
    assert referral["id"] not in [r["id"] for r in await call(other, "dispatcher", "GET", "referrals")]
    assert all(r["court"] == COURT for r in await call(district, "dispatcher", "GET", "referrals"))
    # a district user cannot reach the court's disputes, nor the court a district's referrals
    assert (await district.call("dispatcher", "GET", "mediation/disputes")).status_code == 403
    court = Api(app, COURT)
    assert (await court.call("tenant_admin", "GET", "mediation/referrals")).status_code == 404
    assert (await district.call("company", "GET", "mediation/referrals")).status_code == 403
    await process_background()


async def _unlinked_district(courts: list[str]) -> str:
    slug = f"dist-{uuid.uuid4().hex[:6]}"
    manifest = f'''slug = "{slug}"
name_zh = "测试区"
name_en = "Test district"
kind = "district"
plugins = ["mediation"]
courts = {json.dumps(courts)}

[[departments]]
code = "fw"
name_zh = "服务中心"

[[categories]]
code = "loan"
name_zh = "融资"
lead = "fw"
deadline_days = 5

[[users]]
username = "dispatcher@{slug}"
display_name = "调度员"
roles = ["dispatcher"]
'''
    await apply_manifest(manifest, default_password=DEMO_PASSWORD)
    return slug


async def test_a_district_without_an_active_link_is_refused_and_nothing_is_stored(app):
    for courts in ([], [COURT]):  # no link at all; declared by the district only, not by the court
        slug = await _unlinked_district(courts)
        api = Api(app, slug)
        api.tokens["dispatcher"] = await token_for(f"dispatcher@{slug}", slug)
        outbox = await OutboxMessage.count()
        refused = await refer(api, 1, expect=403)
        assert refused["code"] == "no_link", refused
        async with in_tenant(slug):
            assert await scoped(Referral).count() == 0 and await scoped(LinkMessage).count() == 0
        assert await OutboxMessage.count() == outbox
        b = Browser(app)
        await b.login(f"dispatcher@{slug}", slug)
        form = await b.get(f"/t/{slug}/mediation/refer")
        assert form.status_code == 200 and "data-referral-form" not in form.text


async def test_ending_a_link_stops_new_referrals_and_keeps_history(app, court):
    jiaojiang = Api(app, "jiaojiang")
    case = await jiaojiang.submit(title="贷款到期", description="请求调解")
    before = await refer(jiaojiang, case["id"])
    await process_background()
    d = await court_dispute(court, before["key"])
    async with in_tenant(COURT) as tenant:
        assert await end(tenant.id, "jiaojiang")
    try:
        async with in_tenant("jiaojiang") as tenant:
            links = {link["partner"]: link for link in await links_of(tenant)}
        assert links[COURT]["declared_here"] and not links[COURT]["declared_there"] and not links[COURT]["active"]
        refused = await refer(jiaojiang, case["id"], expect=403)
        assert refused["code"] == "no_link"
        # history stays on both sides; a milestone no longer crosses the ended link
        assert [r["id"] for r in await call(jiaojiang, "dispatcher", "GET", "referrals")].count(before["id"]) == 1
        await call(court, "mediation_court", "POST", f"disputes/{d['id']}/accept", {})
        await process_background()
        assert (await call(jiaojiang, "dispatcher", "GET", f"referrals/{before['id']}"))["status"] == "sent"
        assert (await call(court, "mediation_court", "GET", f"disputes/{d['id']}"))["status"] == "mediating"
    finally:
        async with in_tenant(COURT) as tenant:
            await declare(tenant.id, "jiaojiang")


async def test_a_message_whose_delivery_died_is_applied_exactly_once(app, district, court, monkeypatch):
    from plugins.mediation import referrals
    from workers.actors import run_actor

    case = await district.submit(title="贷款到期", description="请求调解")
    referral = await refer(district, case["id"])
    await process_background()
    d = await court_dispute(court, referral["key"])
    await call(court, "mediation_court", "POST", f"disputes/{d['id']}/accept", {})
    message = await OutboxMessage.select().where(
        (OutboxMessage.actor == ACTOR) & OutboxMessage.sent_at.is_null()).order_by(OutboxMessage.id, ascending=False).first()
    kwargs = json.loads(message["payload"])
    assert kwargs["body"]["milestone"] == "accepted"

    real = referrals._apply_milestone

    async def dies(*args, **kw):  # the worker is killed half-way: its transaction never commits
        await real(*args, **kw)
        raise SystemExit("worker killed")

    monkeypatch.setattr(referrals, "_apply_milestone", dies)
    with pytest.raises(SystemExit):
        await run_actor(message["actor"], message["message_id"], message["tenant_id"], dict(kwargs))
    monkeypatch.setattr(referrals, "_apply_milestone", real)
    assert (await call(district, "dispatcher", "GET", f"referrals/{referral['id']}"))["status"] == "sent"
    await process_background()  # the message is still in the outbox: delivered after the restart
    await run_actor(message["actor"], message["message_id"], message["tenant_id"], dict(kwargs))  # again
    await run_actor(message["actor"], str(uuid.uuid4()), message["tenant_id"], dict(kwargs))  # a copy
    timeline = [e["action"] for e in (await district.get("dispatcher", case["id"]))["timeline"]]
    assert timeline.count("mediation_accepted") == 1
    assert await chain("luqiao", kwargs["key"]) == ["mediation_received"]
    async with in_tenant("luqiao"):
        assert await scoped(LinkMessage).count().where(LinkMessage.key == kwargs["key"]) == 1


async def test_the_demo_court_is_a_tenant_of_its_own_linked_to_two_districts(app):
    async with in_tenant("luqiao") as tenant:
        links = {link["partner"]: link for link in await links_of(tenant)}
        assert links[COURT]["active"] and links[COURT]["kind"] == "court"
    async with in_tenant(COURT) as tenant:
        assert tenant.kind == "court"
        partners = {link["partner"] for link in await links_of(tenant) if link["active"]}
        assert partners == {"luqiao", "jiaojiang"}
        statuses = {r["status"] for r in await scoped(Dispute).select(Dispute.status)}
    assert statuses >= {"referred", "declined", "mediating", "settled", "repaying", "defaulted", "enforcing",
                        "enforced", "completed"}
    assert await TenantLink.count().where(TenantLink.partner == COURT) >= 2
    b = Browser(app)
    refused = await b.login("mediation_judge@luqiao", "luqiao")  # the old in-district court accounts are gone
    assert "mediation_judge@luqiao" not in refused.headers.get("location", "") and \
        (await b.get("/t/luqiao/mediation/")).status_code in (302, 303, 401, 403)
    judge = Browser(app)
    await judge.login(f"mediation_judge@{COURT}", COURT)
    assert (await judge.get(f"/t/{COURT}/mediation/")).status_code == 200
    # the demo's plans agree with the court's today: a sweep now defaults nobody
    admin = Api(app, COURT)
    preview = await call(admin, "tenant_admin", "GET", "sweep")
    assert not [c for c in preview["changes"] if c["change"] in ("default", "overdue")], preview["changes"]


async def test_the_courts_desk_shows_its_work_and_survival_per_district(app, district, court):
    case = await district.submit(title="贷款到期", description="请求调解")
    referral = await refer(district, case["id"])
    await process_background()
    d = await court_dispute(court, referral["key"])
    b = Browser(app)
    await b.login(f"mediation_court@{COURT}", COURT)
    home = (await b.get(f"/t/{COURT}/")).text
    assert 'data-widget="mediation_desk"' in home and f'mediation/disputes/{d["id"]}"' in home
    queue = re.search(r'data-queue="mediation.referred" data-count="(\d+)"', home)
    assert queue and int(queue.group(1)) >= 1
    figures = await call(court, "mediation_judge", "GET", "figures")
    async with in_tenant(COURT):
        rows = await scoped(Dispute).select(Dispute.status, Dispute.referred_from).where(
            Dispute.status.is_in(["completed", "enforced"]))
    for district_row in figures["by_district"]:
        mine = [r["status"] for r in rows if r["referred_from"] == district_row["district"]]
        assert (district_row["survived"], district_row["resolved"]) == (mine.count("completed"), len(mine))
        assert f'data-district="{district_row["district"]}" data-survived="{district_row["survived"]}"' in home
    assert {r["district"] for r in figures["by_district"]} >= {"luqiao", "jiaojiang"}
    # an instalment overdue within its grace period shows as a default in grace
    await call(court, "mediation_court", "POST", f"disputes/{d['id']}/accept", {})
    await call(court, "mediation_mediator", "POST", f"disputes/{d['id']}/settle", {
        "settled_fen": 100_00, "terms": "一期", "signed_on": "2026-01-01",
        "plan": [{"due_on": (today() - timedelta(days=3)).isoformat(), "amount_fen": 100_00}]})
    await call(court, "mediation_judge", "POST", f"disputes/{d['id']}/confirm", {"ref": "(2026)浙1004民特7号"})
    async with in_tenant(COURT):
        from plugins.mediation.queries import desk

        shown = await desk()
    assert d["id"] in [g["dispute"] for g in shown["in_grace"]] and d["id"] in [i["dispute"] for i in shown["overdue"]]
    await process_background()


async def test_export_carries_links_and_import_brings_a_link_to_a_missing_tenant_in_inactive(tmp_path):
    import subprocess
    import sys
    import zipfile

    from tenants.import_ import ImportReport, _Importer
    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "cli", "tenant", "export", COURT, str(tmp_path / "court.zip")],
                          cwd=ROOT, capture_output=True, text=True)  # as the command runs it (the owner's login)
    assert done.returncode == 0, done.stderr[-2000:]
    with zipfile.ZipFile(tmp_path / "court.zip") as z:
        manifest = json.loads(z.read("manifest.json"))
    links = {link["partner"]: link for link in manifest["tenant"]["links"]}
    assert set(links) >= {"luqiao", "jiaojiang"} and links["luqiao"]["ended_at"] is None
    # imported (here: a fresh tenant standing for the import) with one link to a tenant that is not here
    slug = await _unlinked_district([])
    importer = _Importer(None, manifest, {}, lambda line: None)
    importer.report = ImportReport(slug=slug, tenant_id=0)
    async with in_tenant(slug) as tenant:
        await importer._links({"slug": slug, "links": [{"partner": "nowhere-court", "declared_at": None},
                                                       {"partner": COURT, "declared_at": links["luqiao"]["declared_at"]}]},
                              tenant.id)
        declared = {link["partner"]: link for link in await links_of(tenant)}
    assert not declared["nowhere-court"]["active"] and not declared["nowhere-court"]["present"]
    assert not declared[COURT]["active"]  # the court does not declare this district
    assert any("nowhere-court" in w and "inactive" in w for w in importer.report.warnings), importer.report.warnings
    assert any(COURT in w for w in importer.report.warnings)


async def test_the_system_console_shows_declares_and_ends_links(app):
    from tests.test_system_console import console

    b = await console(app)
    page = (await b.get(f"/system/tenants/{COURT}")).text
    assert 'data-link="luqiao" data-active="1"' in page and 'data-link="jiaojiang" data-active="1"' in page
    slug = await _unlinked_district([])  # a district the court does not serve yet
    ended = await b.post(f"/system/tenants/{COURT}/links", {"partner": slug, "enabled": "1"})
    assert ended.status_code == 303
    assert f'data-link="{slug}" data-active="0"' in (await b.get(f"/system/tenants/{COURT}")).text  # one side only
    await b.post(f"/system/tenants/{slug}/links", {"partner": COURT, "enabled": "1"})
    assert f'data-link="{slug}" data-active="1"' in (await b.get(f"/system/tenants/{COURT}")).text
    await b.post(f"/system/tenants/{slug}/links", {"partner": COURT, "enabled": "0"})
    assert f'data-link="{slug}" data-active="0"' in (await b.get(f"/system/tenants/{COURT}")).text
    refused = await b.post(f"/system/tenants/{COURT}/links", {"partner": COURT, "enabled": "1"})
    assert refused.status_code == 400  # a court does not link with itself (nor with another court)
    assert (await b.post("/system/tenants/pengjie/links", {"partner": COURT, "enabled": "1"})).status_code == 400


async def test_a_declined_referral_says_so_on_the_district_side(district, court):
    case = await district.submit(title="贷款纠纷", description="请求调解")
    referral = await refer(district, case["id"])
    await process_background()
    d = await court_dispute(court, referral["key"])
    await call(court, "mediation_court", "POST", f"disputes/{d['id']}/decline", {}, expect=400)  # a reason is needed
    d = await call(court, "mediation_court", "POST", f"disputes/{d['id']}/decline", {"reason": "不属于本院管辖"})
    assert d["status"] == "declined"
    await call(court, "mediation_mediator", "POST", f"disputes/{d['id']}/session", {"place": "x"}, expect=409)
    await process_background()
    mine = await call(district, "dispatcher", "GET", f"referrals/{referral['id']}")
    assert mine["status"] == "declined"
    assert "mediation_declined" in [e["action"] for e in (await district.get("dispatcher", case["id"]))["timeline"]]
