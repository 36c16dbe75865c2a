"""The JSON API for cases, companies, departments, categories and events (`/t/<slug>/api/v1/`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from core.cases import lifecycle, queries, states as S
from core.cases.access import load_visible_case
from core.cases.inputs import CaseStep, NewCase, given
from core.http import requires
from core.prepared import together
from web.api import READ_ERRORS, WRITE_ERRORS
from web.rendering import current_user

# Who may see the big screen's figures (大屏), the index and the policies.
SCREEN = [requires("screen.view")]


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


class SignOffOut(msgspec.Struct):
    level: str
    decision: str
    signer: str | None
    comment: str


class RefusalOut(msgspec.Struct):
    reason: str
    basis: str
    status: str
    signoffs: list[SignOffOut]


class CaseDetail(CaseSummary):
    description: str = ""
    resolution: str = ""
    rating: str = ""
    timeline: list[TimelineEntry] = []
    refusals: list[RefusalOut] = []


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
        refusals=[RefusalOut(reason=r["reason"], basis=r["basis"], status=r["status"],
                             signoffs=[SignOffOut(level=s["level"], decision=s["decision"], signer=s["signer_name"],
                                                  comment=s["comment"]) for s in r["signoffs"]]) for r in refusals],
    )


def filed_detail(user, filed: lifecycle.Filed) -> CaseDetail | None:
    """What `case_detail` would read back for a case just submitted, from what was written: the
    case, its category and company, its one event and no refusals.  None when that is not all
    there is to show (no event in hand, or a column a read would join is set)."""
    from core.i18n import gettext

    case, event = filed.case, filed.event
    if event is None or case.department is not None or case.handler is not None or case.status not in S.STATUS_LABELS:
        return None
    timeline = [] if queries.is_company_view(user) and event.action in queries.INTERNAL_ACTIONS else [
        TimelineEntry(seq=event.seq, action=event.action, actor=user.display_name, role=event.actor_role,
                      reason=event.reason, before=event.before, after=event.after, at=event.created_at)]
    return CaseDetail(
        id=case.id, number=case.number, title=case.title, status=case.status,
        status_label=gettext(S.STATUS_LABELS[case.status]), company=filed.company.name if filed.company else None,
        department=None, category=filed.category.name_zh, handler=None, due_date=case.due_date,
        due_confirmed=bool(case.due_confirmed), escalated=bool(case.escalated), overdue=bool(case.overdue),
        overturned=bool(case.overturned), refused=bool(case.refused_count), version=case.version,
        submitted_at=case.submitted_at, description=case.description, resolution=case.resolution,
        rating=case.rating, timeline=timeline, refusals=[])


class RedispatchIn(msgspec.Struct):
    """A bulk re-dispatch (批量二次交办): the console's filters, one reason, and a key of the
    client's choosing (8–64 letters, digits, `_.:-`): the same key again is the same batch."""

    reason: str
    key: str
    q: str = ""
    status: str = ""
    department: str = ""
    category: str = ""
    overdue: bool = False
    escalated: bool = False
    refused: bool = False
    overturned: bool = False


class SkippedCase(msgspec.Struct):
    id: int
    number: str
    note: str


class RedispatchOut(msgspec.Struct):
    id: int
    status: str  # queued | running | done
    reason: str
    total: int
    processed: int
    redispatched: int
    skipped: int
    created: bool
    skipped_cases: list[SkippedCase]


def redispatch_out(batch: dict, created: bool = False) -> RedispatchOut:
    return RedispatchOut(id=batch["id"], status=batch["status"], reason=batch["reason"], total=batch["total"],
                         processed=batch["processed"], redispatched=batch["redispatched"], skipped=batch["skipped"],
                         created=created, skipped_cases=[SkippedCase(id=c["id"], number=c["number"], note=c["note"])
                                                         for c in batch["skipped_cases"]])


REDISPATCHERS = [requires("case.dispatch", roles=("leader",))]


class CaseApi(Controller):
    path = "/cases"
    tags = ["cases"]

    @post("/redispatch", summary="Re-dispatch the refused cases the filters select, with one reason (批量二次交办); "
                                 "more than 100 run in the background: poll the batch", status_code=202,
          responses=WRITE_ERRORS, guards=REDISPATCHERS)
    async def redispatch(self, request: Request, data: JSONBody[RedispatchIn]) -> RedispatchOut:
        from core.cases import redispatch

        f = queries.CaseFilter(q=data.q, status=data.status, department=data.department, category=data.category,
                               overdue=data.overdue, escalated=data.escalated, refused=data.refused,
                               overturned=data.overturned)
        batch, created = await redispatch.start(current_user(request), f, data.reason, data.key)
        return redispatch_out(batch, created)

    @get("/redispatch/{batch_id:int}", summary="A bulk re-dispatch's progress and the cases it skipped",
         responses=READ_ERRORS, guards=[requires("case.dispatch", "console.view", roles=("leader",))])
    async def redispatch_batch(self, request: Request, batch_id: FromPath[int]) -> RedispatchOut:
        from core.cases import redispatch

        return redispatch_out(await redispatch.visible_view(current_user(request), batch_id))

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

    @post("/", summary="Submit a case (category, title, description, company credit code)", responses=WRITE_ERRORS,
          guards=[requires("case.submit_on_behalf", roles=("company",))])
    async def create(self, request: Request, data: JSONBody[NewCase]) -> CaseDetail:
        user = current_user(request)
        filed = await lifecycle.file_case(user, given(data))
        return filed_detail(user, filed) or await case_detail(user, filed.case.id, filed.case)

    @get("/{case_id:int}", summary="One case with its timeline", responses=READ_ERRORS)
    async def detail(self, request: Request, case_id: FromPath[int]) -> CaseDetail:
        return await case_detail(current_user(request), case_id)

    @post("/{case_id:int}/{step:str}", summary="Take a lifecycle step: dispatch, accept, object, extend, resolve, "
                                                "refuse, sign, send-back, request-review, rule, escalate, rate, "
                                                "reopen, withdraw, merge, decide-objection, decide-extension, "
                                                "schedule-hearing", status_code=200, responses=WRITE_ERRORS)
    async def step(self, request: Request, case_id: FromPath[int], step: FromPath[str],
                   data: JSONBody[CaseStep | None] = None) -> CaseDetail:
        user = current_user(request)
        body = given(data)
        await lifecycle.perform(user, case_id, step, body, body.pop("version", None))
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
         responses=READ_ERRORS, guards=SCREEN, opt={"reads": "replica"})
    async def figures(self, request: Request, area: Annotated[str, QueryParameter(name="scope")] = "") -> dict[str, Any]:
        from core.oversight.levels import payload
        from web.rendering import tenant_of

        return await payload(tenant_of(request), area)

    @get("/index", summary="The 亲清 index: score, sides, every indicator's value, weight and contribution, "
                           "departments and the stored monthly history", responses=READ_ERRORS, guards=SCREEN,
         opt={"reads": "replica"})
    async def qinqing_index(self) -> dict[str, Any]:
        from core.oversight.readings import index_with_history

        return await index_with_history()

    @get("/policies", summary="Policies made from common problems (新政) and how many cases each answers",
         responses=READ_ERRORS, guards=SCREEN)
    async def policy_list(self) -> list[dict[str, Any]]:
        from core.oversight.policies import policies

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
    """A company (市场主体) by its unified social credit code; registered, or updated when known."""

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
        return await queries.companies_for(current_user(request), q, page, per_page)

    @post("/", summary="Register or update a company by its unified social credit code", responses=WRITE_ERRORS,
          guards=[requires("tenant.admin", "case.dispatch")])
    async def create(self, data: JSONBody[CompanyIn]) -> dict[str, Any]:
        from core.cases.companies import register_company

        fields = msgspec.structs.asdict(data)
        company, created = await register_company(fields.pop("credit_code"), fields.pop("name"), **fields)
        return {"id": company.id, "credit_code": company.credit_code, "name": company.name, "created": created}
