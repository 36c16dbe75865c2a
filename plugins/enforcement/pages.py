"""Pages of the enforcement module under ``/t/<slug>/enforcement/``: the inspections (an
officer's registration form, the department head's sign-off queue, a company's announced
inspections and outcomes), an inspection with its warning, joint inspection and findings, the
lists (清单) kept by the tenant admin, the figures, and the XLSX export."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Response

from core.sdk import (
    Company,
    Department,
    current_user,
    page,
    scoped,
    today,
    upload_limit,
    uploaded_file,
)
from plugins.enforcement import findings, inspections, lists, views
from plugins.enforcement.access import ADMINS, OFFICERS, READERS, STAFF, invalid, is_staff, own_companies
from plugins.enforcement.export import XLSX, export_xlsx
from plugins.enforcement.labels import LABELS


def _root(request: Request) -> str:
    return f"{request.scope['state']['tenant_root']}enforcement/"


def _back(request: Request, path: str = "") -> Redirect:
    return Redirect(path=f"{_root(request)}{path}", status_code=303)


def _form(data: dict) -> dict:
    """Form fields as the domain takes them: no CSRF token, blank fields left out, yuan as fen."""
    out: dict[str, Any] = {k: v for k, v in data.items() if k != "_csrf_token" and v != ""}
    if "penalty_yuan" in out:
        try:
            out["penalty_fen"] = int((Decimal(out.pop("penalty_yuan")) * 100).to_integral_value())
        except (InvalidOperation, ValueError):
            raise invalid("penalty_yuan") from None
    if "list_item" in out:
        try:
            out["list_item"] = int(out["list_item"])
        except ValueError:
            raise invalid("list_item") from None
    if "active" in out:
        out["active"] = out["active"] in ("1", "on", "true")
    return out


async def _choices(user) -> dict:
    departments = await scoped(Department).select(Department.id, Department.code, Department.name_zh,
                                                  Department.name_en).order_by(Department.id)
    mine = [d for d in departments if d["id"] in user.department_ids] if user.can("enforcement.inspect") else []
    companies = await scoped(Company).select(Company.credit_code, Company.name).order_by(Company.name).limit(500) \
        if mine else []
    return {"departments": departments, "my_departments": mine, "companies": companies}


class EnforcementPages(Controller):
    path = "/"
    guards = [READERS]

    @get("/", name="enforcement_home")
    async def home(self, request: Request) -> object:
        user = current_user(request)
        companies = await own_companies(user)
        signoffs = []
        if user.has_role("dept_head") and user.department_ids:
            signoffs = await findings.list_for(None, "awaiting_signoff", user.department_ids)
        outcomes = await findings.list_for(companies) if companies is not None else []
        return page(request, "enforcement/index.html", rows=await inspections.list_for(user), signoffs=signoffs,
                    company_view=companies is not None, company_findings=outcomes, today=today(),
                    window=inspections.window_days(), **await _choices(user), **LABELS)

    @post("/inspections", name="enforcement_register", guards=[OFFICERS])
    async def register(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        row = await inspections.register(current_user(request), _form(data))
        return _back(request, f"inspections/{row.id}")

    @get("/inspections/{company_inspection_id:int}", name="enforcement_inspection")
    async def inspection(self, request: Request, company_inspection_id: FromPath[int]) -> object:
        user = current_user(request)
        d = await views.inspection_detail(user, company_inspection_id)
        officer = user.can("enforcement.inspect") and d["department"] in user.department_ids
        head = user.has_role("dept_head") and d["department"] in user.department_ids
        return page(request, "enforcement/inspection.html", d=d, officer=officer, head=head, today=today(),
                    company_view=not is_staff(user), items=await lists.items(active_only=True) if officer else [],
                    **LABELS)

    @post("/inspections/{company_inspection_id:int}/findings", name="enforcement_record")
    async def record(self, request: Request, company_inspection_id: FromPath[int],
                     data: URLEncodedBody[dict[str, str]]) -> Redirect:
        user = current_user(request)
        await inspections.visible(user, company_inspection_id)
        await findings.record(user, company_inspection_id, _form(data))
        return _back(request, f"inspections/{company_inspection_id}")

    @post("/inspections/{company_inspection_id:int}/{step:str}", name="enforcement_inspection_step")
    async def inspection_step(self, request: Request, company_inspection_id: FromPath[int], step: FromPath[str],
                              data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await inspections.step(current_user(request), company_inspection_id, step, _form(data))
        return _back(request, f"inspections/{company_inspection_id}")

    @post("/findings/{finding_id:int}/{step:str}", name="enforcement_finding_step")
    async def finding_step(self, request: Request, finding_id: FromPath[int], step: FromPath[str],
                           data: URLEncodedBody[dict[str, str]]) -> Redirect:
        row = await findings.step(current_user(request), finding_id, step, _form(data))
        if step == "contest" and row.contest_case:
            return Redirect(path=f"{request.scope['state']['tenant_root']}cases/{row.contest_case}", status_code=303)
        return _back(request, f"inspections/{row.inspection}")

    @get("/lists", name="enforcement_lists")
    async def list_page(self, request: Request) -> object:
        user = current_user(request)
        departments = await scoped(Department).select(Department.code, Department.name_zh, Department.name_en)
        return page(request, "enforcement/lists.html", items=await lists.items(), departments=departments,
                    admin=user.can("tenant.admin"), **LABELS)

    @post("/lists", name="enforcement_list_add", guards=[ADMINS])
    async def list_add(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await lists.save(current_user(request), _form(data))
        return _back(request, "lists")

    @post("/lists/{item_id:int}", name="enforcement_list_edit", guards=[ADMINS])
    async def list_edit(self, request: Request, item_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await lists.get(item_id)
        fields = _form(data)
        fields.setdefault("active", False)
        await lists.save(current_user(request), fields, item_id)
        return _back(request, "lists")

    @post("/lists/import", name="enforcement_list_import", guards=[ADMINS], **upload_limit(lists.MAX_BYTES))
    async def list_import(self, request: Request, data: MultipartBody[dict[str, Any]]) -> Redirect:
        upload = uploaded_file(data)
        await lists.import_file(current_user(request), await upload.read())
        return _back(request, "lists")

    @get("/figures", name="enforcement_figures", guards=[STAFF])
    async def figures(self, request: Request) -> object:
        return page(request, "enforcement/figures.html", f=await views.figures(), **LABELS)

    @get("/export.xlsx", name="enforcement_export", guards=[STAFF])
    async def export(self, request: Request) -> Response:
        return Response(await export_xlsx(), media_type=XLSX,
                        headers={"Content-Disposition": 'attachment; filename="enforcement.xlsx"'})
