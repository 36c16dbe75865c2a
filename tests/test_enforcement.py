"""Inclusive, prudent enforcement (包容审慎柔性执法): inspections of companies registered before
they happen, the repeated-inspection warning and joint inspections (综合查一次), the lists (清单),
outcomes with the department head's sign-off where 首违不罚 applies, a contested outcome opening a
linked core case, bad input refused with nothing stored, and the module's pages and export."""

import asyncio
import io
import json
import random
import uuid
from datetime import timedelta

import httpx
import openpyxl

from core.cases.audit import Event
from core.cases.companies import add_member, register_company
from core.cases.demo import demo_credit_code
from core.cases.tables import Case
from core.clock import today
from core.plugins import get_plugin_manager
from core.tables import Department, Notification, User
from plugins.enforcement.tables import Finding, Inspection, JointInspection, ListItem
from tenants.onboarding import ensure_membership, ensure_user
from tenants.scope import scoped
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background, token_for
from workers.scheduler import run_job

SLUG = "luqiao"


async def new_user(role: str, department: str | None = None, *more: str) -> tuple[str, int]:
    """A user of luqiao with `role` (and `more` roles) in `department` (a code)."""
    username = f"e{uuid.uuid4().hex[:8]}@{SLUG}"
    async with in_tenant(SLUG):
        dept = await scoped(Department).select(Department.id).where(Department.code == department).first() \
            if department else None
        user_id, _ = await ensure_user(username, f"测试{username[:9]}", DEMO_PASSWORD)
        for r in (role, *more):
            await ensure_membership(user_id, r, dept["id"] if dept else None, None)
    return username, user_id


async def new_company() -> tuple[int, str]:
    code = demo_credit_code("331004", random.randrange(60_000_000, 99_999_999))
    async with in_tenant(SLUG):
        company, _ = await register_company(code, f"执法测试{uuid.uuid4().hex[:6]}有限公司", industry="制造业")
    return company.id, company.credit_code


async def company_user(company_id: int) -> str:
    username, user_id = await new_user("company")
    async with in_tenant(SLUG):
        await add_member(company_id, user_id)
    return username


class Client:
    """Bearer-token calls to the enforcement API as one user."""

    def __init__(self, app, username: str, slug: str = SLUG):
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self.username, self.slug, self.token = username, slug, None

    async def call(self, method: str, path: str, json: dict | None = None) -> httpx.Response:
        if self.token is None:
            self.token = await token_for(self.username, self.slug)
        return await self.http.request(method, f"/t/{self.slug}/api/v1/enforcement/{path}", json=json,
                                       headers={"Authorization": f"Bearer {self.token}"})


def announce(code: str, days: int, **more) -> dict:
    return {"company": code, "planned_on": str(today() + timedelta(days=days)), "subject": "安全生产检查",
            "legal_basis": "《中华人民共和国安全生产法》第六十五条", "inspectors": "张某（33100100001）、李某（33100100002）",
            **more}


async def count(table, **where) -> int:
    async with in_tenant(SLUG):
        query = scoped(table).count()
        for key, value in where.items():
            query = query.where(getattr(table, key) == value)
        return await query


async def list_item(app, kind: str = "no_penalty") -> int:
    admin = Client(app, f"tenant_admin@{SLUG}")
    made = await admin.call("POST", "lists", {"kind": kind, "code": f"T-{uuid.uuid4().hex[:6]}",
                                              "title": "未按规定公示年度报告", "legal_basis": "《行政处罚法》第三十三条第一款"})
    assert made.status_code == 201, made.text
    return made.json()["id"]


# -- registration before the inspection, bad input -------------------------------------------------

async def test_an_inspection_without_a_legal_basis_is_refused_naming_the_field_and_nothing_is_stored(app):
    officer = Client(app, (await new_user("enforcement_officer", "scjg"))[0])
    company_id, code = await new_company()
    body = announce(code, 3)
    del body["legal_basis"]
    for bad, field in ((body, "legal_basis"), (announce(code, 3, legal_basis="   "), "legal_basis"),
                       (announce(code, -1), "planned_on"), (announce(code, 3, inspectors=""), "inspectors"),
                       (announce("91330000000000000X", 3), None), (announce(code, 3, planned_on="明天"), "planned_on")):
        refused = await officer.call("POST", "inspections", bad)
        assert refused.status_code == 400, (bad, refused.text)
        if field:
            assert field in refused.text, refused.text
    assert await count(Inspection, company=company_id) == 0
    # Someone without the officer's role may not announce one; a page form without the basis neither.
    handler = Client(app, "handler@luqiao")
    assert (await handler.call("POST", "inspections", announce(code, 3))).status_code == 403
    b = Browser(app)
    await b.login("enforcement_officer@luqiao", SLUG)
    page = await b.post(f"/t/{SLUG}/enforcement/inspections", {k: v for k, v in announce(code, 3).items()
                                                                 if k != "legal_basis"})
    assert page.status_code == 400 and "legal_basis" in page.text
    assert await count(Inspection, company=company_id) == 0


# -- the repeated-inspection warning and the joint inspection ------------------------------------

async def test_a_second_inspection_within_the_window_warns_and_the_departments_join_one_joint_inspection(app):
    scjg_name, scjg_id = await new_user("enforcement_officer", "scjg")
    sthj_name, _ = await new_user("enforcement_officer", "sthj")
    scjg, sthj = Client(app, scjg_name), Client(app, sthj_name)
    company_id, code = await new_company()
    first = await scjg.call("POST", "inspections", announce(code, 3))
    assert first.status_code == 201, first.text
    assert first.json()["warning"] is None and first.json()["status"] == "planned"
    # Another department, 7 days later: within the 30-day window → the warning names the first
    # inspection and proposes a joint inspection.
    second = await sthj.call("POST", "inspections", announce(code, 10, subject="危险废物检查"))
    assert second.status_code == 201
    warning = second.json()["warning"]
    assert warning["window_days"] == 30 and [i["id"] for i in warning["inspections"]] == [first.json()["id"]]
    assert warning["propose"] is True and warning["join"] is None
    # Far outside the window: no warning.
    far = await sthj.call("POST", "inspections", announce(code, 80))
    assert far.json()["warning"] is None
    # The second department proposes the joint inspection; the first is told and its warning offers it.
    sid, fid = second.json()["id"], first.json()["id"]
    proposed = await sthj.call("POST", f"inspections/{sid}/propose-joint")
    assert proposed.status_code == 200, proposed.text
    joint_id = proposed.json()["joint"]
    assert joint_id and (await sthj.call("POST", f"inspections/{sid}/propose-joint")).status_code == 409
    await process_background()
    async with in_tenant(SLUG):
        told = await scoped(Notification).select(Notification.link).where(Notification.user == scjg_id)
    assert f"enforcement/inspections/{sid}" in {n["link"] for n in told}
    offered = await scjg.call("GET", f"inspections/{fid}")
    assert offered.json()["warning"]["join"] == joint_id
    # Only the inspection's own department may join it; then it takes the joint date, once.
    assert (await sthj.call("POST", f"inspections/{fid}/join", {"joint": joint_id})).status_code == 403
    joined = await scjg.call("POST", f"inspections/{fid}/join", {"joint": joint_id})
    assert joined.status_code == 200, joined.text
    assert joined.json()["joint"] == joint_id and joined.json()["planned_on"] == second.json()["planned_on"]
    assert {m["id"] for m in joined.json()["joint_inspection"]["members"]} == {fid, sid}
    assert joined.json()["warning"] is None
    assert (await scjg.call("POST", f"inspections/{fid}/join", {"joint": joint_id})).status_code == 409
    # The figures count one visit for the two inspections of the joint one.
    figures = (await Client(app, f"dispatcher@{SLUG}").call("GET", "figures")).json()
    mine = [e for e in figures["per_company"] if e["company"] == company_id]
    assert [(e["inspections"], e["visits"], e["departments"]) for e in mine] == [(3, 2, 2)] or \
        sorted((e["inspections"], e["visits"]) for e in mine) == [(1, 1), (2, 1)]
    # The company sees the inspections announced for it, and no other company's.
    own = Client(app, await company_user(company_id))
    listed = await own.call("GET", "inspections")
    assert listed.status_code == 200 and {r["id"] for r in listed.json()} == {fid, sid, far.json()["id"]}
    assert (await own.call("GET", f"inspections/{fid}")).json()["legal_basis"].startswith("《中华人民共和国安全生产法》")
    other_id, other_code = await new_company()
    elsewhere = await scjg.call("POST", "inspections", announce(other_code, 5))
    assert (await own.call("GET", f"inspections/{elsewhere.json()['id']}")).status_code == 404
    assert (await own.call("POST", "inspections", announce(code, 5))).status_code == 403
    b = Browser(app)
    await b.login(own.username, SLUG)
    home = await b.get(f"/t/{SLUG}/enforcement/")
    assert home.status_code == 200 and f'data-inspection="{fid}"' in home.text
    assert f'data-inspection="{elsewhere.json()["id"]}"' not in home.text


async def test_parallel_joins_and_a_join_outside_the_window_are_refused(app):
    a, _ = await new_user("enforcement_officer", "scjg")
    c, _ = await new_user("enforcement_officer", "sthj")
    company_id, code = await new_company()
    first = (await Client(app, a).call("POST", "inspections", announce(code, 2))).json()
    second = (await Client(app, c).call("POST", "inspections", announce(code, 4))).json()
    joint = (await Client(app, c).call("POST", f"inspections/{second['id']}/propose-joint")).json()["joint"]
    answers = await asyncio.gather(*(Client(app, a).call("POST", f"inspections/{first['id']}/join", {"joint": joint})
                                     for _ in range(2)))
    assert sorted(r.status_code for r in answers) == [200, 409]
    async with in_tenant(SLUG):
        row = await scoped(Inspection).objects().where(Inspection.id == first["id"]).first()
        assert row.joint == joint and row.version == 1
        far = await scoped(JointInspection).add(company=company_id, planned_on=today() + timedelta(days=90))
    late = (await Client(app, a).call("POST", "inspections", announce(code, 20))).json()
    assert (await Client(app, a).call("POST", f"inspections/{late['id']}/join", {"joint": far.id})).status_code == 409


async def test_the_daily_job_reminds_the_company_the_day_before_once(app):
    officer = Client(app, (await new_user("enforcement_officer", "sthj"))[0])
    company_id, code = await new_company()
    username = await company_user(company_id)
    tomorrow = (await officer.call("POST", "inspections", announce(code, 1, subject="危险废物检查"))).json()
    later = (await officer.call("POST", "inspections", announce(code, 2))).json()
    job = next(j for j in get_plugin_manager().scheduled_jobs() if j.name == "enforcement_inspection_reminders")
    await run_job(job, "enforcement")
    await run_job(job, "enforcement")  # idempotent: the second run reminds nobody again
    await process_background()
    async with in_tenant(SLUG):
        user = await User.select(User.id).where(User.username == username).first()
        notes = await scoped(Notification).select(Notification.link, Notification.body).where(
            (Notification.user == user["id"]) & Notification.title.like("Tomorrow%"))
    assert [n["link"] for n in notes] == [f"enforcement/inspections/{tomorrow['id']}"]
    assert "危险废物检查" in notes[0]["body"] and later["id"] != tomorrow["id"]


# -- the lists ------------------------------------------------------------------------------------

def workbook(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_the_tenant_admin_keeps_the_lists_and_a_bad_row_refuses_the_whole_import(app):
    admin = Client(app, f"tenant_admin@{SLUG}")
    officer = Client(app, "enforcement_officer@luqiao")
    code = f"Q-{uuid.uuid4().hex[:6]}"
    no_basis = await admin.call("POST", "lists", {"kind": "no_penalty", "code": code, "title": "x", "legal_basis": " "})
    assert no_basis.status_code == 400 and "legal_basis" in no_basis.text
    assert (await officer.call("POST", "lists", {"kind": "no_penalty", "code": code, "title": "x",
                                                 "legal_basis": "y"})).status_code == 403
    made = await admin.call("POST", "lists", {"kind": "mitigated", "code": code, "title": "主动减轻危害后果",
                                              "legal_basis": "《行政处罚法》第三十二条", "department": "scjg"})
    assert made.status_code == 201
    assert (await admin.call("POST", "lists", {"kind": "mitigated", "code": code, "title": "重复",
                                               "legal_basis": "y"})).status_code == 409
    edited = await admin.call("POST", f"lists/{made.json()['id']}", {"kind": "mitigated", "code": code,
                                                                     "title": "主动消除违法行为危害后果",
                                                                     "legal_basis": "《行政处罚法》第三十二条第（一）项",
                                                                     "active": False})
    assert edited.status_code == 200 and edited.json()["active"] is False
    # Import through the page: a bad row (no legal basis) refuses the file, naming the row; nothing stored.
    b = Browser(app)
    await b.login(f"tenant_admin@{SLUG}", SLUG)
    new_code = f"I-{uuid.uuid4().hex[:6]}"
    bad = workbook([["类别", "编号", "违法行为", "适用条件", "法律依据", "部门"],
                    ["首违不罚", new_code, "未按规定悬挂营业执照", "首次", "《行政处罚法》第三十三条", "scjg"],
                    ["不予强制", new_code + "b", "不扣押设备", "", "", ""]])
    refused = await b.post(f"/t/{SLUG}/enforcement/lists/import", files={"file": ("l.xlsx", bad, "application/octet-stream")})
    assert refused.status_code == 400 and "3" in refused.text
    assert await count(ListItem, code=new_code) == 0
    good = "类别,编号,违法行为,适用条件,法律依据,部门\n" f"首违不罚,{new_code},未按规定悬挂营业执照,首次,《行政处罚法》第三十三条,scjg\n"
    done = await b.post(f"/t/{SLUG}/enforcement/lists/import", files={"file": ("l.csv", good.encode(), "text/csv")})
    assert done.status_code == 303, done.text
    assert await count(ListItem, code=new_code, kind="no_penalty") == 1
    page = await b.get(f"/t/{SLUG}/enforcement/lists")
    assert page.status_code == 200 and new_code in page.text and "《行政处罚法》第三十三条" in page.text


# -- outcomes and the head's sign-off ----------------------------------------------------------------

async def test_a_penalty_where_first_violations_go_unpunished_needs_a_reason_and_another_persons_sign_off(app):
    # An officer who is also a department head: they may not sign off their own penalty.
    officer_name, officer_id = await new_user("enforcement_officer", "scjg", "dept_head")
    head_a, _ = await new_user("dept_head", "scjg")
    head_b, _ = await new_user("dept_head", "scjg")
    other_head, _ = await new_user("dept_head", "sthj")
    officer = Client(app, officer_name)
    item = await list_item(app)
    company_id, code = await new_company()
    inspection = (await officer.call("POST", "inspections", announce(code, 0))).json()
    path = f"inspections/{inspection['id']}/findings"
    penalty = {"description": "年度报告逾期公示", "outcome": "penalised", "list_item": item, "penalty_fen": 200000}
    no_reason = await officer.call("POST", path, penalty)
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    assert (await officer.call("POST", path, {**penalty, "outcome": "mitigated"})).status_code == 400  # not a 从轻 item
    assert await count(Finding, inspection=inspection["id"]) == 0
    recorded = await officer.call("POST", path, {**penalty, "reason": "屡次提醒仍拒不改正"})
    assert recorded.status_code == 201, recorded.text
    finding = recorded.json()
    assert finding["status"] == "awaiting_signoff" and finding["first_violation"] is True
    await process_background()
    sign = f"findings/{finding['id']}/sign-off"
    assert (await officer.call("POST", sign, {"decision": "approve"})).status_code == 403  # the same person
    assert (await Client(app, other_head).call("POST", sign, {"decision": "approve"})).status_code == 403
    assert (await Client(app, head_a).call("POST", sign, {"decision": "return"})).status_code == 400  # no comment
    answers = await asyncio.gather(Client(app, head_a).call("POST", sign, {"decision": "approve"}),
                                   Client(app, head_b).call("POST", sign, {"decision": "approve", "comment": "同意"}))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    async with in_tenant(SLUG):
        row = await scoped(Finding).objects().where(Finding.id == finding["id"]).first()
    assert row.status == "final" and row.signed_by not in (None, officer_id) and row.version == 1
    # The same company under the same item again: not a first violation, so no sign-off is needed,
    # and 首违不罚 can no longer be used.
    again = await officer.call("POST", path, {**penalty, "description": "再次逾期公示"})
    assert again.status_code == 201 and again.json()["status"] == "final" and again.json()["first_violation"] is False
    spared = await officer.call("POST", path, {"description": "再次逾期", "outcome": "not_penalised", "list_item": item})
    assert spared.status_code == 400 and "list_item" in spared.text
    # A returned penalty is recorded again, here as not penalised under the item.
    other_id, other_code = await new_company()
    second = (await officer.call("POST", "inspections", announce(other_code, 0))).json()
    held = (await officer.call("POST", f"inspections/{second['id']}/findings",
                               {**penalty, "reason": "情节较重"})).json()
    returned = await Client(app, head_a).call("POST", f"findings/{held['id']}/sign-off",
                                              {"decision": "return", "comment": "符合首违不罚条件"})
    assert returned.json()["status"] == "returned"
    revised = await officer.call("POST", f"findings/{held['id']}/revise",
                                 {"description": "年度报告逾期公示", "outcome": "not_penalised", "list_item": item})
    assert revised.status_code == 200 and revised.json()["status"] == "final"
    # The department head sees the waiting penalty on the module's page.
    b = Browser(app)
    await b.login(head_a, SLUG)
    third = (await officer.call("POST", "inspections", announce((await new_company())[1], 0))).json()
    waiting = (await officer.call("POST", f"inspections/{third['id']}/findings", {**penalty, "reason": "情节较重"})).json()
    assert waiting["status"] == "awaiting_signoff"
    home = await b.get(f"/t/{SLUG}/enforcement/")
    assert home.status_code == 200 and f'data-finding="{waiting["id"]}"' in home.text


# -- contesting an outcome -----------------------------------------------------------------------

async def test_a_company_contests_an_outcome_which_opens_a_case_linked_both_ways(app):
    officer = Client(app, (await new_user("enforcement_officer", "scjg"))[0])
    company_id, code = await new_company()
    inspection = (await officer.call("POST", "inspections", announce(code, 0))).json()
    finding = (await officer.call("POST", f"inspections/{inspection['id']}/findings",
                                  {"description": "虚假宣传", "outcome": "penalised", "penalty_fen": 300000})).json()
    own = Client(app, await company_user(company_id))
    stranger = Client(app, await company_user((await new_company())[0]))
    path = f"findings/{finding['id']}/contest"
    assert (await stranger.call("POST", path, {"reason": "不服"})).status_code == 404
    assert (await officer.call("POST", path, {"reason": "不服"})).status_code == 403
    blank = await own.call("POST", path, {"reason": "  "})
    assert blank.status_code == 400 and "reason" in blank.text
    cases_before = await count(Case, company=company_id)
    contested = await own.call("POST", path, {"reason": "宣传用语引用第三方评测，请求复核"})
    assert contested.status_code == 201, contested.text
    case_id = contested.json()["contest_case"]
    assert case_id and contested.json()["case_number"]
    assert (await own.call("POST", path, {"reason": "再次"})).status_code == 409
    async with in_tenant(SLUG):
        case = await scoped(Case).objects().where(Case.id == case_id).first()
        events = await scoped(Event).select(Event.action, Event.data).where(Event.case == case_id).order_by(Event.seq)
        user = await User.select(User.id).where(User.username == own.username).first()
    assert (case.company, case.submitted_by, case.on_behalf, case.status) == (company_id, user["id"], False, "submitted")
    assert await count(Case, company=company_id) == cases_before + 1
    assert [e["action"] for e in events] == ["submit", "enforcement_contest"]
    assert json.loads(events[1]["data"])["finding"] == finding["id"]
    # The case page shows the contest on its timeline; the inspection page links the case.
    b = Browser(app)
    await b.login(own.username, SLUG)
    case_page = await b.get(f"/t/{SLUG}/cases/{case_id}")
    assert case_page.status_code == 200 and "执法" in case_page.text
    inspection_page = await b.get(f"/t/{SLUG}/enforcement/inspections/{inspection['id']}")
    assert f'data-contest-case="{case_id}"' in inspection_page.text
    # Two contests at once of another outcome: one case, one 409.
    second = (await officer.call("POST", f"inspections/{inspection['id']}/findings",
                                 {"description": "未亮照经营", "outcome": "corrected"})).json()
    answers = await asyncio.gather(*(own.call("POST", f"findings/{second['id']}/contest", {"reason": "不服"})
                                     for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert await count(Case, company=company_id) == cases_before + 2


# -- pages, figures, export, and where the module is off -----------------------------------------------

async def test_the_module_pages_figures_and_export_and_nothing_where_it_is_off(app):
    b = Browser(app)
    await b.login("enforcement_officer@luqiao", SLUG)
    home = await b.get(f"/t/{SLUG}/enforcement/")
    assert home.status_code == 200 and 'action="/t/luqiao/enforcement/inspections"' in home.text
    async with in_tenant(SLUG):
        joint = await scoped(Inspection).select(Inspection.id).where(Inspection.joint.is_not_null()).first()
    page = await b.get(f"/t/{SLUG}/enforcement/inspections/{joint['id']}")
    assert page.status_code == 200 and 'id="joint-members"' in page.text
    figures = await b.get(f"/t/{SLUG}/enforcement/figures")
    assert figures.status_code == 200 and 'id="per-company"' in figures.text
    export = await b.get(f"/t/{SLUG}/enforcement/export.xlsx")
    assert export.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    assert len(book.sheetnames) == 4 and book.worksheets[0].max_row > 1
    # The dashboard widget for those who watch the figures.
    d = Browser(app)
    await d.login(f"dispatcher@{SLUG}", SLUG)
    assert 'data-widget="enforcement"' in (await d.get(f"/t/{SLUG}/")).text
    # A tenant without the module: no navigation, widget, page or API.
    p = Browser(app)
    await p.login("dispatcher@pengjie", "pengjie")
    home = await p.get("/t/pengjie/")
    assert "enforcement/" not in home.text and 'data-widget="enforcement"' not in home.text
    assert (await p.get("/t/pengjie/enforcement/")).status_code == 404
    assert (await Client(app, "dispatcher@pengjie", "pengjie").call("GET", "inspections")).status_code == 404
