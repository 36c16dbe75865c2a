"""Project approvals (项目帮办): the catalogue's 24 → 7 materials and 15 → 1 working days computed
from its rows, stages in order and the helper's reassignment, 容缺 acceptance chased to completion
and one flagged, a one-thing bundle complete only when every department grants, next steps
reminded and escalated by the daily job on a fixed clock, a stuck approval turned into a linked
case, bad input refused with nothing stored, and 404 for whoever may not see."""

import asyncio
import json
import random
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import httpx
import pytest

from core.cases.companies import add_member, register_company
from core.cases.demo import demo_credit_code
from core.cases.tables import Case, Event as CaseEvent
from core.clock import today
from core.plugins import get_plugin_manager
from core.tables import Notification, User
from core.workdays import load_calendar
from plugins.approvals import chase
from plugins.approvals.demo import load_demo
from plugins.approvals.tables import (
    Action,
    Bundle,
    BundleFiling,
    Event,
    Filing,
    Item,
    Material,
    Project,
    Shortfall,
    Stage,
)
from tenants.onboarding import ensure_membership, ensure_user
from tenants.scope import scoped
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background, token_for
from workers.scheduler import run_job

SLUG = "luqiao"
COORDINATOR, HELPER, OFFICER = (f"approvals_{r}@{SLUG}" for r in ("coordinator", "helper", "officer"))
STAGES = ("intent", "signing", "land", "approval", "construction", "production")


class Client:
    """Bearer-token calls to the approvals API as one user."""

    def __init__(self, app, username: str, slug: str = SLUG):
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self.username, self.slug, self.token = username, slug, None

    async def call(self, method: str, path: str, json: dict | None = None) -> httpx.Response:
        if self.token is None:
            self.token = await token_for(self.username, self.slug)
        return await self.http.request(method, f"/t/{self.slug}/api/v1/approvals/{path}", json=json,
                                       headers={"Authorization": f"Bearer {self.token}"})

    async def ok(self, method: str, path: str, json: dict | None = None) -> dict:
        response = await self.call(method, path, json)
        assert response.status_code in (200, 201), (path, response.status_code, response.text)
        return response.json()


async def new_company(slug: str = SLUG) -> tuple[int, str, str, str]:
    """A company with a user of its own: (id, credit code, name, username)."""
    code = demo_credit_code("331004", random.randrange(60_000_000, 99_999_999))
    name = f"测试企业{uuid.uuid4().hex[:6]}有限公司"
    username = f"co{uuid.uuid4().hex[:8]}@{slug}"
    async with in_tenant(slug):
        company, _ = await register_company(code, name, industry="食品制造")
        user_id, _ = await ensure_user(username, name, DEMO_PASSWORD)
        await ensure_membership(user_id, "company", None, None)
        await add_member(company.id, user_id)
    return company.id, company.credit_code, name, username


def targets(start: date | None = None, step: int = 20) -> dict:
    start = start or today()
    return {key: str(start + timedelta(days=step * i)) for i, key in enumerate(STAGES)}


async def item_id(code: str) -> int:
    async with in_tenant(SLUG):
        return (await scoped(Item).select(Item.id).where(Item.code == code).first())["id"]


async def materials(code: str) -> dict[str, dict]:
    async with in_tenant(SLUG):
        rows = await scoped(Material).select(Material.id, Material.name_zh, Material.key).where(
            Material.item.code == code)
    return {r["name_zh"]: r for r in rows}


async def user_id(username: str) -> int:
    return (await User.select(User.id).where(User.username == username).first())["id"]


async def notices(title: str, link: str) -> list[dict]:
    await process_background()
    async with in_tenant(SLUG):
        rows = await scoped(Notification).select(Notification.user, Notification.body).where(
            (Notification.title == title) & (Notification.link == link))
    return [{"user": r["user"], **json.loads(r["body"] or "{}")} for r in rows]


def daily_job():
    return next(j for j in get_plugin_manager().scheduled_jobs() if j.name == "approvals_daily_chase")


async def run_daily_on(monkeypatch, on: date) -> None:
    """The scheduler's per-tenant run of the daily job, on a fixed clock."""
    monkeypatch.setattr(chase, "today", lambda: on)
    await run_job(daily_job(), "approvals")


async def counts() -> tuple:
    async with in_tenant(SLUG):
        return tuple([await scoped(t).count() for t in (Project, Stage, Filing, Shortfall, Bundle, BundleFiling,
                                                        Item, Material, Action)])


# -- the catalogue --------------------------------------------------------------------------------

async def test_the_catalogue_gives_24_to_7_materials_and_15_to_1_working_days(app):
    coordinator = Client(app, COORDINATOR)
    figures = await coordinator.ok("GET", "figures")
    async with in_tenant(SLUG):
        permit = await scoped(Item).objects().where(Item.code == "construction_permit").first()
        rows = await scoped(Material).count().where(Material.item == permit.id)
    assert rows == 7 and permit.materials_before == 24
    reform = figures["reform"]
    assert (reform["code"], reform["materials_before"], reform["materials_now"]) == ("construction_permit", 24, 7)
    assert (reform["statutory_days"], reform["committed_days"]) == (15, 1)
    row = next(i for i in figures["items"] if i["code"] == "construction_permit")
    assert (row["materials_before"], row["materials_now"]) == (24, 7)

    # A new approval counts its materials from its rows; the headline stays the deepest cut.
    code = f"t{uuid.uuid4().hex[:8]}"
    item = await coordinator.ok("POST", "items", {
        "code": code, "name_zh": "取水许可", "statutory_days": 20, "committed_days": 5, "materials_before": 9,
        "materials": [{"name_zh": "申请书", "key": True}, {"name_zh": "水资源论证报告"}, {"name_zh": "委托书"}]})
    assert (item["materials_before"], item["materials_now"], item["key_materials"]) == (9, 3, 1)
    again = await coordinator.ok("GET", "figures")
    assert again["reform"]["code"] == "construction_permit"
    assert again["catalogue"]["materials_now"] == figures["catalogue"]["materials_now"] + 3
    assert again["catalogue"]["materials_before"] == figures["catalogue"]["materials_before"] + 9

    # Bad input: nothing stored.
    before = await counts()
    for body, field in (({"code": f"x{code}", "name_zh": "x", "statutory_days": 1, "committed_days": 5,
                          "materials": [{"name_zh": "a"}]}, "committed_days"),
                        ({"code": f"y{code}", "name_zh": "x", "statutory_days": 5, "committed_days": 1,
                          "materials": []}, "materials"),
                        ({"code": code, "name_zh": "dup", "statutory_days": 5, "committed_days": 1,
                          "materials": [{"name_zh": "a"}]}, None)):
        refused = await coordinator.call("POST", "items", body)
        assert refused.status_code in (400, 409), refused.text
        if field:
            assert field in refused.json()["message"]
    assert (await Client(app, HELPER).call("POST", "items", {**body, "code": f"z{code}"})).status_code == 403
    assert await counts() == before


# -- projects ---------------------------------------------------------------------------------------

async def test_stage_dates_in_order_and_a_reassignment_needs_its_reason(app):
    company_id, code, name, company_user = await new_company()
    coordinator = Client(app, COORDINATOR)
    before = await counts()
    wrong = targets()
    wrong["land"] = str(today() - timedelta(days=1))  # before 签约
    refused = await coordinator.call("POST", "projects", {"name": "扩产项目", "company": code, "targets": wrong})
    assert refused.status_code == 400 and refused.json()["code"] == "stage_order"
    assert "targets.land" in refused.json()["message"]
    missing = {k: v for k, v in targets().items() if k != "production"}
    refused = await coordinator.call("POST", "projects", {"name": "扩产项目", "company": code, "targets": missing})
    assert refused.status_code == 400 and "targets.production" in refused.json()["message"]
    assert (await coordinator.call("POST", "projects", {"name": "", "company": code, "targets": targets()})
            ).status_code == 400
    assert await counts() == before

    helper_id = await user_id(HELPER)
    project = await coordinator.ok("POST", "projects", {
        "name": "年产5万吨食品加工项目", "company": code, "site": "峰江街道", "amount_fen": 5_000_000_000,
        "industry": "农副食品加工", "contact_name": "蔡经理", "helper": helper_id, "targets": targets()})
    assert project["stage"] == "intent" and project["helper"] == helper_id
    assert [s["key"] for s in project["stages"]] == list(STAGES)
    assert [(a["kind"], a["owner"]) for a in project["actions"]] == [("stage", "helper")]
    pid = project["id"]

    # Another helper: a reassignment without a reason is refused; with one it is kept on the record.
    other, _ = await _helper_user()
    refused = await coordinator.call("POST", f"projects/{pid}/helper", {"helper": other})
    assert refused.status_code == 400 and refused.json()["code"] == "reason_required"
    moved = await coordinator.ok("POST", f"projects/{pid}/helper", {"helper": other, "reason": "原帮办员调岗"})
    assert moved["helper"] == other
    change = next(e for e in moved["events"] if e["action"] == "helper_reassigned")
    assert (change["data"]["previous"], change["data"]["helper"], change["data"]["reason"]) == (
        helper_id, other, "原帮办员调岗")
    assert (await Client(app, HELPER).call("POST", f"projects/{pid}/helper", {"helper": helper_id, "reason": "x"})
            ).status_code == 403
    # Only the project's own helper (or a coordinator) moves it on; a stale stage is 409.
    assert (await Client(app, HELPER).call("POST", f"projects/{pid}/stage", {"stage": "intent"})).status_code == 403
    reached = await coordinator.ok("POST", f"projects/{pid}/stage", {"stage": "intent"})
    assert reached["stage"] == "signing"
    assert (await coordinator.call("POST", f"projects/{pid}/stage", {"stage": "intent"})).status_code == 409

    # The company sees its own project and "what happens next and who is on it"; another company 404.
    mine = Client(app, company_user)
    assert [p["id"] for p in await mine.ok("GET", "projects")] == [pid]
    b = Browser(app)
    await b.login(company_user, SLUG)
    page = await b.get(f"/t/{SLUG}/approvals/projects/{pid}")
    assert page.status_code == 200 and 'id="next"' in page.text and "年产5万吨食品加工项目" in page.text
    next_steps = page.text.split('id="next"', 1)[1].split("</section>", 1)[0]
    assert "签约" in next_steps and "signing" not in next_steps.lower()  # the stage in words, never its key
    _, _, _, stranger = await new_company()
    assert (await Client(app, stranger).call("GET", f"projects/{pid}")).status_code == 404
    s = Browser(app)
    await s.login(stranger, SLUG)
    assert (await s.get(f"/t/{SLUG}/approvals/projects/{pid}")).status_code == 404


async def _helper_user() -> tuple[int, str]:
    username = f"help{uuid.uuid4().hex[:8]}@{SLUG}"
    async with in_tenant(SLUG):
        uid, _ = await ensure_user(username, f"帮办员{username[:8]}", DEMO_PASSWORD)
        await ensure_membership(uid, "approvals_helper", None, None)
    return uid, username


async def _project(app, code: str) -> dict:
    return await Client(app, COORDINATOR).ok("POST", "projects", {
        "name": f"项目{uuid.uuid4().hex[:6]}", "company": code, "helper": await user_id(HELPER), "targets": targets()})


# -- 容缺办理 ---------------------------------------------------------------------------------------

async def test_a_rongque_acceptance_is_chased_to_completion_and_an_unmet_one_flagged(app, monkeypatch):
    company_id, code, _, company_user = await new_company()
    project = await _project(app, code)
    officer, helper = Client(app, OFFICER), Client(app, HELPER)
    permit = await item_id("construction_permit")
    mats = await materials("construction_permit")
    key = next(m["id"] for m in mats.values() if m["key"])
    optional = [m["id"] for m in mats.values() if not m["key"]]
    filing = await Client(app, company_user).ok("POST", "filings", {"item": permit, "project": project["id"]})
    fid = filing["id"]
    assert filing["status"] == "submitted" and filing["materials_asked"] == 7

    # A key material can never be waived; a commitment cannot be due before today; nothing stored.
    due = str(today() + timedelta(days=3))
    before = await counts()
    refused = await officer.call("POST", f"filings/{fid}/accept", {"missing": [optional[0], key],
                                                                   "commitment": "承诺补交", "commitment_due": due})
    assert refused.status_code == 400 and refused.json()["code"] == "key_material"
    refused = await officer.call("POST", f"filings/{fid}/accept", {"missing": optional[:1], "commitment": "承诺补交",
                                                                   "commitment_due": str(today() - timedelta(days=1))})
    assert refused.status_code == 400 and refused.json()["code"] == "due_in_past"
    assert "commitment_due" in refused.json()["message"]
    refused = await officer.call("POST", f"filings/{fid}/accept", {"missing": optional[:1], "commitment_due": due})
    assert refused.status_code == 400 and "commitment" in refused.json()["message"]
    assert (await helper.call("POST", f"filings/{fid}/accept", {})).status_code == 403
    assert await counts() == before
    assert (await officer.ok("GET", f"filings/{fid}"))["status"] == "submitted"

    accepted = await officer.ok("POST", f"filings/{fid}/accept", {
        "missing": optional[:2], "commitment": "承诺三日内补交监理合同等材料。", "commitment_due": due})
    assert accepted["status"] == "accepted" and accepted["waived"] is True
    assert len(accepted["shortfalls"]) == 2
    refused = await officer.call("POST", f"filings/{fid}/grant")
    assert refused.status_code == 409 and refused.json()["code"] == "materials_missing"

    # The daily job chases the company for each missing material, once a day, until it is in.
    link = f"approvals/filings/{fid}"
    company_uid = await user_id(company_user)
    await run_daily_on(monkeypatch, today())
    await run_daily_on(monkeypatch, today())
    chased = await notices(chase.CHASE, link)
    assert sorted(n["material"] for n in chased) == sorted(
        name for name, m in mats.items() if m["id"] in optional[:2])
    assert {n["user"] for n in chased} == {company_uid}
    await officer.ok("POST", f"filings/{fid}/receive", {"material": optional[0]})
    await run_daily_on(monkeypatch, today() + timedelta(days=1))
    assert len(await notices(chase.CHASE, link)) == 3  # only the one still missing
    assert (await officer.call("POST", f"filings/{fid}/receive", {"material": optional[0]})).status_code == 400
    done = await officer.ok("POST", f"filings/{fid}/receive", {"material": optional[1]})
    assert "commitment_met" in [e["action"] for e in done["events"]]
    granted = await officer.ok("POST", f"filings/{fid}/grant")
    assert granted["status"] == "granted" and granted["decided_on"] == str(today())
    await run_daily_on(monkeypatch, today() + timedelta(days=2))
    assert len(await notices(chase.CHASE, link)) == 3 and await notices(chase.UNMET, link) == []

    # One not met: due today, still missing tomorrow — flagged once to the department and the helper.
    other = await Client(app, company_user).ok("POST", "filings", {"item": permit, "project": project["id"]})
    await officer.ok("POST", f"filings/{other['id']}/accept", {"missing": optional[2:3], "commitment": "今日补交",
                                                               "commitment_due": str(today())})
    late = f"approvals/filings/{other['id']}"
    await run_daily_on(monkeypatch, today() + timedelta(days=1))
    await run_daily_on(monkeypatch, today() + timedelta(days=2))
    flagged = await notices(chase.UNMET, late)
    assert {await user_id(OFFICER), await user_id(HELPER)} <= {n["user"] for n in flagged}
    assert len([n for n in flagged if n["user"] == await user_id(HELPER)]) == 1
    detail = await officer.ok("GET", f"filings/{other['id']}")
    assert detail["shortfalls"][0]["flagged_on"] == str(today() + timedelta(days=1))
    assert "commitment_unmet" in [e["action"] for e in detail["events"]]
    b = Browser(app)
    await b.login(OFFICER, SLUG)
    page = await b.get(f"/t/{SLUG}/approvals/filings/{other['id']}")
    assert page.status_code == 200 and 'id="shortfalls"' in page.text


# -- 一件事 -------------------------------------------------------------------------------------------

async def test_a_bundle_completes_only_when_every_department_grants(app):
    coordinator, officer = Client(app, COORDINATOR), Client(app, OFFICER)
    before = await counts()
    refused = await coordinator.call("POST", "bundles", {"code": f"b{uuid.uuid4().hex[:6]}", "name_zh": "空",
                                                         "items": []})
    assert refused.status_code == 400 and refused.json()["code"] == "bundle_empty"
    assert "items" in refused.json()["message"]
    assert await counts() == before

    _, code, _, company_user = await new_company()
    bundles = await Client(app, company_user).ok("GET", "bundles")
    restaurant = next(b for b in bundles if b["code"] == "open_restaurant")
    applied = await Client(app, company_user).ok("POST", f"bundles/{restaurant['id']}/apply", {})
    parts = applied["filings"]
    assert applied["status"] == "open" and applied["total"] == 3 and len(parts) == 3
    assert len({p["department"] for p in parts}) == 2  # opened in parallel across departments
    for part in parts:
        await officer.ok("POST", f"filings/{part['id']}/accept", {})
    await officer.ok("POST", f"filings/{parts[0]['id']}/grant")
    progress = await Client(app, company_user).ok("GET", f"bundle-filings/{applied['id']}")
    assert (progress["granted"], progress["status"]) == (1, "open")
    # The last two granted at once: the bundle completes exactly once.
    answers = await asyncio.gather(*(officer.call("POST", f"filings/{p['id']}/grant") for p in parts[1:]))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    done = await Client(app, company_user).ok("GET", f"bundle-filings/{applied['id']}")
    assert (done["granted"], done["total"], done["status"]) == (3, 3, "completed")
    assert done["completed_on"] == str(today())


async def test_a_refused_part_keeps_the_bundle_open(app):
    officer = Client(app, OFFICER)
    _, code, _, _ = await new_company()
    restaurant = next(b for b in await Client(app, COORDINATOR).ok("GET", "bundles") if b["code"] == "open_restaurant")
    applied = await Client(app, COORDINATOR).ok("POST", f"bundles/{restaurant['id']}/apply", {"company": code})
    first, *rest = applied["filings"]
    await officer.ok("POST", f"filings/{first['id']}/refuse", {"reason": "经营场所不符合要求"})
    for part in rest:
        await officer.ok("POST", f"filings/{part['id']}/accept", {})
        await officer.ok("POST", f"filings/{part['id']}/grant")
    assert (await officer.ok("GET", f"bundle-filings/{applied['id']}"))["status"] == "open"


# -- 被催着办 ------------------------------------------------------------------------------------------

async def test_a_slipped_step_is_reminded_then_escalated_on_a_fixed_clock(app, monkeypatch):
    _, code, _, _ = await new_company()
    project = await _project(app, code)
    async with in_tenant(SLUG):
        calendar = await load_calendar()
        from core.tables import Department

        zgj = (await scoped(Department).select(Department.id).where(Department.code == "zgj").first())["id"]
    due = calendar.add_working_days(today(), 3).date
    helper = Client(app, HELPER)
    step = await helper.ok("POST", f"projects/{project['id']}/actions", {
        "text": "出具施工图审查意见", "owner": "department", "department": zgj, "due_on": str(due)})
    assert any(a["text"] == "出具施工图审查意见" for a in step["actions"])
    assert (await helper.call("POST", f"projects/{project['id']}/actions", {
        "text": "x", "owner": "department", "due_on": str(due)})).status_code == 400  # no department named
    assert (await helper.call("POST", f"projects/{project['id']}/actions", {
        "text": "x", "owner": "helper", "due_on": str(today() - timedelta(days=1))})).status_code == 400
    link = f"approvals/projects/{project['id']}"

    def mine(rows):
        return [n for n in rows if n.get("text") == "出具施工图审查意见"]

    day_before = calendar.previous_workday(due).date
    await run_daily_on(monkeypatch, calendar.previous_workday(day_before).date)  # too early
    assert mine(await notices(chase.REMIND, link)) == []
    await run_daily_on(monkeypatch, day_before)
    await run_daily_on(monkeypatch, day_before)
    await run_daily_on(monkeypatch, due)
    reminded = mine(await notices(chase.REMIND, link))
    assert {n["user"] for n in reminded} == {await user_id(OFFICER)} and len(reminded) == 1
    assert mine(await notices(chase.SLIPPED, link)) == []
    slipped = calendar.next_workday(due).date
    await run_daily_on(monkeypatch, slipped)
    await run_daily_on(monkeypatch, slipped + timedelta(days=1))
    escalated = mine(await notices(chase.SLIPPED, link))
    users = [n["user"] for n in escalated]
    assert sorted(users) == sorted(set(users))  # once each
    assert {await user_id(HELPER), await user_id(f"leader@{SLUG}"), await user_id(f"dept_head@{SLUG}")} <= set(users)
    detail = await helper.ok("GET", f"projects/{project['id']}")
    assert [e for e in detail["events"] if e["action"] == "escalated"]
    b = Browser(app)
    await b.login(HELPER, SLUG)
    page = await b.get(f"/t/{SLUG}/approvals/projects/{project['id']}")
    assert "出具施工图审查意见" in page.text


# -- a stuck approval becomes a case ----------------------------------------------------------------

async def test_a_stuck_approval_becomes_a_case_linked_both_ways(app):
    company_id, code, _, company_user = await new_company()
    project = await _project(app, code)
    filing = await Client(app, COORDINATOR).ok("POST", "filings", {"item": await item_id("eia"),
                                                                    "project": project["id"]})
    assert (await Client(app, company_user).call("POST", f"filings/{filing['id']}/case", {})).status_code == 403
    opened = await Client(app, HELPER).call("POST", f"filings/{filing['id']}/case",
                                            {"description": "环评审批超过承诺时限仍未受理"})
    assert opened.status_code == 201, opened.text
    case = opened.json()
    detail = await Client(app, HELPER).ok("GET", f"filings/{filing['id']}")
    assert (detail["case"], detail["case_number"]) == (case["id"], case["number"])
    async with in_tenant(SLUG):
        row = await scoped(Case).objects().where(Case.id == case["id"]).first()
        links = await scoped(CaseEvent).select(CaseEvent.data).where(
            (CaseEvent.case == case["id"]) & (CaseEvent.action == "approvals_case"))
    assert row.company == company_id and row.on_behalf and row.submitted_by == await user_id(HELPER)
    assert [json.loads(r["data"])["filing"] for r in links] == [filing["id"]]
    again = await Client(app, HELPER).call("POST", f"filings/{filing['id']}/case", {})
    assert again.status_code == 409
    b = Browser(app)
    await b.login(company_user, SLUG)
    page = await b.get(f"/t/{SLUG}/approvals/filings/{filing['id']}")
    assert f'href="/t/{SLUG}/cases/{case["id"]}"' in page.text
    assert (await b.get(f"/t/{SLUG}/cases/{case['id']}")).status_code == 200


# -- pages, export, isolation, demo ---------------------------------------------------------------

@pytest.mark.parametrize("username", [COORDINATOR, HELPER, OFFICER, f"company@{SLUG}"])
async def test_every_page_renders_for_each_role(app, username):
    async with in_tenant(SLUG):
        project = await scoped(Project).objects().order_by(Project.id).first()
        filing = await scoped(Filing).objects().where(Filing.project == project.id).first()
        bf = await scoped(BundleFiling).objects().order_by(BundleFiling.id).first()
    b = Browser(app)
    assert (await b.login(username, SLUG)).status_code == 303
    staff = not username.startswith("company@")
    paths = ["", "catalogue", "bundles", f"projects/{project.id}", f"filings/{filing.id}"]
    if staff:
        paths += [f"bundle-filings/{bf.id}", "export.xlsx"]
    for path in paths:
        page = await b.get(f"/t/{SLUG}/approvals/{path}")
        assert page.status_code == 200, (username, path, page.status_code)
    home = await b.get(f"/t/{SLUG}/approvals/")
    if staff:
        assert 'id="reform"' in home.text and "24 → 7" in home.text and "15 → 1" in home.text
    if username == COORDINATOR:
        assert 'data-widget="approvals"' in (await b.get(f"/t/{SLUG}/")).text


async def test_the_widget_shows_the_reform_to_staff_and_the_screen_watchers_only(app):
    for username, shown in ((COORDINATOR, True), (f"tenant_admin@{SLUG}", True), (f"handler@{SLUG}", False)):
        b = Browser(app)
        await b.login(username, SLUG)
        home = (await b.get(f"/t/{SLUG}/")).text
        assert ('data-widget="approvals"' in home) is shown, username
        if shown:
            assert "24 → 7" in home and "15 → 1" in home


async def test_a_tenant_without_the_module_sees_nothing_of_it(app):
    async with in_tenant(SLUG):
        project = await scoped(Project).objects().order_by(Project.id).first()
        filing = await scoped(Filing).objects().order_by(Filing.id).first()
    b = Browser(app)
    await b.login("tenant_admin@jiaojiang", "jiaojiang")
    for path in ("", "catalogue", "bundles", f"projects/{project.id}", f"filings/{filing.id}", "export.xlsx"):
        assert (await b.get(f"/t/jiaojiang/approvals/{path}")).status_code == 404, path
    client = Client(app, "tenant_admin@jiaojiang", "jiaojiang")
    for method, path in (("GET", "projects"), ("GET", f"projects/{project.id}"), ("GET", f"filings/{filing.id}"),
                         ("POST", f"filings/{filing.id}/grant"), ("GET", "figures")):
        assert (await client.call(method, path)).status_code == 404, path
    assert 'data-widget="approvals"' not in (await b.get("/t/jiaojiang/")).text


async def test_demo_data_is_idempotent_and_shaped_like_the_article():
    async with in_tenant(SLUG):
        before = await counts()
        await load_demo()
        assert await counts() == before
        project = await scoped(Project).objects().where(Project.name == "日泉食品农副食品加工项目").first()
        waived = await scoped(Filing).objects().where((Filing.project == project.id) & (Filing.waived == True))  # noqa: E712
        assert project.stage == "approval" and len(waived) == 1
        assert await scoped(Event).count() > 0


async def test_hostile_bodies_are_4xx_and_store_nothing(app):
    """Every write route, as staff and as a company, with bodies of the wrong shape or values out of
    range: a 4xx (a body that is not an object always), never a 5xx."""
    _, code, _, _ = await new_company()
    project = await _project(app, code)
    filing = await Client(app, COORDINATOR).ok("POST", "filings", {"item": await item_id("eia"),
                                                                    "project": project["id"]})
    project, filing = SimpleNamespace(**project), SimpleNamespace(**filing)
    async with in_tenant(SLUG):
        bundle = await scoped(Bundle).objects().order_by(Bundle.id).first()
    paths = ["projects", f"projects/{project.id}/helper", f"projects/{project.id}/stage",
             f"projects/{project.id}/actions", "items", "filings", f"filings/{filing.id}/accept",
             f"filings/{filing.id}/receive", f"filings/{filing.id}/refuse", f"filings/{filing.id}/case",
             "bundles", f"bundles/{bundle.id}/apply"]
    bodies = [None, [], "x", {"targets": {"intent": "2026-13-45"}}, {"targets": {"intent": "9999-12-31"}},
              {"name": "x" * 500, "targets": {}}, {"item": 2**40}, {"item": -1, "project": 0},
              {"missing": [2**31 - 1], "commitment": "x", "commitment_due": "9999-12-31"},
              {"missing": "all"}, {"helper": 2**31 - 1, "reason": "x"}, {"stage": "nope"},
              {"text": "x", "owner": "boss", "due_on": "2026-01-01"}, {"material": 0},
              {"code": "../x", "name_zh": "x", "items": [1, 1, 2**31 - 1]}, {"company": "' OR 1=1 --"}]
    for username in (COORDINATOR, OFFICER, f"company@{SLUG}"):
        client = Client(app, username)
        for path in paths:
            for body in bodies:
                response = await client.call("POST", path, body)
                assert response.status_code < 500, (username, path, body, response.status_code, response.text)
                if not isinstance(body, dict):
                    assert response.status_code == 400, (username, path, body, response.status_code)


async def test_two_officers_deciding_one_application_at_once_one_wins(app):
    _, code, _, _ = await new_company()
    project = await _project(app, code)
    filing = await Client(app, COORDINATOR).ok("POST", "filings", {"item": await item_id("fire_design"),
                                                                    "project": project["id"]})
    officers = [Client(app, OFFICER), Client(app, OFFICER)]
    accepted = await asyncio.gather(*(o.call("POST", f"filings/{filing['id']}/accept", {}) for o in officers))
    assert sorted(a.status_code for a in accepted) == [200, 409]
    decided = await asyncio.gather(officers[0].call("POST", f"filings/{filing['id']}/grant"),
                                   officers[1].call("POST", f"filings/{filing['id']}/refuse", {"reason": "材料不全"}))
    assert sorted(d.status_code for d in decided) == [200, 409]
    detail = await officers[0].ok("GET", f"filings/{filing['id']}")
    actions = [e["action"] for e in detail["events"]]
    assert actions.count("accepted") == 1 and len({"granted", "refused"} & set(actions)) == 1
    assert detail["status"] in ("granted", "refused") and detail["actions"] == []


def test_a_tenant_configures_its_own_stages(monkeypatch):
    from core.errors import UserError
    from plugins.approvals import projects

    monkeypatch.setattr(projects, "tenant_setting", lambda key, default=None: "signing, land ,construction,land")
    assert projects.stage_keys() == ["signing", "land", "construction"]
    d = date(2026, 3, 2)
    ordered = projects.ordered_targets({"construction": d + timedelta(days=9), "signing": d, "land": d})
    assert [k for k, _ in ordered] == ["signing", "land", "construction"]
    for bad, field in (({"signing": d, "land": d - timedelta(days=1), "construction": d}, "targets.land"),
                       ({"signing": d, "land": d}, "targets.construction"),
                       ({"signing": d, "land": d, "construction": d, "production": d}, "targets.production")):
        with pytest.raises(UserError) as refused:
            projects.ordered_targets(bad)
        assert refused.value.status_code == 400 and refused.value.params["field"] == field
