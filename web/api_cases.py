"""The JSON API for cases, companies, departments, categories and events (`/t/<slug>/api/v1/`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from core.cases import lifecycle, queries, states as S
from core.cases.access import load_visible_case
from core.cases.search import contains
from core.errors import UserError
from core.paging import window
from core.prepared import together
from tenants.scope import scoped
from web.api import READ_ERRORS, WRITE_ERRORS
from web.rendering import current_user


class CaseSummary(msgspec.Struct):
    id: int
    number: str
    title: str
    status: str
    status_label: str
    company: str | None
    department: str | None
    category: str | None
    handler: str | None
    due_date: date | None
    due_confirmed: bool
    escalated: bool
    overdue: bool
    overturned: bool
    refused: bool
    version: int
    submitted_at: datetime | None


class TimelineEntry(msgspec.Struct):
    seq: int
    action: str
    actor: str | None
    role: str
    reason: str
    before: str
    after: str
    at: datetime


class CaseDetail(CaseSummary):
    description: str = ""
    resolution: str = ""
    rating: str = ""
    timeline: list[TimelineEntry] = []
    refusals: list[dict[str, Any]] = []


class CasePage(msgspec.Struct):
    items: list[CaseSummary]
    total: int
    page: int
    per_page: int


def summary(row: dict) -> CaseSummary:
    from core.i18n import gettext

    return CaseSummary(
        id=row["id"], number=row["number"], title=row["title"], status=row["status"],
        status_label=gettext(S.STATUS_LABELS[row["status"]]), company=row.get("company_name"),
        department=row.get("department_code"), category=row.get("category_name"), handler=row.get("handler_name"),
        due_date=row["due_date"], due_confirmed=bool(row["due_confirmed"]), escalated=bool(row["escalated"]),
        overdue=bool(row["overdue"]), overturned=bool(row["overturned"]), refused=bool(row["refused_count"]),
        version=row["version"], submitted_at=row["submitted_at"],
    )


async def case_detail(user, case_id: int, case=None) -> CaseDetail:
    """`case`: the case already in hand (the one just submitted), so it is not read again."""
    case = case or await load_visible_case(user, case_id)
    company_view = queries.is_company_view(user)
    row, timeline, refusals = await together(queries.case_row(case.id), queries.timeline(case.id, company_view),
                                             queries.refusals_of(case.id, final_only=company_view))
    return CaseDetail(
        **msgspec.structs.asdict(summary(row)), description=case.description, resolution=case.resolution,
        rating=case.rating,
        timeline=[TimelineEntry(seq=e["seq"], action=e["action"], actor=e["actor_name"], role=e["actor_role"],
                                reason=e["reason"], before=e["before"], after=e["after"], at=e["created_at"])
                  for e in timeline],
        refusals=[{"reason": r["reason"], "basis": r["basis"], "status": r["status"],
                   "signoffs": [{"level": s["level"], "decision": s["decision"], "signer": s["signer_name"],
                                 "comment": s["comment"]} for s in r["signoffs"]]} for r in refusals],
    )


class CaseApi(Controller):
    path = "/cases"
    tags = ["cases"]

    @get("/", summary="Cases visible to the caller, with search and filters", responses=READ_ERRORS)
    async def index(self, request: Request, q: FromQuery[str] = "", status: FromQuery[str] = "",
                    department: FromQuery[str] = "", category: FromQuery[str] = "", overdue: FromQuery[bool] = False,
                    escalated: FromQuery[bool] = False, refused: FromQuery[bool] = False,
                    overturned: FromQuery[bool] = False, sort: FromQuery[str] = "newest", page: FromQuery[int] = 1,
                    per_page: FromQuery[int] = 20) -> CasePage:
        f = queries.CaseFilter(q=q, status=status, department=department, category=category, overdue=overdue,
                               escalated=escalated, refused=refused, overturned=overturned, sort=sort, page=page,
                               per_page=per_page)
        rows, total = await queries.list_cases(current_user(request), f)
        return CasePage(items=[summary(r) for r in rows], total=total, page=f.page, per_page=f.per_page)

    @post("/", summary="Submit a case (category, title, description, company credit code)", responses=WRITE_ERRORS)
    async def create(self, request: Request, data: JSONBody[dict[str, Any]]) -> CaseDetail:
        user = current_user(request)
        case = await lifecycle.submit(user, data)
        return await case_detail(user, case.id, case)

    @get("/{case_id:int}", summary="One case with its timeline", responses=READ_ERRORS)
    async def detail(self, request: Request, case_id: FromPath[int]) -> CaseDetail:
        return await case_detail(current_user(request), case_id)

    @post("/{case_id:int}/{step:str}", summary="Take a lifecycle step: dispatch, accept, object, extend, resolve, "
                                                "refuse, sign, send-back, request-review, rule, escalate, rate, "
                                                "reopen, withdraw, merge, decide-objection, decide-extension, "
                                                "schedule-hearing", status_code=200, responses=WRITE_ERRORS)
    async def step(self, request: Request, case_id: FromPath[int], step: FromPath[str],
                   data: JSONBody[dict[str, Any] | None] = None) -> CaseDetail:
        user = current_user(request)
        body = dict(data or {})
        version = body.pop("version", None)
        if version is not None and not isinstance(version, int):
            raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="version")
        await lifecycle.perform(user, case_id, step, body, version)
        return await case_detail(user, case_id)


class ReferenceApi(Controller):
    path = "/"
    tags = ["reference"]

    @get("/departments", summary="The tenant's departments", responses=READ_ERRORS)
    async def departments(self) -> list[dict[str, Any]]:
        return (await queries.choices())["departments"]

    @get("/categories", summary="The dispatch catalogue (办理目录)", responses=READ_ERRORS)
    async def categories(self) -> list[dict[str, Any]]:
        return (await queries.choices())["categories"]

    @get("/figures", summary="The big screen's figures: totals, rates, ranking, months, townships, red flags",
         responses=READ_ERRORS)
    async def figures(self, request: Request, area: Annotated[str, QueryParameter(name="scope")] = "") -> dict[str, Any]:
        from core.oversight.screen import payload
        from web.rendering import tenant_of

        if not current_user(request).can("screen.view"):
            raise UserError(403, "You are not allowed to do this.")
        return await payload(tenant_of(request), area)

    @get("/index", summary="The 亲清 index: score, sides, every indicator's value, weight and contribution, "
                           "departments and the stored monthly history", responses=READ_ERRORS)
    async def qinqing_index(self, request: Request) -> dict[str, Any]:
        from core.oversight.figures import tenant_figures
        from core.oversight.index import compute
        from core.oversight.tables import IndexSnapshot

        if not current_user(request).can("screen.view"):
            raise UserError(403, "You are not allowed to do this.")
        result = await compute(await tenant_figures())
        result["history"] = await scoped(IndexSnapshot).select(
            IndexSnapshot.month, IndexSnapshot.score, IndexSnapshot.closeness, IndexSnapshot.cleanness).where(
            IndexSnapshot.department.is_null()).order_by(IndexSnapshot.month)
        return result

    @get("/policies", summary="Policies made from common problems (新政) and how many cases each answers",
         responses=READ_ERRORS)
    async def policy_list(self, request: Request) -> list[dict[str, Any]]:
        from core.oversight.policies import policies

        if not current_user(request).can("screen.view"):
            raise UserError(403, "You are not allowed to do this.")
        return [{k: p[k] for k in ("id", "title", "status", "department_name", "cases", "adopted_at")}
                for p in await policies()]

    @get("/events", summary="The record of one case (办理记录)", responses=READ_ERRORS)
    async def events(self, request: Request, case: FromQuery[int]) -> list[TimelineEntry]:
        user = current_user(request)
        await load_visible_case(user, case)
        return [TimelineEntry(seq=e["seq"], action=e["action"], actor=e["actor_name"], role=e["actor_role"],
                              reason=e["reason"], before=e["before"], after=e["after"], at=e["created_at"])
                for e in await queries.timeline(case, queries.is_company_view(user))]



class CompanyIn(msgspec.Struct):
    credit_code: str
    name: str
    industry: str = ""
    township: str = ""
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    email: str = ""
    liaison_name: str = ""


class CompanyApi(Controller):
    path = "/companies"
    tags = ["companies"]

    @get("/", summary="Companies (市场主体): all for staff, one's own for a company user", responses=READ_ERRORS)
    async def index(self, request: Request, q: FromQuery[str] = "", page: FromQuery[int] = 1,
                    per_page: FromQuery[int] = 50) -> list[dict[str, Any]]:
        from core.cases.access import company_ids_of
        from core.cases.tables import Company

        user = current_user(request)
        query = scoped(Company).select(Company.id, Company.name, Company.credit_code, Company.industry,
                                       Company.township)
        if not (user.can("case.view_all") or user.can("case.view_dept")):
            query = query.where(Company.id.is_in(await company_ids_of(user.id) or [0]))
        if q:
            query = query.where(contains(Company.name, q[:50]) | (Company.credit_code == q.upper()[:18]))
        page, per_page = window(page, per_page)
        return await query.order_by(Company.id).limit(per_page).offset((page - 1) * per_page)

    @post("/", summary="Register or update a company by its unified social credit code", responses=WRITE_ERRORS)
    async def create(self, request: Request, data: JSONBody[CompanyIn]) -> dict[str, Any]:
        from core.cases.companies import register_company

        user = current_user(request)
        if not (user.can("tenant.admin") or user.can("case.dispatch")):
            raise UserError(403, "You are not allowed to do this.")
        fields = msgspec.structs.asdict(data)
        company, created = await register_company(fields.pop("credit_code"), fields.pop("name"), **fields)
        return {"id": company.id, "credit_code": company.credit_code, "name": company.name, "created": created}
