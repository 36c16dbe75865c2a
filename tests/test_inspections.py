"""The seven must-investigate rules (七必查) and discipline inspections (纪检核查).

For each rule: one test where events on fresh cases trigger it exactly once (evaluated again and
re-run nightly, still one inspection) and one where it does not.  Then the handling flow with its
403/409 answers, exemption, the rules page, the company's report page, and the API's walls.
"""

import asyncio
import json
import re
import uuid
from datetime import timedelta

import pytest

from core.cases.tables import Case, Refusal
from core.clock import now, today
from core.inspections import service
from core.inspections.tables import ConductReport, Inspection, RuleSetting
from core.plugins import get_plugin_manager
from core.tables import Category, Department
from tenants.onboarding import ensure_membership, ensure_user
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background, token_for
from workers.scheduler import run_job


@pytest.fixture
async def api(app):
    return Api(app)


async def opened(rule: str, slug: str = "luqiao", case: int | None = None, key: str | None = None) -> list[dict]:
    async with in_tenant(slug):
        query = scoped(Inspection).select().where(Inspection.rule == rule)
        if case is not None:
            query = query.where(Inspection.case == case)
        if key is not None:
            query = query.where(Inspection.dedupe_key == key)
        return await query


async def evaluate_again(case_id: int | None = None, slug: str = "luqiao") -> None:
    """The event-driven evaluation once more, then the nightly sweep over every tenant."""
    async with in_tenant(slug):
        await service.evaluate(case_id=case_id)
    job = next(j for j in get_plugin_manager().scheduled_jobs() if j.name == "inspections_nightly")
    await run_job(job)


async def test_the_nightly_run_leaves_writers_free_while_its_rules_read(app, monkeypatch):
    """On the embedded default one writer at a time: the nightly rules (minutes on a large tenant)
    read outside the write lock, so a step taken meanwhile waits for nothing."""
    real, reading = service.findings, asyncio.Event()

    async def slow_findings(target=None):
        reading.set()
        await asyncio.sleep(1.5)  # the rules over a large tenant
        return await real(target)

    monkeypatch.setattr(service, "findings", slow_findings)
    job = next(j for j in get_plugin_manager().scheduled_jobs() if j.name == "inspections_nightly")
    nightly = asyncio.create_task(run_job(job))
    await asyncio.wait_for(reading.wait(), 10)
    started = asyncio.get_running_loop().time()
    async with in_tenant("luqiao"):  # a write while the rules read
        await scoped(Department).update({Department.name_zh: Department.name_zh}).where(Department.code == "zgj")
    waited = asyncio.get_running_loop().time() - started
    await nightly
    assert waited < 1.0, waited


async def zgj_id(slug: str = "luqiao") -> int:
    async with in_tenant(slug):
        return (await scoped(Department).select(Department.id).where(Department.code == "zgj").first())["id"]


async def refused_in(api: Api, category: str) -> dict:
    case = await api.submit(title="同一问题再次反映", category=category)
    await api.step("dispatcher", case["id"], "dispatch")
    await api.step("handler", case["id"], "accept")
    await api.step("handler", case["id"], "refuse", {"reason": "不符合政策", "basis": "某条例第三条"})
    for level in ("section_head", "leader", "dept_head"):
        case = await api.step(level, case["id"], "sign", {"comment": "同意"})
    return case


async def overturned(api: Api) -> dict:
    case = await api.under_review(hearing=True)
    return await api.step("reviewer", case["id"], "rule", {"verdict": "overturned", "reason": "非企业原因"})


async def fresh_category() -> str:
    code = f"t{uuid.uuid4().hex[:10]}"
    dept = await zgj_id()
    async with in_tenant("luqiao"):
        await scoped(Category).add(code=code, name_zh="测试类别" + code, lead_department=dept, deadline_days=5)
    return code


async def fresh_handler(app) -> tuple[Api, int]:
    """An Api whose "handler" is a new user of the zgj department (its own overturn count)."""
    username = f"h{uuid.uuid4().hex[:8]}@luqiao"
    dept = await zgj_id()
    async with in_tenant("luqiao"):
        user_id, _ = await ensure_user(username, "测试经办人", DEMO_PASSWORD)
        await ensure_membership(user_id, "handler", dept, None)
    api = Api(app)
    api.tokens["handler"] = await token_for(username, "luqiao")
    return api, user_id


async def set_rule(slug: str, rule: str, enabled: bool | None) -> None:
    """Switch a rule off (False) or back to its defaults (None)."""
    async with in_tenant(slug):
        await scoped(RuleSetting).delete().where(RuleSetting.rule == rule)
        if enabled is not None:
            await service.save_setting(rule, enabled, {})


def one(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    return rows[0]


# -- 1. a refusal overturned on review -----------------------------------------------------------

async def test_overturned_refusal_opens_one_inspection(api):
    case = await overturned(api)
    await process_background()
    row = one(await opened("overturned_refusal", case=case["id"]))
    assert row["status"] == "open" and row["subject"] and json.loads(row["evidence"])[0]["kind"] == "case"
    await evaluate_again(case["id"])
    one(await opened("overturned_refusal", case=case["id"]))
    timeline = (await api.get("dispatcher", case["id"]))["timeline"]
    events = [e for e in timeline if e["action"] == "inspection"]
    assert events and all(e["role"] == "system" and e["actor"] is None for e in events)
    # the company's own view of the case never shows that an inspection was opened
    own = (await api.get("company", case["id"]))["timeline"]
    assert own and not [e for e in own if e["action"] == "inspection"]
    record = (await api.call("company", "GET", f"events?case={case['id']}")).json()
    assert record and not [e for e in record if e["action"] == "inspection"]


async def test_upheld_review_opens_no_inspection(api):
    case = await api.under_review(hearing=True)
    await api.step("reviewer", case["id"], "rule", {"verdict": "upheld", "reason": "依据充分"})
    await process_background()
    await evaluate_again(case["id"])
    assert await opened("overturned_refusal", case=case["id"]) == []


# -- 2. a case overdue beyond N working days ----------------------------------------------------------

async def test_long_overdue_opens_one_inspection(api, behind_the_record):
    case = await api.in_progress()
    async with in_tenant("luqiao"):
        await behind_the_record(case["id"], {Case.due_date: today() - timedelta(days=30)})
    await api.step("dispatcher", case["id"], "escalate", {"reason": "长期超期"})
    await process_background()
    row = one(await opened("long_overdue", case=case["id"]))
    assert json.loads(row["params"])["days"] > 5
    await evaluate_again(case["id"])
    one(await opened("long_overdue", case=case["id"]))


async def test_overdue_by_fewer_working_days_opens_nothing(api, behind_the_record):
    case = await api.in_progress()
    async with in_tenant("luqiao"):
        await behind_the_record(case["id"], {Case.due_date: today() - timedelta(days=2)})
    await api.step("dispatcher", case["id"], "escalate", {"reason": "刚超期"})
    await process_background()
    await evaluate_again(case["id"])
    assert await opened("long_overdue", case=case["id"]) == []


# -- 3. the same company's same problem refused repeatedly ---------------------------------------------

async def _key_of(case_id: int) -> str:
    async with in_tenant("luqiao"):
        row = await scoped(Case).select(Case.company, Case.category).where(Case.id == case_id).first()
    return f"repeated_refusal:{row['company']}:{row['category']}"


async def test_repeated_refusal_opens_one_inspection(api):
    category = await fresh_category()
    first = await refused_in(api, category)
    await process_background()
    key = await _key_of(first["id"])
    assert await opened("repeated_refusal", key=key) == []
    second = await refused_in(api, category)
    await process_background()
    row = one(await opened("repeated_refusal", key=key))
    assert row["case"] == second["id"] and json.loads(row["params"])["count"] == 2
    third = await refused_in(api, category)
    await process_background()
    await evaluate_again(third["id"])
    one(await opened("repeated_refusal", key=key))


async def test_single_or_old_refusals_open_nothing(api):
    category = await fresh_category()
    old = await refused_in(api, category)
    async with in_tenant("luqiao"):  # outside the 180-day window
        await scoped(Refusal).update({Refusal.completed_at: now() - timedelta(days=200)}).where(
            Refusal.case == old["id"])
    recent = await refused_in(api, category)
    await process_background()
    await evaluate_again(recent["id"])
    assert await opened("repeated_refusal", key=await _key_of(recent["id"])) == []


# -- 4. a company's report of misconduct ----------------------------------------------------------------

async def test_misconduct_report_opens_one_inspection_kept_off_the_case_page(api):
    case = await api.in_progress()
    response = await api.call("company", "POST", "inspections/reports",
                              {"kind": "favours", "description": "经办人暗示要请吃饭才给办", "case": case["id"]})
    assert response.status_code == 201, response.text
    report_id = response.json()["id"]
    await process_background()
    row = one(await opened("misconduct_report", key=f"misconduct_report:{report_id}"))
    assert row["case"] == case["id"] and row["subject"]
    await evaluate_again(case["id"])
    one(await opened("misconduct_report", key=f"misconduct_report:{report_id}"))
    # The report protects the reporter: nothing about it on the case's timeline.
    timeline = (await api.get("handler", case["id"]))["timeline"]
    assert not [e for e in timeline if e["action"] == "inspection"]


async def test_misconduct_report_with_the_rule_switched_off_opens_nothing(app):
    api = Api(app, slug="jiaojiang")
    await set_rule("jiaojiang", "misconduct_report", False)
    try:
        response = await api.call("company", "POST", "inspections/reports",
                                  {"kind": "gifts", "description": "索要购物卡"})
        assert response.status_code == 201, response.text
        await process_background()
        await evaluate_again(slug="jiaojiang")
        assert await opened("misconduct_report", "jiaojiang", key=f"misconduct_report:{response.json()['id']}") == []
    finally:
        await set_rule("jiaojiang", "misconduct_report", None)


# -- 5. an "unsatisfied" rating citing conduct ----------------------------------------------------------

async def test_unsatisfied_rating_citing_conduct_opens_one_inspection(api):
    case = await api.resolved()
    await api.step("company", case["id"], "rate", {"rating": "unsatisfied", "comment": "经办人吃拿卡要，还故意拖延"})
    await process_background()
    row = one(await opened("unsatisfied_conduct", case=case["id"]))
    assert "吃拿卡要" in json.loads(row["params"])["keywords"]
    await api.step("company", case["id"], "reopen", {"reason": "问题依旧"})
    await api.step("handler", case["id"], "resolve", {"reply": "再次处理"})
    await api.step("company", case["id"], "rate", {"rating": "unsatisfied", "comment": "仍然推诿"})
    await process_background()
    await evaluate_again(case["id"])
    one(await opened("unsatisfied_conduct", case=case["id"]))


async def test_satisfied_or_plain_unsatisfied_ratings_open_nothing(api):
    happy = await api.resolved()
    await api.step("company", happy["id"], "rate", {"rating": "satisfied", "comment": "没有吃拿卡要，很满意"})
    plain = await api.resolved()
    await api.step("company", plain["id"], "rate", {"rating": "unsatisfied", "comment": "效果一般"})
    await process_background()
    await evaluate_again()
    assert await opened("unsatisfied_conduct", case=happy["id"]) == []
    assert await opened("unsatisfied_conduct", case=plain["id"]) == []


# -- 6. a rubber-stamp sign-off chain ---------------------------------------------------------------------

async def _refusal_id(case_id: int) -> int:
    async with in_tenant("luqiao"):
        return (await scoped(Refusal).select(Refusal.id).where(Refusal.case == case_id).first())["id"]


async def test_fast_signoff_opens_one_inspection(api):
    case = await api.refused()
    await process_background()
    key = f"fast_signoff:{await _refusal_id(case['id'])}"
    row = one(await opened("fast_signoff", key=key))
    assert row["case"] == case["id"] and json.loads(row["params"])["minutes"] == 10
    await evaluate_again(case["id"])
    one(await opened("fast_signoff", key=key))


async def test_slow_signoff_chain_opens_nothing(api):
    case = await api.refusal_pending()
    async with in_tenant("luqiao"):  # filed half an hour before the chain completes
        await scoped(Refusal).update({Refusal.created_at: now() - timedelta(minutes=30)}).where(
            Refusal.case == case["id"])
    for level in ("section_head", "leader", "dept_head"):
        await api.step(level, case["id"], "sign", {"comment": "审核后同意"})
    await process_background()
    await evaluate_again(case["id"])
    assert await opened("fast_signoff", key=f"fast_signoff:{await _refusal_id(case['id'])}") == []


# -- 7. a handler overturned more than N times within 365 days -------------------------------------------

async def test_handler_overturned_more_than_three_times_opens_one_inspection(app):
    api, handler_id = await fresh_handler(app)
    key = f"handler_overturned:{handler_id}:{today().year}"
    for _ in range(3):
        await overturned(api)
    await process_background()
    assert await opened("handler_overturned", key=key) == []
    last = await overturned(api)
    await process_background()
    row = one(await opened("handler_overturned", key=key))
    assert row["subject"] == handler_id and json.loads(row["params"])["count"] == 4
    await evaluate_again(last["id"])
    one(await opened("handler_overturned", key=key))


async def test_handler_overturned_three_times_opens_nothing(app):
    api, handler_id = await fresh_handler(app)
    for _ in range(3):
        last = await overturned(api)
    await process_background()
    await evaluate_again(last["id"])
    assert await opened("handler_overturned", key=f"handler_overturned:{handler_id}:{today().year}") == []


# -- handling ----------------------------------------------------------------------------------------------

async def _report_inspection(api: Api) -> int:
    response = await api.call("company", "POST", "inspections/reports",
                              {"kind": "obstruction", "description": "窗口故意刁难"})
    assert response.status_code == 201, response.text
    await process_background()
    return one(await opened("misconduct_report", key=f"misconduct_report:{response.json()['id']}"))["id"]


async def test_handling_through_the_api_with_its_403s_and_409s(api, app):
    iid = await _report_inspection(api)
    path = f"inspections/{iid}"
    assert (await api.call("inspector", "GET", path)).json()["status"] == "open"
    for role in ("dispatcher", "company", "handler", "reviewer", "tenant_admin"):
        for method, url in (("GET", path), ("GET", "inspections/"), ("POST", f"{path}/investigate")):
            response = await api.call(role, method, url, {})
            assert response.status_code == 403, (role, url, response.status_code)
            assert "items" not in response.text and "窗口故意刁难" not in response.text
    other = Api(app, slug="jiaojiang")
    assert (await other.call("inspector", "GET", path)).status_code == 404
    assert (await api.call("inspector", "POST", f"{path}/conclude", {"conclusion": "no_issue", "notes": "x"})
            ).status_code == 409
    step = await api.call("inspector", "POST", f"{path}/investigate", {"notes": "调取办理记录", "version": 0})
    assert step.status_code == 200 and step.json()["status"] == "investigating" and step.json()["version"] == 1
    assert (await api.call("inspector", "POST", f"{path}/investigate", {})).status_code == 409
    stale = await api.call("inspector", "POST", f"{path}/conclude",
                           {"conclusion": "violation_found", "notes": "查实", "version": 0})
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    bad = await api.call("inspector", "POST", f"{path}/conclude", {"conclusion": "maybe", "notes": "查实"})
    assert bad.status_code == 400
    assert (await api.call("inspector", "POST", f"{path}/conclude", {"conclusion": "no_issue"})).status_code == 400
    done = await api.call("inspector", "POST", f"{path}/conclude",
                          {"conclusion": "violation_found", "notes": "查实存在刁难", "version": 1})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["conclusion"], body["version"]) == ("concluded", "violation", 2)
    assert body["handled_by"] and body["concluded_at"]
    assert "调取办理记录" in body["notes"] and "查实存在刁难" in body["notes"]
    listed = (await api.call("inspector", "GET", "inspections/?status=concluded&rule=misconduct_report")).json()
    assert iid in [i["id"] for i in listed["items"]]
    # The cadre module's fault tolerance (容错免责) exempts it afterwards, once.
    async with in_tenant("luqiao"):
        row = await service.exempt(iid, "符合容错情形：探索性工作中的失误", None, actor_role="cadre_org")
        assert (row.status, row.conclusion) == ("concluded", "exempted")
        with pytest.raises(Exception) as again:
            await service.exempt(iid, "再次", None)
        assert getattr(again.value, "status_code", None) == 409


async def test_handling_through_the_pages(api, app):
    iid = await _report_inspection(api)
    inspector = Browser(app)
    await inspector.login("inspector@luqiao", "luqiao")
    home = await inspector.get("/t/luqiao/")
    assert 'data-nav="inspections/"' in home.text and 'data-nav="inspections/rules"' not in home.text
    listing = await inspector.get("/t/luqiao/inspections/?rule=misconduct_report")
    assert listing.status_code == 200 and f'data-inspection="{iid}"' in listing.text
    fragment = await inspector.get("/t/luqiao/inspections/?status=open", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'data-rule="misconduct_report"' in fragment.text
    page = await inspector.get(f"/t/luqiao/inspections/{iid}")
    assert 'data-step="investigate"' in page.text and "窗口故意刁难" in page.text
    version = re.search(r'data-version="(\d+)"', page.text).group(1)
    moved = await inspector.post(f"/t/luqiao/inspections/{iid}/investigate", {"version": version, "notes": "约谈"},
                                 htmx=True)
    assert moved.status_code == 200 and "<html" not in moved.text and 'data-status="investigating"' in moved.text
    assert 'data-step="conclude"' in moved.text
    doubled = await inspector.post(f"/t/luqiao/inspections/{iid}/investigate", {"version": version}, htmx=True)
    assert doubled.status_code == 409
    dispatcher = Browser(app)
    await dispatcher.login("dispatcher@luqiao", "luqiao")
    assert (await dispatcher.get("/t/luqiao/inspections/")).status_code == 403
    assert (await dispatcher.get(f"/t/luqiao/inspections/{iid}")).status_code == 403
    refused = await dispatcher.post(f"/t/luqiao/inspections/{iid}/conclude",
                                    {"conclusion": "no_issue", "notes": "x"}, htmx=True)
    assert refused.status_code == 403
    concluded = await inspector.post(f"/t/luqiao/inspections/{iid}/conclude",
                                     {"version": re.search(r'data-version="(\d+)"', moved.text).group(1),
                                      "conclusion": "no_issue", "notes": "经核查无问题"}, htmx=True)
    assert concluded.status_code == 200 and 'data-conclusion="no_issue"' in concluded.text


# -- the rules page -------------------------------------------------------------------------------------

async def test_rules_page_validates_and_saves(app):
    admin = Browser(app)
    await admin.login("tenant_admin@jiaojiang", "jiaojiang")
    page = await admin.get("/t/jiaojiang/inspections/rules")
    assert page.status_code == 200 and len(re.findall(r'<article data-rule="', page.text)) == 7
    async with in_tenant("jiaojiang"):
        before = await scoped(RuleSetting).select()
    try:
        for rule, fields, word in (("fast_signoff", {"minutes": "abc"}, "1440"), ("fast_signoff", {"minutes": "0"}, "1440"),
                                   ("repeated_refusal", {"count": "3", "window_days": "9999"}, "730"),
                                   ("unsatisfied_conduct", {"keywords": " , "}, "20")):
            bad = await admin.post("/t/jiaojiang/inspections/rules", {"rule": rule, "enabled": "1", **fields})
            assert bad.status_code == 400 and word in bad.text and "data-error-message" in bad.text, (rule, bad.text[:300])
        unknown = await admin.post("/t/jiaojiang/inspections/rules", {"rule": "nonsense", "enabled": "1"})
        assert unknown.status_code == 400
        async with in_tenant("jiaojiang"):
            assert await scoped(RuleSetting).select() == before  # nothing saved
        saved = await admin.post("/t/jiaojiang/inspections/rules",
                                 {"rule": "unsatisfied_conduct", "keywords": "索贿，刁难, 推诿"})
        assert saved.status_code == 303 and saved.headers["location"].endswith("rules?saved=unsatisfied_conduct")
        async with in_tenant("jiaojiang"):
            setting = (await service.load_settings())["unsatisfied_conduct"]
        assert setting.enabled is False and setting.params["keywords"] == ["索贿", "刁难", "推诿"]
        page = await admin.get("/t/jiaojiang/inspections/rules?saved=unsatisfied_conduct")
        assert "data-saved" in page.text and "索贿、刁难、推诿" in page.text
    finally:
        await set_rule("jiaojiang", "unsatisfied_conduct", None)
    for role in ("dispatcher", "inspector", "company"):
        other = Browser(app)
        await other.login(f"{role}@jiaojiang", "jiaojiang")
        assert (await other.get("/t/jiaojiang/inspections/rules")).status_code == 403
        assert (await other.post("/t/jiaojiang/inspections/rules", {"rule": "fast_signoff"})).status_code == 403


# -- the company's report page ------------------------------------------------------------------------------

async def test_company_reports_misconduct_from_its_page(api, app):
    case = await api.in_progress()
    company = Browser(app)
    await company.login("company@luqiao", "luqiao")
    home = await company.get("/t/luqiao/")
    assert 'data-nav="inspections/report"' in home.text and 'data-nav="inspections/"' not in home.text
    form = await company.get("/t/luqiao/inspections/report")
    assert form.status_code == 200 and f'value="{case["id"]}"' in form.text
    async with in_tenant("luqiao"):
        count = await scoped(ConductReport).count()
        stranger = await scoped(Case).select(Case.id).where(Case.company != (await scoped(Case).select(
            Case.company).where(Case.id == case["id"]).first())["company"]).first()
    too_long = await company.post("/t/luqiao/inspections/report", {"kind": "favours", "description": "长" * 2001})
    assert too_long.status_code == 400
    not_theirs = await company.post("/t/luqiao/inspections/report",
                                    {"kind": "favours", "description": "x", "case": str(stranger["id"])})
    assert not_theirs.status_code == 400
    bad_kind = await company.post("/t/luqiao/inspections/report", {"kind": "bribe", "description": "x"})
    assert bad_kind.status_code == 400
    async with in_tenant("luqiao"):
        assert await scoped(ConductReport).count() == count
    sent = await company.post("/t/luqiao/inspections/report",
                              {"kind": "gifts", "description": "要求送购物卡", "case": str(case["id"])})
    assert sent.status_code == 303 and sent.headers["location"].endswith("report?sent=1")
    thanks = await company.get("/t/luqiao/inspections/report?sent=1")
    assert "data-sent" in thanks.text and case["number"] in thanks.text
    async with in_tenant("luqiao"):
        row = await scoped(ConductReport).select().where(ConductReport.case == case["id"]).first()
    assert row["kind"] == "gifts" and row["description"] == "要求送购物卡"
    dispatcher = Browser(app)
    await dispatcher.login("dispatcher@luqiao", "luqiao")
    assert (await dispatcher.get("/t/luqiao/inspections/report")).status_code == 403
    assert (await api.call("dispatcher", "POST", "inspections/reports",
                           {"kind": "gifts", "description": "x"})).status_code == 403


async def test_a_concurrent_duplicate_is_skipped_by_the_unique_index():
    from core.inspections.rules import Finding

    finding = Finding("misconduct_report", f"misconduct_report:dup-{uuid.uuid4()}", "Not found.", {})
    async with in_tenant("luqiao"):
        first = await service._insert(finding)
        # As if another worker had passed the dedupe check at the same moment: the index refuses it,
        # the savepoint keeps the transaction usable, and nothing is opened twice.
        assert first is not None and await service._insert(finding) is None
        assert await service.open_findings([finding]) == []
        assert await scoped(Inspection).count().where(Inspection.dedupe_key == finding.key) == 1


def test_plugin_is_core_and_contributes_its_job_and_actor():
    manager = get_plugin_manager()
    assert manager.infos["inspections"].optional is False
    assert "inspections_nightly" in [j.name for j in manager.scheduled_jobs()]
    assert "inspections_evaluate" in [a.name for a in manager.actors()]
    assert "core.inspections.piccolo_app" in manager.piccolo_apps()
