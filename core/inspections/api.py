"""The read side and the JSON API of the must-investigate rules (七必查) at
``/t/<slug>/api/v1/inspections/``: reading inspections (纪检核查) for the inspectors (list, detail,
handling steps) and filing conduct reports (吃拿卡要举报) for companies.  The pages use the same
queries.  Bearer tokens only; other roles get 403 (or 404 for an id that is not this tenant's) and
no data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core.cases.access import company_ids_of
from core.cases.inputs import given, parse
from core.cases.tables import Case
from core.clock import now
from core.errors import UserError
from core.http import READ_ERRORS, WRITE_ERRORS, requires, signed_in_user
from core.i18n import format_params, gettext
from core.inspections import rules, service
from core.inspections.tables import REPORT_KINDS, STATUS_LABELS, ConductReport, Inspection
from core.outbox import enqueue
from core.paging import window
from core.scope import scoped

# -- reading --------------------------------------------------------------------------------------

COLUMNS = (
    Inspection.id, Inspection.rule, Inspection.status, Inspection.conclusion, Inspection.summary, Inspection.params,
    Inspection.opened_at, Inspection.concluded_at, Inspection.version, Inspection.case,
    Inspection.case.number.as_alias("case_number"), Inspection.subject.display_name.as_alias("subject_name"),
    Inspection.department.name_zh.as_alias("department_name"), Inspection.department.name_en.as_alias("department_name_en"),
    Inspection.company.name.as_alias("company_name"),
    Inspection.handled_by.display_name.as_alias("handler_name"),
)


def _decoded(row: dict) -> dict:
    row["params"] = rules.loads(row.get("params"), {})
    if "evidence" in row:
        row["evidence"] = rules.loads(row["evidence"], [])
    return row


async def list_inspections(status: str = "", rule: str = "", page: int = 1, per_page: int = 50) -> tuple[list, int]:
    """Inspections of this tenant, newest first, filtered by status and rule; and their count."""
    query, count = scoped(Inspection).select(*COLUMNS), scoped(Inspection).count()
    if status in STATUS_LABELS:
        query, count = query.where(Inspection.status == status), count.where(Inspection.status == status)
    if rule in rules.RULES:
        query, count = query.where(Inspection.rule == rule), count.where(Inspection.rule == rule)
    page, per_page = window(page, per_page)
    rows = await query.order_by(Inspection.id, ascending=False).limit(per_page).offset((page - 1) * per_page)
    return [_decoded(r) for r in rows], await count


async def inspections_to_export(status: str = "", rule: str = "", limit: int = 100_000) -> list[dict[str, Any]]:
    """The export's rows (导出): number, rule, status, conclusion and opening time of this tenant's
    inspections, newest first, with exactly the given status and rule (when given)."""
    query = scoped(Inspection).select(Inspection.id, Inspection.rule, Inspection.status, Inspection.conclusion,
                                      Inspection.opened_at)
    if status:
        query = query.where(Inspection.status == status)
    if rule:
        query = query.where(Inspection.rule == rule)
    return await query.order_by(Inspection.id, ascending=False).limit(limit)


async def month_counts(month: str) -> dict[str, int]:
    """The inspections opened in `month` (``2026-03``): how many, how many are concluded, how many
    found a violation (the monthly report's lines)."""
    rows = await scoped(Inspection).select(Inspection.status, Inspection.conclusion, Inspection.opened_at)
    in_month = [r for r in rows if str(r["opened_at"])[:7] == month]
    return {"opened": len(in_month), "concluded": sum(1 for r in in_month if r["status"] == "concluded"),
            "violations": sum(1 for r in in_month if r["conclusion"] == "violation")}


async def detail(inspection_id: int) -> dict:
    row = await scoped(Inspection).select(*COLUMNS, Inspection.evidence, Inspection.notes).where(
        Inspection.id == inspection_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    row = _decoded(row)
    report_ids = [e["id"] for e in row["evidence"] if e.get("kind") == "report"]
    row["reports"] = await scoped(ConductReport).select(
        ConductReport.id, ConductReport.kind, ConductReport.description, ConductReport.created_at).where(
        ConductReport.id.is_in(report_ids)) if report_ids else []
    return row


# -- conduct reports (吃拿卡要) --------------------------------------------------------------------

class ReportForm(msgspec.Struct):
    """A conduct report (吃拿卡要举报): what kind, what happened, and optionally which of the company's cases."""

    kind: Literal["favours", "gifts", "obstruction", "other"]  # REPORT_KINDS
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    case: int | None = None


async def file_report(user, data: dict) -> ConductReport:
    """A company reports misconduct, optionally about one of its cases; the rules look at it next."""
    if not user.has_role("company"):
        raise UserError(403, "Only a company can report misconduct here.")
    data = {k: v for k, v in (data or {}).items() if v not in ("", None)}
    form = parse(ReportForm, data)
    if form.kind not in REPORT_KINDS:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="kind")
    companies = await company_ids_of(user.id)
    if not companies:
        raise UserError(400, "Your account is not linked to a company.", code="no_company")
    company = companies[0]
    if form.case is not None:
        case = await scoped(Case).select(Case.company).where(
            (Case.id == form.case) & Case.company.is_in(companies)).first()
        if case is None:
            raise UserError(400, "Choose one of your company's cases.", code="unknown_case")
        company = case["company"]
    report = await scoped(ConductReport).add(case=form.case, company=company, reported_by=user.id, kind=form.kind,
                                             description=form.description, created_at=now())
    await enqueue("inspections_evaluate", case_id=None, report_id=report.id)
    return report


async def reports_of(user) -> list[dict]:
    companies = await company_ids_of(user.id)
    if not companies:
        return []
    return await scoped(ConductReport).select(
        ConductReport.id, ConductReport.kind, ConductReport.created_at, ConductReport.description,
        ConductReport.case.number.as_alias("number")).where(ConductReport.company.is_in(companies)).order_by(
        ConductReport.id, ascending=False).limit(50)


# -- the JSON API -----------------------------------------------------------------------------------

class InspectionOut(msgspec.Struct):
    id: int
    rule: str
    rule_label: str
    status: str
    conclusion: str
    summary: str
    case: int | None
    case_number: str | None
    subject: str | None
    department: str | None
    company: str | None
    handled_by: str | None
    opened_at: datetime | None
    concluded_at: datetime | None
    version: int


class InspectionDetail(InspectionOut):
    evidence: list[dict[str, Any]] = []
    notes: str = ""
    reports: list[dict[str, Any]] = []


class InspectionStep(msgspec.Struct, kw_only=True):
    """An inspector's step: investigate (notes), or conclude (conclusion and notes)."""

    version: int | None = None  # the inspection's version as read; a stale one answers 409
    conclusion: Annotated[str, msgspec.Meta(max_length=50)] | None = None  # no_issue, violation, exempted
    notes: service.Notes | None = None


class InspectionPage(msgspec.Struct):
    items: list[InspectionOut]
    total: int
    page: int
    per_page: int


class ReportOut(msgspec.Struct):
    id: int
    kind: str
    case: int | None
    created_at: datetime | None


def _out(row: dict) -> dict:
    return dict(
        id=row["id"], rule=row["rule"], rule_label=gettext(rules.RULES[row["rule"]].title) if row["rule"] in rules.RULES
        else row["rule"], status=row["status"], conclusion=row["conclusion"],
        summary=format_params(gettext(row["summary"]), row["params"]), case=row["case"],
        case_number=row["case_number"], subject=row["subject_name"], department=row["department_name"],
        company=row["company_name"], handled_by=row["handler_name"], opened_at=row["opened_at"],
        concluded_at=row["concluded_at"], version=row["version"])


def _require(request: Request, permission: str) -> None:
    if not signed_in_user(request).can(permission):
        raise UserError(403, "You are not allowed to do this.")


async def _detail(inspection_id: int, request: Request) -> InspectionDetail:
    row = await detail(inspection_id)  # 404 first: another tenant's id is simply not found
    _require(request, "inspection.view")
    return InspectionDetail(**_out(row), evidence=row["evidence"], notes=row["notes"],
                            reports=[dict(r) for r in row["reports"]])


class InspectionApi(Controller):
    path = "/"
    tags = ["inspections"]

    @get("/", summary="Inspections (纪检核查), newest first; filter by status and rule", responses=READ_ERRORS,
         guards=[requires("inspection.view")])
    async def index(self, status: FromQuery[str] = "", rule: FromQuery[str] = "",
                    page: FromQuery[int] = 1, per_page: FromQuery[int] = 50) -> InspectionPage:
        rows, total = await list_inspections(status, rule, page, per_page)
        page, per_page = window(page, per_page)
        return InspectionPage(items=[InspectionOut(**_out(r)) for r in rows], total=total, page=page, per_page=per_page)

    @get("/{inspection_id:int}", summary="One inspection with its evidence and notes", responses=READ_ERRORS)
    async def detail(self, request: Request, inspection_id: FromPath[int]) -> InspectionDetail:
        return await _detail(inspection_id, request)

    @post("/{inspection_id:int}/{step:str}", status_code=200,
          summary="Handle an inspection: investigate, or conclude (conclusion: no_issue, violation, exempted; notes)",
          responses=WRITE_ERRORS)
    async def step(self, request: Request, inspection_id: FromPath[int], step: FromPath[str],
                   data: JSONBody[InspectionStep | None] = None) -> InspectionDetail:
        body = given(data)
        await service.handle(signed_in_user(request), inspection_id, step, body, body.pop("version", None))
        return await _detail(inspection_id, request)

    @post("/reports", summary="A company reports misconduct (kind: favours, gifts, obstruction, other; "
                              "description; optional case id)", responses=WRITE_ERRORS,
          guards=[requires(roles=("company",))])
    async def report(self, request: Request, data: JSONBody[ReportForm]) -> ReportOut:
        row = await file_report(signed_in_user(request), given(data))
        return ReportOut(id=row.id, kind=row.kind, case=row.case, created_at=row.created_at)
