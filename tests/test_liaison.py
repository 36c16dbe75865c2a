"""The township liaison network plugin (助企员 · 企业联络员 · 村社助跑员 · 百晓长): pairing with its
history and bulk pairing, needs filed as core cases on the company's behalf, follow-up reminders,
salon totals, who sees which companies, and 404 where the plugin is off."""

import io
import json
import random
import uuid
from datetime import timedelta

import httpx
import openpyxl
import pytest

from core.cases.companies import add_member, register_company
from core.cases.demo import demo_credit_code
from core.cases.tables import Case, ImportJob
from core.clock import today
from core.errors import UserError
from core.plugins import get_plugin_manager
from core.tables import Notification, User
from core.user_roles import load_user
from plugins.liaison import pairing, pairing_import, salons, work
from plugins.liaison.demo import load_demo
from plugins.liaison.tables import FollowUp, Pairing, PairingChange, Salon, SalonSeat
from tenants.onboarding import ensure_membership, ensure_user
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background, token_for
from workers.scheduler import run_job

SLUG = "pengjie"
COORDINATOR = f"liaison_coordinator@{SLUG}"


async def as_user(username: str):
    """The CurrentUser of `username` in the current tenant scope."""
    row = await User.select(User.id).where(User.username == username).first()
    return await load_user(row["id"], "test")


async def new_user(role: str, slug: str = SLUG) -> tuple[str, int]:
    username = f"{role[:4]}{uuid.uuid4().hex[:8]}@{slug}"
    async with in_tenant(slug):
        user_id, _ = await ensure_user(username, f"测试{username[:12]}", DEMO_PASSWORD)
        await ensure_membership(user_id, role, None, None)
    return username, user_id


async def new_company(slug: str = SLUG) -> tuple[int, str, str]:
    code = demo_credit_code("331004", random.randrange(60_000_000, 99_999_999))
    name = f"测试企业{uuid.uuid4().hex[:6]}有限公司"
    async with in_tenant(slug):
        company, _ = await register_company(code, name, industry="制造业")
    return company.id, company.credit_code, name


async def pair(company_id: int, username: str, reason: str = "", slug: str = SLUG) -> None:
    async with in_tenant(slug):
        assistant = await User.select(User.id).where(User.username == username).first()
        await pairing.pair(await as_user(f"liaison_coordinator@{slug}"), company_id, assistant["id"], reason)


class Client:
    """Bearer-token calls to the liaison API as one user."""

    def __init__(self, app, username: str, slug: str = SLUG):
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self.username, self.slug, self.token = username, slug, None

    async def call(self, method: str, path: str, json: dict | None = None) -> httpx.Response:
        if self.token is None:
            self.token = await token_for(self.username, self.slug)
        return await self.http.request(method, f"/t/{self.slug}/api/v1/liaison/{path}", json=json,
                                       headers={"Authorization": f"Bearer {self.token}"})


def workbook(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- pairing -------------------------------------------------------------------------------------

async def test_pair_reassign_keeps_history_and_bulk_pairing_reports_the_bad_row(app):
    a1, a1_id = await new_user("liaison_assistant")
    a2, a2_id = await new_user("liaison_assistant")
    c1, _, _ = await new_company()
    c2, code2, _ = await new_company()
    c3, code3, _ = await new_company()
    c4, code4, _ = await new_company()
    await pair(c1, a1)
    with pytest.raises(UserError) as refused:
        await pair(c1, a2)  # a reassignment needs a reason
    assert refused.value.status_code == 400
    await pair(c1, a2, "原助企员调岗")
    async with in_tenant(SLUG):
        with pytest.raises(UserError) as forbidden:
            await pairing.pair(await as_user(a1), c2, a1_id)
        assert forbidden.value.status_code == 403
        rows = await scoped(Pairing).select().where(Pairing.company == c1)
        assert [r["assistant"] for r in rows] == [a2_id]
        history = await pairing.history(c1)
        assert [(h["previous_name"], h["reason"]) for h in history] == [(None, ""), (f"测试{a1[:12]}", "原助企员调岗")]
        assert {c2, c3, c4} <= {r["id"] for r in await pairing.unpaired()}

    # A CSV file through the page: stored and queued, read by the worker; the bad row (unknown
    # company) is reported, the others applied.
    b = Browser(app)
    assert (await b.login(COORDINATOR, SLUG)).status_code == 303
    csv = f"统一社会信用代码,助企员,原因\n{code2},{a1},\n91330000000000000X,{a1},\n{code3},{a2},\n".encode()
    response = await b.post(f"/t/{SLUG}/liaison/pairings/import", files={"file": ("pairs.csv", csv, "text/csv")})
    assert response.status_code == 303, response.text
    job_url = response.headers["location"]
    assert 'hx-trigger="every 1s"' in (await b.get(job_url, headers={"HX-Request": "true"})).text
    await process_background()
    done = await b.get(job_url)
    assert 'data-status="done"' in done.text
    assert 'data-row="3"' in done.text and 'data-row="2"' not in done.text
    # An Excel workbook: an unknown assistant on row 2 is reported; row 3 (a reassignment) applied.
    async with in_tenant(SLUG):
        coordinator = await as_user(COORDINATOR)
        job = await pairing_import.start_pairing_import(coordinator, "pairs.xlsx", workbook(
            [["统一社会信用代码", "助企员", "原因"], [code4, "nobody@pengjie", ""], [code2, a2, "按片区调整"]]))
    await process_background()
    async with in_tenant(SLUG):
        job = await scoped(ImportJob).objects().where(ImportJob.id == job.id).first()
        assert (job.status, job.created, job.updated, job.unchanged) == ("done", 0, 1, 0)
        assert [(e["row"], e["field"]) for e in json.loads(job.errors)] == [(2, "assistant")]
        paired = {r["company"]: r["assistant"] for r in await scoped(Pairing).select().where(
            Pairing.company.is_in([c2, c3, c4]))}
        assert paired == {c2: a2_id, c3: a2_id}
        changes = await scoped(PairingChange).select().where(PairingChange.company == c2).order_by(PairingChange.id)
        assert [(c["previous"], c["assistant"], c["reason"]) for c in changes] == [
            (None, a1_id, pairing_import.BULK_REASON), (a1_id, a2_id, "按片区调整")]
        assert c4 in {r["id"] for r in await pairing.unpaired()}
        with pytest.raises(UserError) as forbidden:  # only a coordinator queues a bulk pairing
            await pairing_import.start_pairing_import(await as_user(a1), "pairs.csv", csv)
        assert forbidden.value.status_code == 403


# -- requests through the assistant ---------------------------------------------------------------

async def test_a_need_recorded_by_the_assistant_becomes_a_case_on_the_companys_behalf(app):
    assistant, assistant_id = await new_user("liaison_assistant")
    company_id, _, company_name = await new_company()
    await pair(company_id, assistant)
    client = Client(app, assistant)
    need = await client.call("POST", f"companies/{company_id}/needs",
                             {"title": "厂房消防验收需要协调", "description": "新厂房消防验收排期太久，影响投产。", "channel": "visit"})
    assert need.status_code == 201, need.text
    filed = await client.call("POST", f"needs/{need.json()['id']}/file", {"category": "enterprise"})
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["id"]
    assert filed.json()["on_behalf"] is True
    again = await client.call("POST", f"needs/{need.json()['id']}/file", {"category": "enterprise"})
    assert again.status_code == 409
    async with in_tenant(SLUG):
        case = await scoped(Case).objects().where(Case.id == case_id).first()
    assert (case.company, case.submitted_by, case.on_behalf, case.status) == (company_id, assistant_id, True, "submitted")

    # The case page shows both the company and the assistant; the workbench lists it with its deadline.
    b = Browser(app)
    assert (await b.login(assistant, SLUG)).status_code == 303
    page = await b.get(f"/t/{SLUG}/cases/{case_id}")
    assert page.status_code == 200 and company_name in page.text and f"测试{assistant[:12]}" in page.text

    # It flows through the core lifecycle.
    api = Api(app, SLUG)
    await api.step("dispatcher", case_id, "dispatch")
    await api.step("handler", case_id, "accept")
    resolved = await api.step("handler", case_id, "resolve", {"reply": "已协调消防部门提前验收"})
    assert resolved["status"] == "resolved"
    bench = await b.get(f"/t/{SLUG}/liaison/")
    assert bench.status_code == 200 and f'data-case="{case_id}"' in bench.text

    # Answered directly instead: no case.
    other = await client.call("POST", f"companies/{company_id}/needs", {"title": "咨询高新企业申报条件"})
    answered = await client.call("POST", f"needs/{other.json()['id']}/answer", {"answer": "已电话告知申报条件"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"

    # The company's own user tells its assistant from the form and sees only its own records.
    username, user_id = await new_user("company")
    async with in_tenant(SLUG):
        await add_member(company_id, user_id, liaison=True)
    company_client = Client(app, username)
    told = await company_client.call("POST", f"companies/{company_id}/needs", {"title": "招工难"})
    assert told.status_code == 201 and told.json()["channel"] == "form" and told.json()["assistant"] == assistant_id
    own = await company_client.call("GET", f"companies/{company_id}")
    assert own.status_code == 200 and own.json()["assistant"]["assistant"] == assistant_id
    assert [c["id"] for c in (await company_client.call("GET", "companies")).json()] == [company_id]
    other_company, _, _ = await new_company()
    assert (await company_client.call("GET", f"companies/{other_company}")).status_code == 404
    portal = Browser(app)
    await portal.login(username, SLUG)
    mine = await portal.get(f"/t/{SLUG}/liaison/")
    assert mine.status_code == 200 and company_name in mine.text and f"测试{assistant[:12]}" in mine.text
    assert (await portal.get(f"/t/{SLUG}/liaison/companies/{company_id}")).status_code == 200


# -- visits and follow-ups ------------------------------------------------------------------------

async def test_overdue_follow_ups_remind_the_assistant_once(app):
    assistant, assistant_id = await new_user("liaison_assistant")
    company_id, _, _ = await new_company()
    await pair(company_id, assistant)
    text = f"协调道路修复 {uuid.uuid4().hex[:6]}"
    async with in_tenant(SLUG):
        user = await as_user(assistant)
        await work.log_visit(user, company_id, {"visited_on": str(today() - timedelta(days=10)), "kind": "visit",
                                                "people": "总经理", "topics": "道路", "follow_up": text,
                                                "follow_up_due": str(today() - timedelta(days=2))})
        await work.log_visit(user, company_id, {"visited_on": str(today()), "kind": "call",
                                                "follow_up": "not due yet " + text,
                                                "follow_up_due": str(today() + timedelta(days=5))})
        await work.log_visit(user, company_id, {"visited_on": str(today()), "follow_up": "done already " + text,
                                                "follow_up_due": str(today() - timedelta(days=5))})
        done = await scoped(FollowUp).objects().where(FollowUp.text == "done already " + text).first()
        await work.finish_follow_up(user, done.id)
        with pytest.raises(UserError):
            await work.log_visit(user, company_id, {"visited_on": str(today() + timedelta(days=1))})
    job = next(j for j in get_plugin_manager().scheduled_jobs() if j.name == "liaison_follow_up_reminders")
    await run_job(job, "liaison")
    await run_job(job, "liaison")  # idempotent: the second run reminds nobody again
    await process_background()
    async with in_tenant(SLUG):
        notes = await scoped(Notification).select().where((Notification.user == assistant_id)
                                                          & (Notification.title == work.FOLLOW_UP_OVERDUE))
        overdue = await scoped(FollowUp).objects().where(FollowUp.text == text).first()
        # A follow-up becomes a case on the company's behalf.
        case = await work.file_follow_up(await as_user(assistant), overdue.id, "infrastructure")
    assert len(notes) == 1 and text in notes[0]["body"]
    assert case.on_behalf and case.company == company_id


# -- salons ---------------------------------------------------------------------------------------

async def test_salon_attendance_totals_match_an_independent_count(app):
    async with in_tenant(SLUG):
        coordinator = await as_user(COORDINATOR)
        first = await salons.create_salon(coordinator, {"topic": "惠企政策解读", "held_on": "2019-03-05",
                                                        "speakers": "经发办", "audience": "助企员"})
        second = await salons.create_salon(coordinator, {"topic": "招商引资实务", "held_on": "2019-09-10"})
        third = await salons.create_salon(coordinator, {"topic": "人才政策", "held_on": "2018-12-01"})
        seats = {}
        for salon, names in ((first, ["张三", "李四", "王五"]), (second, ["张三", "赵六"]), (third, ["钱七"])):
            for name in names:
                seat = await salons.sign_up(coordinator, salon.id, name, "liaison")
                seats[(salon.id, name)] = seat.id
        await salons.sign_up(coordinator, first.id, "张三", "liaison")  # signing up twice is one seat
        await salons.sign_up(await as_user(f"liaison_assistant@{SLUG}"), second.id)  # oneself
        await salons.mark_attendance(coordinator, first.id, [seats[(first.id, "张三")], seats[(first.id, "王五")]])
        await salons.mark_attendance(coordinator, third.id, [seats[(third.id, "钱七")]])
    # Attendance of the second salon through the page (several checkboxes).
    b = Browser(app)
    assert (await b.login(COORDINATOR, SLUG)).status_code == 303
    assert (await b.get(f"/t/{SLUG}/liaison/salons/{second.id}")).status_code == 200
    response = await b.post(f"/t/{SLUG}/liaison/salons/{second.id}/attendance",
                            {"seat": [str(seats[(second.id, "张三")]), str(seats[(second.id, "赵六")])]})
    assert response.status_code == 303, response.text
    async with in_tenant(SLUG):
        totals = {t["year"]: t for t in await salons.totals_per_year()}
        held = {s["id"]: s["held_on"].year for s in await scoped(Salon).select(Salon.id, Salon.held_on)}
        independent: dict[int, list[int]] = {}
        for s in held.values():
            independent.setdefault(s, [0, 0, 0])[0] += 1
        for seat in await scoped(SalonSeat).select(SalonSeat.salon, SalonSeat.attended):
            independent[held[seat["salon"]]][1] += 1
            independent[held[seat["salon"]]][2] += int(bool(seat["attended"]))
    assert {y: (t["salons"], t["signed_up"], t["attended"]) for y, t in totals.items()} == {
        y: tuple(v) for y, v in independent.items()}
    assert totals[2019]["attended"] >= 4 and totals[2018]["attended"] >= 1
    page = await b.get(f"/t/{SLUG}/liaison/salons")
    assert page.status_code == 200 and 'id="salon-totals"' in page.text


# -- who sees what, and where the plugin is off ----------------------------------------------------

async def test_an_assistant_sees_only_its_own_companies_unless_a_coordinator(app):
    a1, _ = await new_user("liaison_assistant")
    a2, _ = await new_user("liaison_assistant")
    c1, _, name1 = await new_company()
    c2, _, name2 = await new_company()
    await pair(c1, a1)
    await pair(c2, a2)
    first = Client(app, a1)
    listed = {c["id"] for c in (await first.call("GET", "companies")).json()}
    assert c1 in listed and c2 not in listed
    assert (await first.call("GET", f"companies/{c2}")).status_code == 404
    assert (await first.call("POST", f"companies/{c2}/needs", {"title": "越权"})).status_code == 404
    assert (await first.call("POST", f"companies/{c2}/visits", {"visited_on": str(today())})).status_code == 404
    b = Browser(app)
    await b.login(a1, SLUG)
    assert (await b.get(f"/t/{SLUG}/liaison/companies/{c2}")).status_code == 404
    own = await b.get(f"/t/{SLUG}/liaison/companies/{c1}")
    assert own.status_code == 200 and name1 in own.text and 'id="assistant"' in own.text
    assert (await b.get(f"/t/{SLUG}/liaison/network")).status_code == 403
    bench = await b.get(f"/t/{SLUG}/liaison/")
    assert name1 in bench.text and name2 not in bench.text
    coordinator = Client(app, COORDINATOR)
    listed = {c["id"] for c in (await coordinator.call("GET", "companies")).json()}
    assert {c1, c2} <= listed
    assert (await coordinator.call("GET", f"companies/{c2}")).status_code == 200
    c = Browser(app)
    await c.login(COORDINATOR, SLUG)
    network = await c.get(f"/t/{SLUG}/liaison/network")
    assert network.status_code == 200 and name1 in network.text and name2 in network.text
    home = await c.get(f"/t/{SLUG}/")
    assert 'data-widget="liaison_summary"' in home.text
    assert (await c.get(f"/t/{SLUG}/liaison/companies/{c2}")).status_code == 200


async def test_routes_answer_404_where_the_plugin_is_off(app):
    b = Browser(app)
    assert (await b.login("tenant_admin@jiaojiang", "jiaojiang")).status_code == 303
    for path in ("liaison/", "liaison/network", "liaison/salons", "liaison/companies/1"):
        assert (await b.get(f"/t/jiaojiang/{path}")).status_code == 404, path
    assert (await b.post("/t/jiaojiang/liaison/pairings", {"company": "1", "assistant": "1"})).status_code == 404
    client = Client(app, "tenant_admin@jiaojiang", "jiaojiang")
    assert (await client.call("GET", "companies")).status_code == 404
    assert (await client.call("POST", "pairings", {"company": 1, "assistant": 1})).status_code == 404
    home = await b.get("/t/jiaojiang/")
    assert 'data-widget="liaison_summary"' not in home.text


async def test_demo_data_is_idempotent():
    async with in_tenant(SLUG):
        before = (await scoped(Pairing).count(), await scoped(Salon).count())
        assert before[0] > 0
        await load_demo()
        assert (await scoped(Pairing).count(), await scoped(Salon).count()) == before


# -- filing on a company's behalf -----------------------------------------------------------------

async def test_an_assistant_files_only_for_its_paired_companies_and_a_coordinator_for_any(app):
    assistant, _ = await new_user("liaison_assistant")
    other_assistant, _ = await new_user("liaison_assistant")
    mine, my_code, _ = await new_company()
    theirs, their_code, their_name = await new_company()
    _, free_code, free_name = await new_company()
    await pair(mine, assistant)
    await pair(theirs, other_assistant)
    async with in_tenant(SLUG):
        before = await scoped(Case).count()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    async def file(username: str, code: str) -> httpx.Response:
        token = await token_for(username, SLUG)
        return await http.post(f"/t/{SLUG}/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, json={
            "category": "enterprise", "title": "代企业提交的诉求", "description": "助企员代为提交。", "company": code})

    unknown = await file(assistant, "91330000000000000X")
    for code, name in ((their_code, their_name), (free_code, free_name)):
        refused = await file(assistant, code)
        assert refused.status_code == 400 and name not in refused.text, refused.text
        # Answered as a company that does not exist: not even its existence is revealed.
        assert refused.json()["code"] == unknown.json()["code"] == "unknown_company"
    b = Browser(app)
    assert (await b.login(assistant, SLUG)).status_code == 303
    await b.get(f"/t/{SLUG}/cases/new")
    page = await b.client.post(f"/t/{SLUG}/cases", data={"_csrf_token": b.csrf, "category": "enterprise",
                                                         "title": "代企业提交", "description": "见附件",
                                                         "company": their_code}, files=[])
    assert page.status_code == 400 and their_name not in page.text
    async with in_tenant(SLUG):
        assert await scoped(Case).count() == before

    own = await file(assistant, my_code)
    assert own.status_code == 201, own.text
    for code in (their_code, free_code):
        filed = await file(COORDINATOR, code)
        assert filed.status_code == 201, filed.text
    assert (await file("dispatcher@" + SLUG, free_code)).status_code == 201
    async with in_tenant(SLUG):
        assert await scoped(Case).count() == before + 4
