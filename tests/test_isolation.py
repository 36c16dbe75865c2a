"""Isolation: walk every route the application registers and show that no tenant reaches
another's resources, and that a plugin route of a tenant without the plugin answers 404."""

import re
import uuid
from datetime import timedelta

import pytest
from litestar.routes import HTTPRoute

from core.cases.attachments import store
from core.cases.company_jobs import start_import
from core.cases.redispatch_tables import RedispatchBatch
from core.cases.tables import Attachment, Case, Company, ImportJob
from core.clock import today
from core.inspections.tables import Inspection
from core.oversight.tables import ClusterRun
from core.plugins import get_plugin_manager
from core.tables import ApiToken, Department, Notification, User
from core.users import CurrentUser
from plugins.approvals.tables import Bundle, BundleFiling, Filing as ApprovalFiling, Item as ApprovalItem, Project
from plugins.cadre.tables import (
    Application as CadreApplication,
    Cadre,
    Campaign as CadreCampaign,
    Objection as CadreObjection,
    Publicity as CadrePublicity,
)
from plugins.enforcement.tables import (
    Finding as EnforcementFinding,
    Inspection as CompanyInspection,
    ListItem as EnforcementItem,
)
from plugins.liaison.tables import Consultation, FollowUp, Message, Need, Person, Salon, Visit
from plugins.mediation.tables import Dispute, DisputeFile, Referral
from tenants.scope import scoped
from tests.helpers import Browser, in_tenant, token_for
from workers.actors import run_actor

PARAM = re.compile(r"\{(\w+):(\w+)\}")
# Every path parameter naming a tenant resource, and the table it comes from.  A route with a
# parameter missing here fails the walk: new resources must join the isolation test.
RESOURCES = {"token_id": ApiToken, "notification_id": Notification, "case_id": Case, "attachment_id": Attachment,
             "job_id": ImportJob, "inspection_id": Inspection, "run_id": ClusterRun}
RESOURCES.update({"company_id": Company, "need_id": Need, "follow_up_id": FollowUp, "salon_id": Salon,
                  "consultation_id": Consultation, "message_id": Message})
RESOURCES.update({"cadre_id": Cadre, "campaign_id": CadreCampaign, "application_id": CadreApplication,
                  "publicity_id": CadrePublicity, "objection_id": CadreObjection})
RESOURCES.update({"company_inspection_id": CompanyInspection, "finding_id": EnforcementFinding,
                  "item_id": EnforcementItem})
RESOURCES.update({"dispute_id": Dispute, "referral_id": Referral, "file_id": DisputeFile})
RESOURCES.update({"batch_id": RedispatchBatch})  # a bulk re-dispatch (二次交办)
RESOURCES.update({"project_id": Project, "filing_id": ApprovalFiling, "bundle_id": Bundle,
                  "bundle_filing_id": BundleFiling})
# Open311 names a case by "<id>.<format>" (requests/) and "<number>.<format>" (tokens/).
RESOURCES.update({"request_ref": Case, "token_ref": Case})
# Path parameters that name no tenant resource, with a value to use.
PLAIN = {"code": "en", "step": "escalate", "label": "0", "month": "2026-03", "service_ref": "municipal.json"}


def tenant_routes(app):
    litestar_app = app.app
    for route in litestar_app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/t/{tenant"):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method in ("HEAD", "OPTIONS"):
                continue
            yield route.path, method, handler


def fill(path: str, slug: str, ids: dict) -> str:
    def sub(match):
        name = match.group(1)
        if name == "tenant":
            return slug
        if name in PLAIN:
            return PLAIN[name]
        assert name in RESOURCES, f"path parameter {name!r} of {path} has no resource in the isolation test"
        return str(ids[name])

    return PARAM.sub(sub, path)


@pytest.fixture
async def luqiao_ids():
    """One resource of each kind owned by luqiao."""
    await token_for("tenant_admin@luqiao", "luqiao")
    async with in_tenant("luqiao") as tenant:
        user = await User.select(User.id).where(User.username == "tenant_admin@luqiao").first()
        await run_actor("deliver_notification", "isolation-msg", tenant.id,
                        {"user_id": user["id"], "kind": "test", "title": "Notifications"})
        token = await scoped(ApiToken).select(ApiToken.id).where(ApiToken.user == user["id"]).first()
        note = await scoped(Notification).select(Notification.id).where(Notification.source == "isolation-msg").first()
        case = await scoped(Case).objects().where(Case.status == "in_progress").first()
        uploader = CurrentUser(id=user["id"], username="tenant_admin@luqiao", display_name="", locale="zh_CN",
                               roles={"tenant_admin"})
        attachment = await store(case, uploader, "isolation.pdf", b"%PDF-1.4\n%isolation\n%%EOF\n")
        before = (case.status, case.version, case.escalated)
        job = await start_import(user["id"], "list.csv", "企业名称,统一社会信用代码\n甲公司,91330100716105852F\n".encode())
        inspection = await scoped(Inspection).add(rule="misconduct_report", dedupe_key=f"isolation:{uuid.uuid4()}",
                                                  case=case.id, summary="Not found.", status="open")
        run = await scoped(ClusterRun).add(status="done", groups='[{"label": 0, "case_ids": [], "size": 0}]')
        liaison = await _liaison_rows(user["id"], case.company)
        cadre = await _cadre_rows(user["id"])
        enforcement = await _enforcement_rows(case.company, user["id"])
        dispute = await scoped(Dispute).add(number=f"ISO-{uuid.uuid4().hex[:8]}", title="isolation", debtor=case.company,
                                            referral_key=str(uuid.uuid4()))
        dispute_file = await scoped(DisputeFile).add(referral_key=dispute.referral_key, message_key=str(uuid.uuid4()),
                                                     filename="isolation.pdf", sha256="0" * 64, storage_key="isolation")
        referral = await scoped(Referral).add(key=str(uuid.uuid4()), case=case.id, court="luqiao-court")
        approvals = await _approvals_rows(case.company)
        redispatch = {"batch_id": (await scoped(RedispatchBatch).add(
            key=f"isolation-{uuid.uuid4().hex}", reason="isolation", created_by=user["id"])).id}
    return {"run_id": run.id, "job_id": job.id, "token_id": token["id"], "notification_id": note["id"], "case_id": case.id, "attachment_id": attachment.id,
            "inspection_id": inspection.id, **liaison, **cadre, **enforcement, "dispute_id": dispute.id, "referral_id": referral.id, "file_id": dispute_file.id, **approvals, **redispatch,
            "request_ref": f"{case.id}.json", "token_ref": f"{case.number}.xml",
            "case_before": before}


async def _cadre_rows(user_id: int) -> dict:
    """A cadre file, a campaign and a fault-tolerance application of luqiao (the cadre plugin)."""
    cadre = await scoped(Cadre).objects().where(Cadre.user == user_id).first() or await scoped(Cadre).add(user=user_id)
    campaign = await scoped(CadreCampaign).add(title="isolation", period_start=today(), period_end=today())
    application = await scoped(CadreApplication).add(cadre=cadre.id, mistake="isolation")
    publicity = await scoped(CadrePublicity).add(kind="exemption", application=application.id, subject="exempted",
                                                 person="isolation", starts_on=today(),
                                                 ends_on=today() + timedelta(days=30), status="open")
    objection = await scoped(CadreObjection).add(publicity=publicity.id, contact="isolation", text="isolation")
    return {"cadre_id": cadre.id, "campaign_id": campaign.id, "application_id": application.id,
            "publicity_id": publicity.id, "objection_id": objection.id}


async def _enforcement_rows(company_id: int, user_id: int) -> dict:
    """An inspection of a company, a finding and a list item of luqiao (the enforcement plugin)."""
    dept = await scoped(Department).select(Department.id).first()
    item = await scoped(EnforcementItem).add(kind="no_penalty", code=f"ISO-{uuid.uuid4().hex[:8]}", title="isolation",
                                             legal_basis="isolation")
    inspection = await scoped(CompanyInspection).add(department=dept["id"], company=company_id, legal_basis="isolation",
                                                     planned_on=today(), inspectors="isolation", registered_by=user_id)
    finding = await scoped(EnforcementFinding).add(inspection=inspection.id, company=company_id, description="isolation",
                                                   outcome="penalised", penalty_fen=100, recorded_by=user_id)
    return {"company_inspection_id": inspection.id, "finding_id": finding.id, "item_id": item.id}


async def _approvals_rows(company_id: int) -> dict:
    """A project, an application, a bundle and a bundle's application of luqiao (the approvals plugin)."""
    item = await scoped(ApprovalItem).objects().first()
    project = await scoped(Project).add(name="isolation", company=company_id)
    bundle = await scoped(Bundle).add(code=f"iso{uuid.uuid4().hex[:8]}", name_zh="isolation", items=f"[{item.id}]")
    bundle_filing = await scoped(BundleFiling).add(bundle=bundle.id, company=company_id, submitted_on=today())
    filing = await scoped(ApprovalFiling).add(item=item.id, company=company_id, project=project.id,
                                              submitted_on=today(), due_on=today())
    return {"project_id": project.id, "filing_id": filing.id, "bundle_id": bundle.id,
            "bundle_filing_id": bundle_filing.id}


async def _liaison_rows(user_id: int, company_id: int) -> dict:
    """One row of each liaison resource owned by luqiao."""
    need = await scoped(Need).add(company=company_id, title="isolation", status="open")
    visit = await scoped(Visit).add(company=company_id, assistant=user_id, visited_on=today())
    follow_up = await scoped(FollowUp).add(visit=visit.id, company=company_id, assistant=user_id, text="isolation",
                                           due_on=today())
    salon = await scoped(Salon).add(topic="isolation", held_on=today())
    expert = await scoped(Person).add(kind="lead", name="isolation", user=user_id, fields="investment")
    consultation = await scoped(Consultation).add(company=company_id, field="investment", question="isolation",
                                                  expert=expert.id, due_on=today())
    message = await scoped(Message).add(company=company_id, sender=user_id, body="isolation")
    return {"company_id": company_id, "need_id": need.id, "follow_up_id": follow_up.id, "salon_id": salon.id,
            "consultation_id": consultation.id, "message_id": message.id}


async def _request(b: Browser, method: str, url: str, api: bool, token: str):
    if api:
        headers = {"Authorization": f"Bearer {token}"}
        if method in ("POST", "PUT", "PATCH"):
            return await b.client.request(method, url, json={"name": "x"}, headers=headers)
        return await b.client.request(method, url, headers=headers)
    if method == "GET":
        return await b.client.get(url)
    return await b.post(url, {"name": "x"}) if method == "POST" else await b.client.request(method, url)


# (who, where): another district; and a district on one of its own townships, which it reads only
# through the roll-ups of its big screen, never through the township's pages or API.
# A court and a district it serves are tenants of their own: what crosses their link is messages only.
OUTSIDERS = [("jiaojiang", "luqiao"), ("luqiao", "pengjie"), ("luqiao-court", "luqiao"), ("luqiao", "luqiao-court")]


@pytest.mark.parametrize("outsider,target", OUTSIDERS)
async def test_no_route_reaches_another_tenants_resources(app, luqiao_ids, outsider, target):
    b = Browser(app)
    assert (await b.login(f"tenant_admin@{outsider}", outsider)).status_code == 303
    token = await token_for(f"tenant_admin@{outsider}", outsider)
    walked = 0
    for path, method, handler in tenant_routes(app):
        api = bool(handler.opt.get("api"))
        has_ids = any(name in RESOURCES for name, _ in PARAM.findall(path))
        if has_ids and outsider != "luqiao":
            # On its own tenant, with luqiao's ids: not found.
            url = fill(path, outsider, luqiao_ids)
            response = await _request(b, method, url, api, token)
            assert response.status_code == 404, (method, url, response.status_code)
        # On the target's paths with the outsider's session or token: not logged in there, no data.
        url = fill(path, target, luqiao_ids)
        response = await _request(b, method, url, api, token)
        if response.status_code == 200 and handler.opt.get("public"):
            assert f"@{target}" not in response.text and "平台管理员" not in response.text, (method, url)
        elif response.status_code == 200 and not api:
            assert 'name="password"' in response.text, (method, url)
            assert f"tenant_admin@{target}" not in response.text
        else:
            assert response.status_code in (303, 400, 401, 403, 404), (method, url, response.status_code)
        walked += 1
    assert walked >= 10
    # Nothing of luqiao's was changed by the attempts.
    async with in_tenant("luqiao"):
        token_row = await scoped(ApiToken).select().where(ApiToken.id == luqiao_ids["token_id"]).first()
        note = await scoped(Notification).select().where(Notification.id == luqiao_ids["notification_id"]).first()
        case = await scoped(Case).objects().where(Case.id == luqiao_ids["case_id"]).first()
    assert token_row["revoked_at"] is None and note["read_at"] is None
    assert (case.status, case.version, case.escalated) == luqiao_ids["case_before"]


async def test_plugin_routes_answer_404_where_the_plugin_is_off(app, luqiao_ids):
    checked = 0
    for slug, enabled in (("jiaojiang", {"mediation"}), ("pengjie", {"liaison"})):
        b = Browser(app)
        await b.login(f"tenant_admin@{slug}", slug)
        token = await token_for(f"tenant_admin@{slug}", slug)
        for path, method, handler in tenant_routes(app):
            plugin = handler.opt.get("plugin")
            if not plugin or plugin in enabled or not get_plugin_manager().infos[plugin].optional:
                continue
            url = fill(path, slug, luqiao_ids)
            response = await _request(b, method, url, bool(handler.opt.get("api")), token)
            assert response.status_code == 404, (slug, method, url, response.status_code)
            checked += 1
    assert checked >= 5


async def test_a_tenant_reads_only_its_own_rows_through_the_scoped_layer():
    async with in_tenant("jiaojiang") as jiaojiang:
        rows = await scoped(ApiToken).select(ApiToken.tenant_id)
    assert rows and {r["tenant_id"] for r in rows} == {jiaojiang.id}


async def test_open311_keeps_each_jurisdiction_to_itself(app, luqiao_ids):
    """A luqiao request read with jurisdiction_id=jiaojiang is not found there; a jiaojiang key
    cannot file into luqiao."""
    b = Browser(app)
    case_id = luqiao_ids["case_id"]
    assert (await b.client.get(f"/open311/v2/requests/{case_id}.json?jurisdiction_id=luqiao")).status_code == 200
    for url in (f"/open311/v2/requests/{case_id}.json?jurisdiction_id=jiaojiang",
                f"/t/jiaojiang/open311/v2/requests/{case_id}.xml",
                f"/open311/v2/requests.json?jurisdiction_id=jiaojiang&service_request_id={case_id}"):
        response = await b.client.get(url)
        assert response.status_code == 404 or (response.status_code == 200 and response.json() == []), url
    token = await token_for("dispatcher@jiaojiang", "jiaojiang")
    async with in_tenant("luqiao"):
        before = await scoped(Case).count()
    for url, data in (("/open311/v2/requests.json", {"jurisdiction_id": "luqiao"}),
                      ("/t/luqiao/open311/v2/requests.json", {})):
        response = await b.client.post(url, data={**data, "api_key": token, "service_code": "municipal",
                                                  "address_string": "x"})
        assert response.status_code == 403 and response.json()[0]["code"] == 403
    async with in_tenant("luqiao"):
        assert await scoped(Case).count() == before
