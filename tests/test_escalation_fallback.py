"""Escalation always reaches a person (提级办理兜底): the department's leader in charge, else the
tenant's district leader for escalations (setting `escalation_leader`), else the dispatchers;
the event says whom it reached and why earlier rungs were passed over.  The set-up page warns
when the fallback itself names nobody."""

import asyncio
import json

from core.cases.tables import Case, Event
from core.tables import Membership, User
from tenants.demo import load_demo
from tenants.onboarding import update_settings
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background

SLUG = "fallbackdist"
MANIFEST = f'''
slug = "{SLUG}"
name_zh = "兜底测试区"
name_en = "Escalation fallback district"
kind = "district"

[settings]
demo_cases = 0

[[departments]]
code = "main"
name_zh = "主办局"

[[departments]]
code = "bare"
name_zh = "空缺局"

[[categories]]
code = "municipal"
name_zh = "市政设施"
lead = "main"
deadline_days = 5

[[categories]]
code = "barecat"
name_zh = "无人承办事项"
lead = "bare"
deadline_days = 5

[[users]]
username = "boss@{SLUG}"
display_name = "区领导 · 兜底"
roles = ["leader"]
'''
_made: list[str] = []


async def tenant():
    if not _made:
        await load_demo(DEMO_PASSWORD, [MANIFEST])
        _made.append(SLUG)
    async with in_tenant(SLUG) as t:
        return t


async def user_id(username: str) -> int:
    return (await User.select(User.id).where(User.username == username).first())["id"]


async def escalation_event(case_id: int) -> dict:
    async with in_tenant(SLUG):
        row = await scoped(Event).select(Event.data, Event.actor_role).where(
            (Event.case == case_id) & (Event.action == "escalate")).first()
    return json.loads(row["data"])


async def escalate_in(api: Api, category: str) -> dict:
    case = await api.submit(category=category)
    await api.step("dispatcher", case["id"], "dispatch")
    return await api.step("dispatcher", case["id"], "escalate", {"reason": "长期无人办理"})


async def test_first_rung_the_departments_leader_in_charge(app):
    t = await tenant()
    await update_settings(t.id, {"escalation_leader": f"boss@{SLUG}"})
    case = await escalate_in(Api(app, SLUG), "municipal")
    leader = await user_id(f"leader@{SLUG}")
    assert case["escalated"] is True
    data = await escalation_event(case["id"])
    assert data["rung"] == "leader" and data["escalated_to"] == leader and data["passed_over"] == []


async def test_second_rung_the_district_leader_for_an_empty_department(app):
    t = await tenant()
    await update_settings(t.id, {"escalation_leader": f"boss@{SLUG}"})
    api = Api(app, SLUG)
    case = await escalate_in(api, "barecat")
    boss = await user_id(f"boss@{SLUG}")
    data = await escalation_event(case["id"])
    assert data == {"escalated_to": boss, "rung": "district_leader", "passed_over": ["leader"]}
    async with in_tenant(SLUG):
        assert (await scoped(Case).select(Case.escalated_to).where(Case.id == case["id"]).first())[
            "escalated_to"] == boss
    # The district leader belongs to no department, yet sees the case and is told of it.
    seen = await Api(app, SLUG).call("dispatcher", "GET", f"cases/{case['id']}")
    assert seen.status_code == 200
    browser = Browser(app)
    await browser.login(f"boss@{SLUG}", SLUG)
    page = await browser.get(f"/t/{SLUG}/cases/{case['id']}")
    assert page.status_code == 200 and case["number"] in page.text
    await process_background()
    notices = await browser.get(f"/t/{SLUG}/notifications/")
    assert case["number"] in notices.text


async def test_third_rung_the_dispatchers_when_no_district_leader_is_named(app):
    t = await tenant()
    for setting in ("", "nobody@nowhere"):
        await update_settings(t.id, {"escalation_leader": setting})
        case = await escalate_in(Api(app, SLUG), "barecat")
        data = await escalation_event(case["id"])
        dispatcher = await user_id(f"dispatcher@{SLUG}")
        assert data["rung"] == "dispatchers" and data["escalated_to"] == dispatcher, setting
        assert data["passed_over"] == ["leader", "district_leader_unknown" if setting else "district_leader"]


async def test_a_named_district_leader_who_left_is_passed_over(app):
    t = await tenant()
    await update_settings(t.id, {"escalation_leader": f"boss@{SLUG}"})
    boss = await user_id(f"boss@{SLUG}")
    await User.update({User.active: False}).where(User.id == boss)
    try:
        case = await escalate_in(Api(app, SLUG), "barecat")
    finally:
        await User.update({User.active: True}).where(User.id == boss)
    data = await escalation_event(case["id"])
    assert data["rung"] == "dispatchers" and data["passed_over"] == ["leader", "district_leader_unknown"]


async def test_two_escalations_at_once_one_wins(app):
    t = await tenant()
    await update_settings(t.id, {"escalation_leader": f"boss@{SLUG}"})
    api = Api(app, SLUG)
    case = await api.submit(category="barecat")
    await api.step("dispatcher", case["id"], "dispatch")
    answers = await asyncio.gather(*[api.call("dispatcher", "POST", f"cases/{case['id']}/escalate",
                                              {"reason": "并发"}) for _ in range(2)])
    assert sorted(r.status_code for r in answers) == [200, 409]
    async with in_tenant(SLUG):
        assert await scoped(Event).count().where((Event.case == case["id"]) & (Event.action == "escalate")) == 1


async def test_the_setup_page_warns_when_the_fallback_names_nobody(app):
    t = await tenant()
    await update_settings(t.id, {"escalation_leader": "nobody@nowhere"})
    admin = Browser(app)
    await admin.login(f"tenant_admin@{SLUG}", SLUG)
    page = await admin.get(f"/t/{SLUG}/setup/?show=escalation")
    assert page.status_code == 200
    assert 'data-fallback="district_leader_unknown"' in page.text and "nobody@nowhere" in page.text
    home = await admin.get(f"/t/{SLUG}/")
    assert "setup/?show=escalation" in home.text
    await update_settings(t.id, {"escalation_leader": f"boss@{SLUG}"})
    page = await admin.get(f"/t/{SLUG}/setup/?show=escalation")
    assert "data-fallback=" not in page.text
    # No dispatcher at all: the last rung is empty, and that is said too.
    async with in_tenant(SLUG):
        kept = await scoped(Membership).select().where(Membership.role == "dispatcher")
        await scoped(Membership).delete().where(Membership.role == "dispatcher")
    try:
        page = await admin.get(f"/t/{SLUG}/setup/?show=escalation")
        assert 'data-fallback="dispatchers"' in page.text
    finally:
        async with in_tenant(SLUG):
            for m in kept:
                await scoped(Membership).add(user=m["user"], role=m["role"], department=m["department"],
                                             section=m["section"])
