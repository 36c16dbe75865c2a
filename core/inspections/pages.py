"""Pages of the must-investigate rules (七必查) under ``/t/<slug>/inspections/``: the inspectors'
list and the inspection page with its evidence and handling form (纪检核查, htmx), the tenant admin's
rules page, and the page where a company reports misconduct (吃拿卡要举报)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from core.cases.queries import own_companies_cases
from core.errors import UserError
from core.http import login_required, page, requires, signed_in_user
from core.i18n import N_
from core.inspections import rules, service
from core.inspections.api import detail, file_report, list_inspections, reports_of
from core.inspections.tables import CONCLUSION_LABELS, KIND_LABELS, REPORT_KINDS, STATUS_LABELS, STEP_LABELS

ONLY_COMPANIES = N_("Only a company can report misconduct here.")
LABELS: dict[str, Any] = dict(statuses=STATUS_LABELS, conclusions=CONCLUSION_LABELS, steps=STEP_LABELS, kinds=KIND_LABELS)


def _number(value, default: int) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


def _require(request: Request, permission: str) -> None:
    if not signed_in_user(request).can(permission):
        raise UserError(403, "You are not allowed to do this.")


class InspectionPages(Controller):
    path = "/"
    guards = [login_required]

    @get("/", name="inspections", guards=[requires("inspection.view")])
    async def index(self, request: Request) -> object:
        q = request.query_params
        status = q.get("status", "") if q.get("status", "") in STATUS_LABELS else ""
        rule = q.get("rule", "") if q.get("rule", "") in rules.RULES else ""
        current = _number(q.get("page"), 1)
        rows, total = await list_inspections(status, rule, current, 50)
        return page(request, "inspections/list.html", fragment="inspections/_table.html", rows=rows, total=total,
                    status=status, rule=rule, page_no=current, pages=max(1, -(-total // 50)), rules=rules.RULES,
                    **LABELS)

    @get("/townships", name="inspections_townships", guards=[requires("inspection.view")])
    async def townships(self, request: Request) -> object:
        """The townships' inspections, read-only, where the district granted it (`inspections_townships`)."""
        from core.inspections.townships import granted, township_inspections

        status = request.query_params.get("status", "")
        status = status if status in STATUS_LABELS else ""
        return page(request, "inspections/townships.html", granted=granted(), status=status,
                    townships=await township_inspections(status), rules=rules.RULES, **LABELS)

    @get("/{inspection_id:int}", name="inspection")
    async def detail(self, request: Request, inspection_id: FromPath[int]) -> object:
        return await _inspection_page(request, inspection_id)

    @post("/{inspection_id:int}/{step:str}", name="inspection_step")
    async def step(self, request: Request, inspection_id: FromPath[int], step: FromPath[str],
                   data: URLEncodedBody[dict[str, str]]) -> object:
        form = {k: v for k, v in data.items() if k != "_csrf_token"}
        given_version = form.pop("version", None)
        try:
            version = int(given_version) if given_version else None
        except ValueError:
            raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="version") from None
        await service.handle(signed_in_user(request), inspection_id, step, form, version)
        if request.headers.get("hx-request"):
            return await _inspection_page(request, inspection_id, fragment=True)
        return Redirect(path=f"{request.scope['state']['tenant_root']}inspections/{inspection_id}", status_code=303)

    # -- the tenant admin's rules ------------------------------------------------------------------

    @get("/rules", name="inspection_rules", guards=[requires("inspection.rules")])
    async def rules_page(self, request: Request) -> object:
        saved = request.query_params.get("saved", "")
        return await _rules_page(request, saved=saved if saved in rules.RULES else "")

    @post("/rules", name="inspection_rules_save", guards=[requires("inspection.rules")])
    async def save_rule(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> object:
        key = data.get("rule", "")
        try:
            await service.save_setting(key, data.get("enabled") in ("1", "on", "true"), data)
        except UserError as exc:
            if exc.status_code != 400:
                raise
            return await _rules_page(request, error=exc.message(), failed=key, posted=data, status_code=400)
        return Redirect(path=f"{request.scope['state']['tenant_root']}inspections/rules?saved={key}", status_code=303)

    # -- a company's report of misconduct -------------------------------------------------------------

    @get("/report", name="inspection_report", guards=[requires(roles=("company",), message=ONLY_COMPANIES)])
    async def report_page(self, request: Request) -> object:
        user = signed_in_user(request)
        cases = await own_companies_cases(user.id, limit=100)
        return page(request, "inspections/report.html", cases=cases, report_kinds=REPORT_KINDS,
                    reports=await reports_of(user), sent=request.query_params.get("sent") == "1", **LABELS)

    @post("/report", name="inspection_report_save")
    async def report(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await file_report(signed_in_user(request), {k: v for k, v in data.items() if k != "_csrf_token"})
        return Redirect(path=f"{request.scope['state']['tenant_root']}inspections/report?sent=1", status_code=303)


async def _inspection_page(request: Request, inspection_id: int, fragment: bool = False) -> object:
    row = await detail(inspection_id)  # 404 before 403: another tenant's id is simply not found
    _require(request, "inspection.view")
    context = dict(i=row, rules=rules.RULES, **LABELS)
    return page(request, "inspections/_inspection.html" if fragment else "inspections/detail.html", **context)


async def _rules_page(request: Request, error: str = "", failed: str = "", posted: dict | None = None,
                      saved: str = "", status_code: int = 200) -> object:
    settings = await service.load_settings()
    items = []
    for key, spec in rules.RULES.items():
        setting = settings[key]
        values = {p.name: "、".join(setting.params[p.name]) if p.keywords else setting.params[p.name]
                  for p in spec.params}
        enabled = setting.enabled
        if key == failed and posted is not None:  # show what was typed, with the message
            values = {p.name: posted.get(p.name, "") for p in spec.params}
            enabled = posted.get("enabled") in ("1", "on", "true")
        items.append({"spec": spec, "enabled": enabled, "values": values})
    return page(request, "inspections/rules.html", status_code=status_code, items=items, error=error,
                failed=failed, saved=saved)
