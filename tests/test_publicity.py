"""Publicity (公示) of fault-tolerance exemptions and cadre outcomes, with objections (异议).

A decided exemption is shown on the tenant's public page (name, post, unit, decision, period,
summary — never the mistake or the reasons); anyone lodges an objection with a contact; it reaches
the organization department's work queue and is answered once.  The exemption takes effect (the
inspection is marked exempted) only when the period ends with no objection upheld; an upheld one
stops it.  Answers and the period's end racing each other stay right (asyncio.gather)."""

import asyncio
import json
import uuid
from datetime import timedelta

import pytest

from core.cases.tables import Event
from core.clock import today
from plugins.cadre import publicity
from plugins.cadre.tables import Application, Objection, Publicity
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import Browser, in_tenant
from tests.test_cadre import cad, inspection, open_inspection, staff_user, user_id

CHECKS = {k: {"met": True} for k in ("inexperience", "unforbidden", "no_private_gain", "lawful", "reform", "diligent",
                                     "no_benefit", "procedure", "corrected")}


@pytest.fixture
def api(app):
    return Api(app)


async def decided_exemption(api: Api) -> dict:
    """A cadre with an open inspection, an application verified and decided "exempted"."""
    username, uid = await staff_user()
    cadre = await cad(api, "cadre_org", "POST", "cadres", {"user": uid, "post": "窗口科员"}, 201)
    iid = await open_inspection(uid)
    mistake = "未经集体讨论先行审批" + uuid.uuid4().hex[:6]
    application = await cad(api, "cadre_org", "POST", "applications",
                            {"cadre": cadre["id"], "inspection": iid, "mistake": mistake}, 201)
    aid = application["id"]
    await cad(api, "cadre_org", "POST", f"applications/{aid}/verify", {"checks": CHECKS})
    reason = "符合三个区分开来" + uuid.uuid4().hex[:6]
    decided = await cad(api, "cadre_org", "POST", f"applications/{aid}/decide",
                        {"decision": "exempted", "reason": reason, "summary": "为企业开工先行审批"})
    async with in_tenant("luqiao"):
        pub = await scoped(Publicity).select().where(Publicity.application == aid).first()
    return {"aid": aid, "iid": iid, "uid": uid, "name": cadre["name"], "mistake": mistake, "reason": reason,
            "decided": decided, "publicity": pub}


async def lodge(b: Browser, pid: int, text: str = "该干部在审批中收受礼品", contact: str = "13800000000"):
    await b.get(f"/t/luqiao/cadre/publicity/{pid}")  # the page's CSRF token
    return await b.post(f"/t/luqiao/cadre/publicity/{pid}/objections", {"name": "", "contact": contact, "text": text})


async def objection_ids(pid: int) -> list[int]:
    async with in_tenant("luqiao"):
        return [r["id"] for r in await scoped(Objection).select(Objection.id).where(
            Objection.publicity == pid).order_by(Objection.id)]


async def cadre_events(key: str, value: int) -> list[dict]:
    async with in_tenant("luqiao"):
        rows = await scoped(Event).select(Event.data).where(Event.action == "cadre")
    return [d for d in (json.loads(r["data"]) for r in rows) if d.get(key) == value]


def after_the_period(monkeypatch, pub: dict, days: int = 1) -> None:
    """Move the module's clock to `days` after the publicity's last day."""
    ends = pub["ends_on"] if not isinstance(pub["ends_on"], str) else __import__("datetime").date.fromisoformat(
        pub["ends_on"])
    monkeypatch.setattr(publicity, "today", lambda: ends + timedelta(days=days))


async def settle_due() -> int:
    async with in_tenant("luqiao"):
        return await publicity.settle_due()


async def test_the_public_page_shows_the_publicity_and_hides_what_must_not_show(app, api):
    case = await decided_exemption(api)
    pub = case["publicity"]
    assert case["decided"]["status"] == "publicity"
    # Decided, but the inspection is not exempted yet: only when the period ends.
    assert (await inspection(case["iid"]))["conclusion"] != "exempted"
    # The period is `cadre_publicity_days` (5) working days after the decision day.
    from core.workdays import load_calendar

    async with in_tenant("luqiao"):
        assert pub["ends_on"] == (await load_calendar()).add_working_days(today(), 5).date
    b = Browser(app)  # nobody logged in
    page = (await b.get("/t/luqiao/public/")).text
    assert f'data-publicity="{pub["id"]}"' in page and case["name"] in page and "窗口科员" in page
    assert "为企业开工先行审批" in page and 'data-subject="exempted"' in page
    for secret in (case["mistake"], case["reason"], "未经集体讨论"):
        assert secret not in page
    detail = (await b.get(f"/t/luqiao/cadre/publicity/{pub['id']}")).text
    assert case["name"] in detail and case["mistake"] not in detail and case["reason"] not in detail
    # English readers get the same, translated.
    en = (await b.get("/t/luqiao/public/", headers={"Accept-Language": "en"})).text
    assert "Fault-tolerance exemption" in en or 'data-subject="exempted"' in en
    # The confidential module stays closed to the public.
    assert (await b.get("/t/luqiao/cadre/applications")).status_code in (401, 303)


async def test_objections_are_checked_throttled_and_reach_the_organization_department(app, api):
    case = await decided_exemption(api)
    pid = case["publicity"]["id"]
    b = Browser(app)
    assert (await lodge(b, pid, contact="")).status_code == 400  # a contact is required
    assert (await lodge(b, pid, text="x" * 2001)).status_code == 400
    assert (await b.post(f"/t/luqiao/cadre/publicity/{pid}/objections", {"contact": "a", "text": "b"},
                         csrf=False)).status_code == 403
    assert (await lodge(b, 999999)).status_code == 404
    assert await objection_ids(pid) == []  # nothing stored half-way
    lodged = await lodge(b, pid)
    assert lodged.status_code == 303 and "lodged=1" in lodged.headers["location"]
    # The organization department's work queue counts it, and its page lists it.
    queue = (await api.call("cadre_org", "GET", "me/queue")).json()
    counts = {q["key"]: q["count"] for q in (queue["queues"] if isinstance(queue, dict) else queue)}
    assert counts.get("cadre.objections", 0) >= 1
    org = Browser(app)
    await org.login("cadre_org@luqiao", "luqiao")
    listing = (await org.get("/t/luqiao/cadre/objections?status=pending")).text
    assert "该干部在审批中收受礼品" in listing and "13800000000" in listing
    # A few per address and publicity, then 429 with a translated message.
    statuses = [(await lodge(b, pid, text=f"异议{i}")).status_code for i in range(4)]
    assert statuses[-1] == 429 and statuses[:2] == [303, 303]


async def test_an_upheld_objection_stops_the_exemption(app, api, monkeypatch):
    case = await decided_exemption(api)
    pid = case["publicity"]["id"]
    await lodge(Browser(app), pid)
    [oid] = await objection_ids(pid)
    await cad(api, "cadre_org", "POST", f"objections/{oid}/answer", {"verdict": "maybe", "reason": "x"}, 400)
    # Answered twice at once: one answer wins, the other is a 409, one event.
    first, second = await asyncio.gather(
        api.call("cadre_org", "POST", f"cadre/objections/{oid}/answer", {"verdict": "upheld", "reason": "经核实属实"}),
        api.call("cadre_org", "POST", f"cadre/objections/{oid}/answer", {"verdict": "not_upheld", "reason": "不属实"}))
    assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
    assert len([e for e in await cadre_events("objection", oid) if "verdict" in e]) == 1
    async with in_tenant("luqiao"):
        answered = await scoped(Objection).select().where(Objection.id == oid).first()
        pub = await scoped(Publicity).select().where(Publicity.id == pid).first()
        app_row = await scoped(Application).select().where(Application.id == case["aid"]).first()
    winner = first if first.status_code == 200 else second
    assert answered["status"] == winner.json()["status"]
    if answered["status"] == "upheld":
        assert pub["status"] == "stopped" and app_row["status"] == "stopped"
        after_the_period(monkeypatch, pub)
        await settle_due()
        assert (await inspection(case["iid"]))["conclusion"] != "exempted"
        assert (await cad(api, "cadre_org", "GET", f"applications/{case['aid']}"))["status"] == "stopped"
        # No longer on the public page.
        assert f'data-publicity="{pid}"' not in (await Browser(app).get("/t/luqiao/public/")).text
    else:
        assert pub["status"] == "open"
    # Once more, certainly upheld: a second exemption stopped by its objection.
    case = await decided_exemption(api)
    pid = case["publicity"]["id"]
    await lodge(Browser(app), pid)
    [oid] = await objection_ids(pid)
    await cad(api, "cadre_org", "POST", f"objections/{oid}/answer", {"verdict": "upheld", "reason": "经核实属实"})
    after_the_period(monkeypatch, case["publicity"])
    await settle_due()
    async with in_tenant("luqiao"):
        assert (await scoped(Publicity).select(Publicity.status).where(Publicity.id == pid).first())["status"] == "stopped"
    assert (await inspection(case["iid"]))["conclusion"] != "exempted"
    assert (await cad(api, "cadre_org", "GET", f"applications/{case['aid']}"))["status"] == "stopped"


async def test_no_objection_upheld_makes_it_effective_at_the_end_of_the_period(app, api, monkeypatch):
    case = await decided_exemption(api)
    pid = case["publicity"]["id"]
    await lodge(Browser(app), pid)
    [oid] = await objection_ids(pid)
    # Before the end: the job changes nothing; finalizing early is refused.
    assert await settle_due() == 0
    await cad(api, "cadre_org", "POST", f"applications/{case['aid']}/finalize", {}, 409)
    after_the_period(monkeypatch, case["publicity"])
    # Objections are closed once the period is over.
    assert (await lodge(Browser(app), pid)).status_code == 409
    # Ended, but an objection is unanswered: it waits.
    assert await settle_due() == 0
    assert (await inspection(case["iid"]))["conclusion"] != "exempted"
    await cad(api, "cadre_org", "POST", f"objections/{oid}/answer", {"verdict": "not_upheld", "reason": "经核实不属实"})
    assert await settle_due() >= 1
    assert (await inspection(case["iid"]))["conclusion"] == "exempted"
    assert (await cad(api, "cadre_org", "GET", f"applications/{case['aid']}"))["status"] == "final"
    assert await settle_due() == 0  # once only
    assert len([e for e in await cadre_events("publicity", pid) if e.get("step") == "effective"]) == 1


@pytest.mark.parametrize("verdict", ["not_upheld", "upheld"])
async def test_two_answers_and_the_period_end_at_once(app, api, monkeypatch, verdict):
    case = await decided_exemption(api)
    pid = case["publicity"]["id"]
    b = Browser(app)
    await lodge(b, pid, text="第一条异议")
    await lodge(b, pid, text="第二条异议")
    first, second = await objection_ids(pid)
    after_the_period(monkeypatch, case["publicity"])
    answers = [api.call("cadre_org", "POST", f"cadre/objections/{o}/answer", {"verdict": verdict, "reason": "核实"})
               for o in (first, second)]
    results = await asyncio.gather(*answers, settle_due())
    assert [r.status_code for r in results[:2]] == [200, 200]
    await settle_due()  # the next run of the job
    async with in_tenant("luqiao"):
        pub = await scoped(Publicity).select().where(Publicity.id == pid).first()
    events = await cadre_events("publicity", pid)
    conclusion = (await inspection(case["iid"]))["conclusion"]
    if verdict == "upheld":
        assert pub["status"] == "stopped" and conclusion != "exempted"
        assert len([e for e in events if e.get("step") == "stopped"]) == 1
        assert not [e for e in events if e.get("step") == "effective"]
    else:
        assert pub["status"] == "effective" and conclusion == "exempted"
        assert len([e for e in events if e.get("step") == "effective"]) == 1
    assert len([e for e in events if "verdict" in e]) == 2


async def test_an_outcome_is_published_when_the_settings_say_so(app, api):
    username, uid = await staff_user()
    cadre = await cad(api, "cadre_org", "POST", "cadres", {"user": uid, "post": "招商科长"}, 201)
    campaign = await cad(api, "cadre_org", "POST", "campaigns", {
        "title": "评优评先" + uuid.uuid4().hex[:4], "period_start": "2000-01-01", "period_end": "2100-12-31",
        "cadres": [cadre["id"]], "evaluators": [await user_id("cadre_evaluator@luqiao")]}, 201)
    cid = campaign["campaign"]["id"]
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/rate", {"cadre": cadre["id"], "rating": "excellent"})
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/outcome",
              {"cadre": cadre["id"], "outcome": "honours", "reason": "服务企业成效突出" + uid.__str__()})
    page = (await Browser(app).get("/t/luqiao/public/")).text
    assert 'data-subject="honours"' in page and cadre["name"] in page
    assert "服务企业成效突出" not in page and "excellent" not in page
    # "No change" is not among the published outcomes (setting `cadre_publicize_outcomes`).
    async with in_tenant("luqiao"):
        assert "none" not in publicity.published_outcomes() and "honours" in publicity.published_outcomes()
