"""Cadre evaluation and fault tolerance (专项考察 · 容错免责), the `cadre` plugin.

A campaign end to end (evidence sheets equal to an independent count from the case record, scores,
ratings, outcomes, totals, XLSX); fault tolerance to "exempted" (the linked inspection exempted,
the file and the evaluation showing it) and to "refused" (inspection untouched); confidentiality
for every core role and for a cadre outside their own file; 404 where the plugin is off."""

import io
import uuid
from datetime import timedelta

import pytest
from litestar.routes import HTTPRoute
from openpyxl import load_workbook

from core.cases import states as S
from core.cases.tables import Case, Refusal, Review
from core.clock import local_date, today
from core.inspections.tables import Inspection
from core.tables import Department, User
from core.workdays import load_calendar
from plugins.cadre.tables import Campaign, Publicity
from tenants.onboarding import ensure_membership, ensure_user
from tenants.scope import scoped
from tests.cases_helpers import ROLES, Api
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, token_for

WIDE = {"period_start": "2000-01-01", "period_end": "2100-12-31"}


@pytest.fixture
def api(app):
    return Api(app)


async def user_id(username: str) -> int:
    return (await User.select(User.id).where(User.username == username).first())["id"]


async def staff_user(roles=("handler",)) -> tuple[str, int]:
    username = f"c{uuid.uuid4().hex[:8]}@luqiao"
    async with in_tenant("luqiao"):
        dept = (await scoped(Department).select(Department.id).where(Department.code == "zgj").first())["id"]
        uid, _ = await ensure_user(username, "干部" + username[:5], DEMO_PASSWORD)
        for role in roles:
            await ensure_membership(uid, role, dept if role == "handler" else None, None)
    return username, uid


async def cad(api: Api, role: str, method: str, path: str, json=None, expect: int | None = 200):
    response = await api.call(role, method, f"cadre/{path}", json)
    if expect is not None:
        assert response.status_code == expect, (role, method, path, response.status_code, response.text)
    return response.json() if response.status_code < 300 else response


async def independent_count(uid: int) -> dict:
    """The evidence counted straight from the case tables, without the plugin's code."""
    async with in_tenant("luqiao"):
        mine = (Case.handler == uid) & (Case.status != S.MERGED)
        closed = await scoped(Case).select(Case.submitted_at, Case.closed_at).where(mine & (Case.status == S.CLOSED))
        calendar = await load_calendar()
        days = [max(0, calendar.working_days_between(local_date(c["submitted_at"]), local_date(c["closed_at"])))
                for c in closed if c["closed_at"]]
        rated = await scoped(Case).count().where(mine & (Case.rating != ""))
        satisfied = await scoped(Case).count().where(mine & Case.rating.is_in(["satisfied", "basically_satisfied"]))
        ruled = (Review.refusal.filed_by == uid) & (Review.status == "ruled")
        findings = await scoped(Inspection).select(Inspection.conclusion).where(Inspection.subject == uid)
        exempted = sum(1 for f in findings if f["conclusion"] == "exempted")
        no_issue = sum(1 for f in findings if f["conclusion"] == "no_issue")
        return {
            "handled": await scoped(Case).count().where(mine),
            "on_time": await scoped(Case).count().where(mine & (Case.status == S.CLOSED) & (Case.overdue == False)),  # noqa: E712
            "avg_days": round(sum(days) / len(days), 2) if days else None,
            "refusals": await scoped(Refusal).count().where(Refusal.filed_by == uid),
            "upheld": await scoped(Review).count().where(ruled & (Review.verdict == "upheld")),
            "overturned": await scoped(Review).count().where(ruled & (Review.verdict == "overturned")),
            "rated": rated, "satisfied": satisfied, "satisfaction": round(satisfied / rated, 4) if rated else None,
            "escalated": await scoped(Case).count().where(mine & (Case.escalated == True)),  # noqa: E712
            "findings": len(findings), "findings_exempted": exempted, "findings_no_issue": no_issue,
            "findings_against": len(findings) - exempted - no_issue,
        }


async def work_cases(app) -> tuple[str, int]:
    """A fresh handler who resolves a rated case, has a refusal overturned and a case escalated."""
    username, uid = await staff_user()
    api = Api(app)
    api.tokens["handler"] = await token_for(username, "luqiao")
    case = await api.resolved()
    await api.step("company", case["id"], "rate", {"rating": "satisfied", "comment": "好"})
    case = await api.under_review(hearing=True)
    await api.step("reviewer", case["id"], "rule", {"verdict": "overturned", "reason": "非企业原因"})
    case = await api.in_progress()
    await api.step("dispatcher", case["id"], "escalate", {"reason": "久拖不决"})
    return username, uid


async def open_inspection(subject: int) -> int:
    async with in_tenant("luqiao"):
        row = await scoped(Inspection).add(rule="misconduct_report", dedupe_key=f"cadre-test:{uuid.uuid4()}",
                                           subject=subject, summary="Not found.", status="open")
    return row.id


async def inspection(iid: int) -> dict:
    async with in_tenant("luqiao"):
        return await scoped(Inspection).select().where(Inspection.id == iid).first()


async def test_a_campaign_runs_end_to_end(app, api):
    username, uid = await work_cases(app)
    handler_uid = await user_id("handler@luqiao")
    first = await cad(api, "cadre_org", "POST", "cadres", {"user": uid, "post": "科员", "rank": "四级主任科员"}, 201)
    cadres = {c["user"]: c["id"] for c in await cad(api, "cadre_org", "GET", "cadres")}
    second = cadres[handler_uid]
    evaluator = await user_id("cadre_evaluator@luqiao")
    campaign = await cad(api, "cadre_org", "POST", "campaigns", {
        "title": "营商环境专项考察" + uuid.uuid4().hex[:4], "theme": "营商环境", **WIDE,
        "cadres": [first["id"], second], "evaluators": [evaluator]}, 201)
    cid = campaign["campaign"]["id"]
    # The evidence sheets equal an independent count from the case record.
    sheets = {s["cadre"]: s for s in campaign["sheets"]}
    for cadre_id, person in ((first["id"], uid), (second, handler_uid)):
        expected = await independent_count(person)
        assert {k: sheets[cadre_id]["evidence"][k] for k in expected} == expected, cadre_id
    mine = sheets[first["id"]]["evidence"]
    assert mine["refusals"] == 1 and mine["overturned"] == 1 and mine["escalated"] == 1 and mine["satisfied"] == 1
    assert sheets[second]["evidence"]["handled"] > 0
    # Scores: the evaluator only; then ratings (suggested from the average), outcomes with reasons.
    high = {"service": 95, "efficiency": 92, "integrity": 90, "initiative": 91}
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/score", {"cadre": first["id"], "scores": high}, 403)
    await cad(api, "cadre_evaluator", "POST", f"campaigns/{cid}/score",
              {"cadre": first["id"], "scores": high, "comment": "主动服务"})
    await cad(api, "cadre_evaluator", "POST", f"campaigns/{cid}/score",
              {"cadre": second, "scores": {k: 65 for k in high}, "comment": "一般"})
    await cad(api, "cadre_evaluator", "POST", f"campaigns/{cid}/score", {"cadre": second, "scores": {"service": 101}},
              400)
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/outcome",
              {"cadre": first["id"], "outcome": "promoted", "reason": "x"}, 409)
    await cad(api, "cadre_evaluator", "POST", f"campaigns/{cid}/rate", {"cadre": first["id"]}, 403)
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/rate", {"cadre": first["id"]})
    detail = await cad(api, "cadre_org", "POST", f"campaigns/{cid}/rate", {"cadre": second})
    ratings = {s["cadre"]: s["rating"] for s in detail["sheets"]}
    assert ratings == {first["id"]: "excellent", second: "average"}
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/outcome", {"cadre": first["id"], "outcome": "promoted"}, 400)
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/outcome",
              {"cadre": first["id"], "outcome": "promoted", "reason": "考察优秀，提拔重用"})
    detail = await cad(api, "cadre_org", "POST", f"campaigns/{cid}/outcome",
                       {"cadre": second, "outcome": "suitable", "reason": "营商环境考察一般，适岗安置"})
    totals = detail["totals"]
    assert totals["outcomes"]["promoted"] == 1 and totals["outcomes"]["suitable"] == 1
    assert sum(totals["outcomes"].values()) == 2 and totals["by_rating"]["average"] == {"suitable": 1}
    # The board, the campaign page, the file and the export (XLSX) for the organization department.
    b = Browser(app)
    await b.login("cadre_org@luqiao", "luqiao")
    assert campaign["campaign"]["title"] in (await b.get("/t/luqiao/cadre/")).text
    assert "考察优秀，提拔重用" in (await b.get(f"/t/luqiao/cadre/campaigns/{cid}")).text
    assert "考察优秀，提拔重用" in (await b.get(f"/t/luqiao/cadre/cadres/{first['id']}")).text
    xlsx = await b.get(f"/t/luqiao/cadre/campaigns/{cid}/export.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 3 and any(r[0] == "干部" + username[:5] for r in rows[1:])
    outcome_rows = list(book.worksheets[1].iter_rows(values_only=True))
    assert sum(r[1] for r in outcome_rows[1:]) == 2
    assert 'data-widget="cadre"' in (await b.get("/t/luqiao/")).text
    # Closing freezes it.
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/close")
    await cad(api, "cadre_org", "POST", f"campaigns/{cid}/generate", None, 409)


async def test_fault_tolerance_exempts_the_inspection_and_a_refusal_leaves_it(app, api):
    username, uid = await staff_user(("handler", "cadre"))
    cadre = await cad(api, "cadre_org", "POST", "cadres", {"user": uid, "post": "副科长"}, 201)
    first, second = await open_inspection(uid), await open_inspection(uid)
    campaign = await cad(api, "cadre_org", "POST", "campaigns", {"title": "容错测试考察", **WIDE,
                                                                "cadres": [cadre["id"]]}, 201)
    assert campaign["sheets"][0]["evidence"]["findings_against"] == 2
    own = Api(app)
    own.tokens["cadre"] = await token_for(username, "luqiao")
    # The cadre applies, linking the inspection; the organization department verifies and decides.
    app_row = await cad(own, "cadre", "POST", "applications",
                        {"inspection": first, "mistake": "为企业容缺办理时材料审核不严", "circumstances": "试点探索"}, 201)
    aid = app_row["id"]
    await cad(own, "cadre", "POST", f"applications/{aid}/verify", {}, 403)
    await cad(api, "cadre_org", "POST", f"applications/{aid}/decide", {"decision": "exempted", "reason": "x"}, 409)
    checks = {k: {"met": True, "note": "核实"} for k in ("inexperience", "unforbidden", "no_private_gain", "lawful",
                                                      "reform", "diligent", "no_benefit", "procedure", "corrected")}
    await cad(api, "cadre_org", "POST", f"applications/{aid}/verify", {"checks": checks})
    decided = await cad(api, "cadre_org", "POST", f"applications/{aid}/decide",
                        {"decision": "exempted", "reason": "符合三个区分开来，予以免责"})
    assert decided["status"] == "publicity" and decided["decision"] == "exempted"
    # In publicity (公示) the inspection is not exempted yet: the decision takes effect at its end.
    assert (await inspection(first))["conclusion"] != "exempted"
    await cad(api, "cadre_org", "POST", f"applications/{aid}/finalize", {}, 409)
    async with in_tenant("luqiao"):
        await scoped(Publicity).update({Publicity.ends_on: today() - timedelta(days=1)}).where(
            Publicity.application == aid)
    assert (await cad(api, "cadre_org", "POST", f"applications/{aid}/finalize"))["status"] == "final"
    row = await inspection(first)
    assert row["status"] == "concluded" and row["conclusion"] == "exempted"
    # The file shows it; the open evaluation takes it into account.
    file = await cad(own, "cadre", "GET", f"cadres/{cadre['id']}")
    assert [a["decision"] for a in file["applications"]] == ["exempted"]
    evidence = file["evaluations"][0]["evidence"]
    assert evidence["findings_exempted"] == 1 and evidence["findings_against"] == 1
    # Filed for the department, verified with a criterion unmet: no exemption; refused leaves it untouched.
    other = await cad(api, "cadre_org", "POST", "applications",
                      {"cadre": cadre["id"], "inspection": second, "mistake": "为谋私利违规审批"}, 201)
    assert other["by_department"] is True
    await cad(api, "cadre_org", "POST", f"applications/{other['id']}/verify",
              {"checks": {**checks, "no_benefit": {"met": False, "note": "有私利"}}})
    await cad(api, "cadre_org", "POST", f"applications/{other['id']}/decide",
              {"decision": "exempted", "reason": "x"}, 409)
    await cad(api, "cadre_org", "POST", f"applications/{other['id']}/decide",
              {"decision": "refused", "reason": "不符合容错情形"})
    row = await inspection(second)
    assert row["status"] == "open" and row["conclusion"] == ""
    # The cadre sees their own applications only, and can't apply for another cadre.
    mine = await cad(own, "cadre", "GET", "applications")
    assert {a["id"] for a in mine} == {aid, other["id"]}
    await cad(own, "cadre", "POST", "applications", {"cadre": cadre["id"] + 100000, "inspection": first,
                                                     "mistake": "x"}, 403)


async def test_a_cadre_sees_only_their_own_file(app, api):
    username, uid = await staff_user(("handler", "cadre"))
    mine = await cad(api, "cadre_org", "POST", "cadres", {"user": uid, "post": "科员"}, 201)
    others = [c for c in await cad(api, "cadre_org", "GET", "cadres") if c["id"] != mine["id"]]
    campaign = (await cad(api, "cadre_org", "GET", "campaigns"))[0]
    own = Api(app)
    own.tokens["cadre"] = await token_for(username, "luqiao")
    assert (await cad(own, "cadre", "GET", f"cadres/{mine['id']}"))["cadre"]["id"] == mine["id"]
    for path in (f"cadres/{others[0]['id']}", "cadres", "campaigns", f"campaigns/{campaign['id']}"):
        response = await cad(own, "cadre", "GET", path, expect=None)
        assert response.status_code in (403, 404) and others[0]["name"] not in response.text, path
    b = Browser(app)
    await b.login(username, "luqiao")
    home = await b.get("/t/luqiao/cadre/", follow_redirects=True)
    assert home.status_code == 200 and f'data-cadre="{mine["id"]}"' in home.text
    other_page = await b.get(f"/t/luqiao/cadre/cadres/{others[0]['id']}")
    assert other_page.status_code == 403 and others[0]["name"] not in other_page.text
    assert (await b.get(f"/t/luqiao/cadre/campaigns/{campaign['id']}")).status_code == 403


def cadre_routes(app):
    for route in app.app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/t/{tenant"):
            for method, (handler, _) in route.route_handler_map.items():
                if method not in ("HEAD", "OPTIONS") and handler.opt.get("plugin") == "cadre":
                    yield route.path, method, bool(handler.opt.get("api"))


def fill(path: str, slug: str, ids: dict) -> str:
    path = path.replace("{tenant:str}", slug).replace("{step:str}", "decide")
    for name, value in ids.items():
        path = path.replace("{%s:int}" % name, str(value))
    return path


async def test_every_cadre_route_refuses_every_other_role(app, api):
    cadres = await cad(api, "cadre_org", "GET", "cadres")
    target = cadres[0]
    campaign = (await cad(api, "cadre_org", "GET", "campaigns"))[0]
    iid = await open_inspection(target["user"])
    application = await cad(api, "cadre_org", "POST", "applications",
                            {"cadre": target["id"], "inspection": iid, "mistake": "机密申请事项"}, 201)
    ids = {"cadre_id": target["id"], "campaign_id": campaign["id"], "application_id": application["id"]}
    routes = list(cadre_routes(app))
    assert len(routes) >= 10
    secrets = ("机密申请事项", campaign["title"], '"evidence"')
    for role in ROLES:
        b = Browser(app)
        assert (await b.login(f"{role}@luqiao", "luqiao")).status_code == 303, role
        for path, method, is_api in routes:
            url = fill(path, "luqiao", ids)
            if is_api:
                response = await api.client.request(method, url, headers={
                    "Authorization": f"Bearer {await api.token(role)}"}, **({"json": {"decision": "exempted",
                                                                                      "reason": "x"}}
                                                                            if method == "POST" else {}))
            elif method == "GET":
                response = await b.get(url)
            else:
                response = await b.post(url, {"decision": "exempted", "reason": "x", "title": "x"})
            assert response.status_code in (403, 404), (role, method, url, response.status_code)
            assert not any(s in response.text for s in secrets), (role, method, url)
        assert 'data-widget="cadre"' not in (await b.get("/t/luqiao/")).text
    assert (await inspection(iid))["conclusion"] == ""


async def test_routes_answer_404_where_the_plugin_is_off(app):
    b = Browser(app)
    await b.login("tenant_admin@jiaojiang", "jiaojiang")
    token = await token_for("tenant_admin@jiaojiang", "jiaojiang")
    ids = {"cadre_id": 1, "campaign_id": 1, "application_id": 1}
    for path, method, is_api in cadre_routes(app):
        url = fill(path, "jiaojiang", ids)
        if is_api:
            response = await b.client.request(method, url, headers={"Authorization": f"Bearer {token}"})
        else:
            response = await (b.get(url) if method == "GET" else b.post(url, {}))
        assert response.status_code == 404, (method, url, response.status_code)


async def test_demo_data_is_idempotent():
    from plugins.cadre.demo import load_demo

    async with in_tenant("luqiao"):
        before = await scoped(Campaign).count()
        await load_demo()
        assert await scoped(Campaign).count() == before >= 1


async def test_the_pages_drive_a_campaign_and_an_application(app, api):
    username, uid = await staff_user(("handler", "cadre"))
    iid = await open_inspection(uid)
    b = Browser(app)
    await b.login("cadre_org@luqiao", "luqiao")
    assert (await b.post("/t/luqiao/cadre/cadres", {"user": str(uid), "post": "科员", "rank": "一级科员"})).status_code == 303
    cadre_id = next(c["id"] for c in await cad(api, "cadre_org", "GET", "cadres") if c["user"] == uid)
    for path in ("", "cadres", "applications", f"cadres/{cadre_id}"):
        assert (await b.get(f"/t/luqiao/cadre/{path}")).status_code == 200, path
    created = await b.post("/t/luqiao/cadre/campaigns", {"title": "页面考察", "theme": "营商环境", **WIDE,
                                                         "cadres": [str(cadre_id)],
                                                         "evaluators": [str(await user_id("cadre_evaluator@luqiao"))]})
    assert created.status_code == 303
    campaign_url = created.headers["location"]
    page = await b.get(campaign_url)
    assert page.status_code == 200 and f'data-cadre="{cadre_id}"' in page.text and 'name="outcome"' in page.text
    # The cadre applies on the docket page; the organization department verifies and decides there.
    own = Browser(app)
    await own.login(username, "luqiao")
    assert "机关" not in (await own.get("/t/luqiao/cadre/applications")).text
    applied = await own.post("/t/luqiao/cadre/applications", {"inspection": str(iid), "mistake": "页面申请事项"})
    assert applied.status_code == 303
    url = applied.headers["location"]
    assert (await own.get(url)).status_code == 200
    form = {f"met_{k}": "1" for k in ("inexperience", "unforbidden", "no_private_gain", "lawful", "reform",
                                      "diligent", "no_benefit", "procedure", "corrected")}
    assert (await b.post(f"{url}/verify", {**form, "version": "0"})).status_code == 303
    assert (await b.post(f"{url}/decide", {"decision": "exempted", "reason": "予以免责", "version": "0"})).status_code == 409
    assert (await b.post(f"{url}/decide", {"decision": "exempted", "reason": "予以免责", "version": "1"})).status_code == 303
    assert (await inspection(iid))["conclusion"] != "exempted"  # only when the publicity ends
    assert 'data-publicity-status="open"' in (await b.get(url)).text
    assert "予以免责" in (await own.get(f"/t/luqiao/cadre/cadres/{cadre_id}")).text
    b.client.cookies.set("locale", "en")
    assert (await b.get(url)).status_code == 200
