"""The tenant admin's catalogue (办理目录): departments with their sections, and case categories
with lead department, co-handling departments and deadline in working days; a notice names the
departments that cannot staff their chain (缺员) and whom to add."""

from __future__ import annotations

import json
import re
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect

from core.cases.inputs import parse
from core.cases.staffing import shortfalls
from core.errors import UserError
from core.tables import Category, Department, Section
from tenants.scope import scoped
from web.rendering import page, requires

Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,50}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class DepartmentForm(msgspec.Struct):
    code: Code
    name_zh: Name
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""


class SectionForm(DepartmentForm):
    department: Code = ""


class CategoryForm(msgspec.Struct):
    code: Code
    name_zh: Name
    lead: Code
    deadline_days: Annotated[int, msgspec.Meta(ge=1, le=365)]
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    co: Annotated[str, msgspec.Meta(max_length=500)] = ""
    active: str = "1"


async def _department_id(code: str) -> int:
    row = await scoped(Department).select(Department.id).where(Department.code == code).first()
    if row is None:
        raise UserError(400, "Unknown department: %(department)s.", code="unknown_department", department=code)
    return row["id"]


async def _upsert(table, match, values: dict) -> None:
    existing = await scoped(table).objects().where(match).first()
    if existing is None:
        await scoped(table).add(**values)
        return
    for key, value in values.items():
        setattr(existing, key, value)
    await existing.save()


class CataloguePages(Controller):
    path = "/t/{tenant:str}/admin/catalogue"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("tenant.admin")]

    @get("/", name="catalogue")
    async def index(self, request: Request) -> object:
        departments = await scoped(Department).select().order_by(Department.id)
        sections = await scoped(Section).select().order_by(Section.id)
        categories = await scoped(Category).select(
            Category.all_columns(), Category.lead_department.code.as_alias("lead_code")).order_by(Category.id)
        for c in categories:
            c["co_codes"] = ", ".join(json.loads(c["co_departments"] or "[]"))
        return page(request, "admin/catalogue.html", departments=departments, sections=sections,
                    categories=categories, shortfalls=[s.as_dict() for s in await shortfalls()])

    def _back(self, request: Request) -> Redirect:
        return Redirect(path=f"{request.scope['state']['tenant_root']}admin/catalogue/", status_code=303)

    @post("/departments", name="catalogue_department")
    async def department(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        form = parse(DepartmentForm, data)
        await _upsert(Department, Department.code == form.code,
                      {"code": form.code, "name_zh": form.name_zh, "name_en": form.name_en})
        return self._back(request)

    @post("/sections", name="catalogue_section")
    async def section(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        form = parse(SectionForm, data)
        dept = await _department_id(form.department)
        await _upsert(Section, (Section.department == dept) & (Section.code == form.code),
                      {"department": dept, "code": form.code, "name_zh": form.name_zh, "name_en": form.name_en})
        return self._back(request)

    @post("/categories", name="catalogue_category")
    async def category(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        form = parse(CategoryForm, data)
        lead = await _department_id(form.lead)
        co = [c for c in re.split(r"[,，\s]+", form.co) if c]
        for code in co:
            await _department_id(code)
        await _upsert(Category, Category.code == form.code, {
            "code": form.code, "name_zh": form.name_zh, "name_en": form.name_en, "lead_department": lead,
            "co_departments": json.dumps(co), "deadline_days": form.deadline_days, "active": form.active == "1"})
        return self._back(request)
