"""The township liaison roles at work (issue 21, item 8): a village runner (村社助跑员) logs a
company's need met in the village and hands it to the company's assistant or files it as a case on
its behalf; the industry experts (百晓长 / 百晓小分队) answer consultations routed to them by field,
due in working days, overdue ones in their queue, the answer kept for the company; the company
liaison (企业联络员) receives the assistant's visits and messages, replies, and files for the
company.  Each once, even when two requests arrive at the same moment."""

import asyncio
import json
import re
import uuid

from core.cases.companies import add_member
from core.cases.tables import Case
from core.clock import today
from core.db import write_transaction
from core.workdays import load_calendar
from plugins.liaison.tables import Consultation, Need, Person, VillageNeed
from tenants.scope import scoped
from tenants.tables import Tenant
from tests.helpers import Browser, in_tenant, token_for
from tests.test_liaison import SLUG, Client, new_company, new_user, pair

RUNNER, LEAD, ASSISTANT = f"liaison_runner@{SLUG}", f"liaison_lead@{SLUG}", f"liaison_assistant@{SLUG}"
COORDINATOR = f"liaison_coordinator@{SLUG}"


async def set_setting(key: str, value) -> None:
    row = await Tenant.select(Tenant.settings).where(Tenant.slug == SLUG).first()
    settings = json.loads(row["settings"] or "{}") if isinstance(row["settings"], str) else dict(row["settings"] or {})
    settings[key] = value
    async with write_transaction():
        await Tenant.update({Tenant.settings: json.dumps(settings)}).where(Tenant.slug == SLUG)


async def paired_company() -> tuple[int, str]:
    """A fresh company paired with the demo assistant."""
    company_id, code, _ = await new_company()
    await pair(company_id, ASSISTANT)
    return company_id, code


async def company_user(company_id: int, liaison: bool = True) -> str:
    username, user_id = await new_user("company")
    async with in_tenant(SLUG):
        await add_member(company_id, user_id, liaison=liaison)
    return username


async def expert(field: str, kind: str = "lead") -> tuple[str, int]:
    """A new industry expert (login and entry) covering `field`: (username, person id)."""
    username, user_id = await new_user("liaison_lead")
    async with in_tenant(SLUG):
        person = await scoped(Person).add(kind=kind, name=f"专家{uuid.uuid4().hex[:4]}", user=user_id, fields=field)
    return username, person.id


async def queue(app, username: str) -> dict[str, int]:
    """The user's work queue counts, as the API gives them."""
    c = Client(app, username)
    c.token = await token_for(username, SLUG)
    response = await c.http.get(f"/t/{SLUG}/api/v1/me/queue", headers={"Authorization": f"Bearer {c.token}"})
    assert response.status_code == 200, response.text
    return {q["key"]: q["count"] for q in response.json()}


# -- the village runner ------------------------------------------------------------------------------

async def test_a_runner_hands_a_need_to_the_assistant_once(app):
    company_id, _ = await paired_company()
    runner, assistant = Client(app, RUNNER), Client(app, ASSISTANT)
    before = (await queue(app, RUNNER))["liaison.village"]
    logged = await runner.call("POST", "village-needs", {"company": company_id, "title": "村道坑洼，货车进出困难",
                                                          "place": "蓬北村工业区路口"})
    assert logged.status_code == 201, logged.text
    assert (await queue(app, RUNNER))["liaison.village"] == before + 1
    handed = await runner.call("POST", f"village-needs/{logged.json()['id']}/hand-over")
    assert handed.status_code == 200, handed.text
    page = (await assistant.call("GET", f"companies/{company_id}")).json()
    [need] = [n for n in page["needs"] if n["title"] == "村道坑洼，货车进出困难"]
    assert need["channel"] == "village" and need["status"] == "open" and "蓬北村工业区路口" in need["description"]
    assert (await queue(app, RUNNER))["liaison.village"] == before
    again = await runner.call("POST", f"village-needs/{logged.json()['id']}/hand-over")
    assert again.status_code == 409 and again.json()["code"] == "need_closed"


async def test_two_hand_overs_at_once_make_one_need(app):
    company_id, _ = await paired_company()
    runner = Client(app, RUNNER)
    title = f"用电增容{uuid.uuid4().hex[:6]}"
    logged = (await runner.call("POST", "village-needs", {"company": company_id, "title": title})).json()
    answers = await asyncio.gather(*(Client(app, RUNNER).call("POST", f"village-needs/{logged['id']}/hand-over")
                                     for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409], [a.text for a in answers]
    async with in_tenant(SLUG):
        assert await scoped(Need).count().where(Need.title == title) == 1


async def test_a_runner_files_a_need_as_a_case_and_not_twice(app):
    company_id, code = await paired_company()
    runner = Client(app, RUNNER)
    logged = (await runner.call("POST", "village-needs", {"company": code, "title": "厂区门口积水",
                                                          "place": "蓬北村"})).json()
    bad = await runner.call("POST", f"village-needs/{logged['id']}/file", {"category": "nope"})
    assert bad.status_code == 400  # nothing kept: the need is still to hand over
    filed = await runner.call("POST", f"village-needs/{logged['id']}/file", {"category": "infrastructure"})
    assert filed.status_code == 201, filed.text
    assert filed.json()["on_behalf"] is True
    async with in_tenant(SLUG):
        case = await scoped(Case).select(Case.company, Case.title).where(Case.id == filed.json()["id"]).first()
        row = await scoped(VillageNeed).select().where(VillageNeed.id == logged["id"]).first()
    assert case == {"company": company_id, "title": "厂区门口积水"}
    assert row["status"] == "filed" and row["case"] == filed.json()["id"]
    assert (await runner.call("POST", f"village-needs/{logged['id']}/hand-over")).status_code == 409
    # another runner does not even see it
    other, _ = await new_user("liaison_runner")
    assert (await Client(app, other).call("POST", f"village-needs/{logged['id']}/file",
                                          {"category": "infrastructure"})).status_code == 404


async def test_the_runner_works_from_the_pages(app):
    company_id, _ = await paired_company()
    b = Browser(app)
    assert (await b.login(RUNNER, SLUG)).status_code == 303
    home = await b.get(f"/t/{SLUG}/")
    assert 'data-queue="liaison.village"' in home.text
    page = await b.get(f"/t/{SLUG}/liaison/village")
    assert page.status_code == 200 and 'id="village-log"' in page.text
    response = await b.post(f"/t/{SLUG}/liaison/village", {"company": str(company_id), "title": "招工难，需对接人社",
                                                            "place": "蓬北村"})
    assert response.status_code == 303
    listed = await b.get(f"/t/{SLUG}/liaison/village?show=logged")
    need_id = re.search(r'data-village-need="(\d+)" data-status="logged">\s*<strong>招工难，需对接人社', listed.text)
    assert need_id, listed.text[-2000:]
    assert (await b.post(f"/t/{SLUG}/liaison/village/{need_id.group(1)}/hand-over")).status_code == 303
    after = await b.get(f"/t/{SLUG}/liaison/village")
    assert f'data-village-need="{need_id.group(1)}" data-status="handed"' in after.text
    assert (await b.post(f"/t/{SLUG}/liaison/village/{need_id.group(1)}/hand-over")).status_code == 409


# -- the experts -------------------------------------------------------------------------------------

async def test_consultations_are_routed_by_field_with_a_working_day_deadline(app):
    field_a, field_b = f"跨境电商{uuid.uuid4().hex[:4]}", f"新材料{uuid.uuid4().hex[:4]}"
    await set_setting("liaison_consultation_fields", f"{field_a}，{field_b}")
    await set_setting("liaison_consultation_days", 4)
    try:
        (_, person_a), (_, person_b) = await expert(field_a), await expert(field_b, "team")
        company_id, _ = await paired_company()
        liaison = Client(app, await company_user(company_id))
        asked_a = await liaison.call("POST", "consultations", {"field": field_a, "question": "出口退税怎么办理？"})
        asked_b = await liaison.call("POST", "consultations", {"company": company_id, "field": field_b,
                                                              "question": "新材料项目有无中试平台？"})
        assert asked_a.status_code == asked_b.status_code == 201, (asked_a.text, asked_b.text)
        assert asked_a.json()["expert"] == person_a and asked_b.json()["expert"] == person_b
        calendar = await load_calendar()
        assert asked_a.json()["due_on"] == calendar.add_working_days(today(), 4).date.isoformat()
        # the network's own fields route to the demo's lead and team
        assistant = Client(app, ASSISTANT)
        talent = await assistant.call("POST", "consultations", {"company": company_id, "field": "talent",
                                                                "question": "高级技师落户政策？"})
        async with in_tenant(SLUG):
            team = await scoped(Person).select(Person.id).where(Person.name == "百晓小分队（演示）").first()
        assert talent.status_code == 201 and talent.json()["expert"] == team["id"]
        # a field nobody covers, or one the tenant does not have, is refused and nothing stored
        await set_setting("liaison_consultation_fields", f"{field_a}，{field_b}，无人领域")
        nobody = await liaison.call("POST", "consultations", {"field": "无人领域", "question": "？"})
        unknown = await liaison.call("POST", "consultations", {"field": "astrology", "question": "？"})
        assert (nobody.status_code, nobody.json()["code"]) == (400, "no_expert")
        assert unknown.status_code == 400
        async with in_tenant(SLUG):
            assert await scoped(Consultation).count().where(Consultation.company == company_id) == 3
    finally:
        await set_setting("liaison_consultation_fields", "")
        await set_setting("liaison_consultation_days", 3)


async def test_an_expert_answers_once_and_the_company_sees_the_answer(app):
    field = f"数字化{uuid.uuid4().hex[:4]}"
    await set_setting("liaison_consultation_fields", field)
    try:
        lead, _ = await expert(field)
        company_id, _ = await paired_company()
        username = await company_user(company_id)
        asked = (await Client(app, username).call("POST", "consultations",
                                                  {"field": field, "question": "上云补贴怎么申请？"})).json()
        assert (await queue(app, lead))["liaison.consultations"] == 1
        # someone else's expert may not answer; the company may not either
        other, _ = await expert(field)
        assert (await Client(app, other).call("POST", f"consultations/{asked['id']}/answer",
                                              {"answer": "x"})).status_code in (403, 404)
        answers = await asyncio.gather(*(Client(app, lead).call("POST", f"consultations/{asked['id']}/answer",
                                                                {"answer": f"答复{i}：登录政务网申报。"})
                                         for i in range(3)))
        assert sorted(a.status_code for a in answers) == [200, 409, 409], [a.text for a in answers]
        assert (await queue(app, lead))["liaison.consultations"] == 0
        seen = (await Client(app, username).call("GET", "consultations")).json()
        [row] = [r for r in seen if r["id"] == asked["id"]]
        assert row["status"] == "answered" and row["answer"].endswith("登录政务网申报。")
        # and on the company's pages
        b = Browser(app)
        await b.login(username, SLUG)
        page = await b.get(f"/t/{SLUG}/liaison/consultations")
        assert page.status_code == 200 and row["answer"] in page.text
        assert row["answer"] in (await b.get(f"/t/{SLUG}/liaison/companies/{company_id}")).text
    finally:
        await set_setting("liaison_consultation_fields", "")


async def test_overdue_consultations_show_in_the_experts_queue(app):
    field = f"专精特新{uuid.uuid4().hex[:4]}"
    await set_setting("liaison_consultation_fields", field)
    try:
        lead, _ = await expert(field)
        company_id, _ = await paired_company()
        runner = Client(app, RUNNER)
        ids = [(await runner.call("POST", "consultations", {"company": company_id, "field": field,
                                                            "question": f"问题{i}"})).json()["id"] for i in range(2)]
        assert (await queue(app, lead))["liaison.consultations_overdue"] == 0
        async with in_tenant(SLUG):
            calendar = await load_calendar()
            await scoped(Consultation).update({Consultation.due_on: calendar.previous_workday(today()).date}).where(
                Consultation.id == ids[0])
        counts = await queue(app, lead)
        assert counts["liaison.consultations_overdue"] == 1 and counts["liaison.consultations"] == 2
        b = Browser(app)
        await b.login(lead, SLUG)
        page = await b.get(f"/t/{SLUG}/liaison/consultations?show=overdue")
        assert 'data-total="1"' in page.text and f'data-consultation="{ids[0]}"' in page.text
        assert "flag-overdue" in page.text
    finally:
        await set_setting("liaison_consultation_fields", "")


# -- the company liaison -----------------------------------------------------------------------------

async def test_the_company_liaison_receives_messages_replies_once_and_files(app):
    company_id, _ = await paired_company()
    liaison_name = await company_user(company_id)
    member_name = await company_user(company_id, liaison=False)
    assistant, liaison = Client(app, ASSISTANT), Client(app, liaison_name)
    await assistant.call("POST", f"companies/{company_id}/visits", {"visited_on": today().isoformat(),
                                                                    "topics": "了解扩产用地需求"})
    sent = await assistant.call("POST", f"companies/{company_id}/messages", {"body": "周三上午走访，请安排对接。"})
    assert sent.status_code == 201, sent.text
    assert (await queue(app, liaison_name))["liaison.messages"] == 1
    inbox = (await liaison.call("GET", "inbox")).json()
    assert [m["body"] for m in inbox["messages"]] == ["周三上午走访，请安排对接。"]
    assert [v["topics"] for v in inbox["visits"]] == ["了解扩产用地需求"]
    # a member who is not the named liaison has no inbox and may not reply
    assert (await Client(app, member_name).call("GET", "inbox")).status_code == 403
    message_id = sent.json()["id"]
    assert (await Client(app, member_name).call("POST", f"messages/{message_id}/reply",
                                                {"body": "x"})).status_code == 403
    replies = await asyncio.gather(*(Client(app, liaison_name).call("POST", f"messages/{message_id}/reply",
                                                                     {"body": f"好的，已安排{i}"}) for i in range(2)))
    assert sorted(r.status_code for r in replies) == [200, 409], [r.text for r in replies]
    assert (await queue(app, liaison_name))["liaison.messages"] == 0
    page = (await assistant.call("GET", f"companies/{company_id}")).json()
    assert page["messages"][0]["reply"].startswith("好的，已安排")
    filed = await liaison.call("POST", f"inbox/{company_id}/cases", {"category": "infrastructure", "title": "厂区路灯损坏"})
    assert filed.status_code == 201 and filed.json()["on_behalf"] is False
    # pages: the inbox lists the reply; another company's liaison gets 404 on this company
    b = Browser(app)
    await b.login(liaison_name, SLUG)
    assert "好的，已安排" in (await b.get(f"/t/{SLUG}/liaison/inbox")).text
    stranger_company, _ = await paired_company()
    stranger = Client(app, await company_user(stranger_company))
    assert (await stranger.call("POST", f"inbox/{company_id}/cases", {"category": "infrastructure",
                                                                      "title": "x"})).status_code == 404


async def test_liaison_company_ids_counts_only_the_named_liaison():
    from core.sdk import liaison_company_ids

    company_id, _ = await paired_company()
    liaison, member = await company_user(company_id), await company_user(company_id, liaison=False)
    async with in_tenant(SLUG):
        from core.tables import User

        ids = {r["username"]: r["id"] for r in await User.select(User.id, User.username).where(
            User.username.is_in([liaison, member]))}
        assert await liaison_company_ids(ids[liaison]) == [company_id]
        assert await liaison_company_ids(ids[member]) == []


# -- the network view ----------------------------------------------------------------------------------

async def test_the_network_view_counts_each_persons_work(app):
    b = Browser(app)
    await b.login(COORDINATOR, SLUG)
    before = await b.get(f"/t/{SLUG}/liaison/network")
    async with in_tenant(SLUG):
        runner = await scoped(Person).select(Person.id).where(Person.name == "村社助跑员（演示）").first()

    def counts(html: str) -> dict[str, int]:
        found = re.search(rf'data-person="{runner["id"]}".*?data-counts="([^"]*)"', html, re.S).group(1)
        return {k: int(v) for k, v in (p.split("=") for p in found.split())}

    company_id, _ = await paired_company()
    await Client(app, RUNNER).call("POST", "village-needs", {"company": company_id, "title": "网络信号差"})
    after = await b.get(f"/t/{SLUG}/liaison/network")
    assert counts(after.text)["logged"] == counts(before.text)["logged"] + 1
    assert re.search(r'data-counts="open=\d+ overdue=\d+ answered=\d+"', after.text)
